SELECT
  customer_orders.customer_id AS customer_id,
  customer_orders.country AS country,
  customer_orders.completed_orders AS completed_orders,
  customer_orders.revenue AS revenue,
  customer_orders.revenue - customer_orders.refunded AS net_revenue,
  CASE
    WHEN customer_orders.completed_orders = 0
    THEN 0
    ELSE (
      SIGN(
        CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
      ) * (
        FLOOR(
          ABS(
            CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
          ) * 100
        ) + CASE SIGN(
            ABS(
              CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
            ) * 100 - FLOOR(
              ABS(
                CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
              ) * 100
            ) - 0.5
          )
          WHEN 1
          THEN 1
          WHEN 0
          THEN CASE
            WHEN (
              (
                134217729 * ABS(
                  CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
                ) - (
                  134217729 * ABS(
                    CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
                  ) - ABS(
                    CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
                  )
                )
              ) * 100 - ABS(
                CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
              ) * 100
            ) + (
              ABS(
                CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
              ) - (
                134217729 * ABS(
                  CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
                ) - (
                  134217729 * ABS(
                    CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
                  ) - ABS(
                    CAST(CAST(customer_orders.revenue AS DOUBLE) / CAST(customer_orders.completed_orders AS DOUBLE) AS DOUBLE)
                  )
                )
              )
            ) * 100 >= 0
            THEN 1
            ELSE 0
          END
          ELSE 0
        END
      ) / 100
    )
  END AS avg_order_value,
  DATEDIFF(
    DAY,
    DATE_TRUNC('DAY', CAST(CAST(customer_orders.first_order_at AS DATE) AS TIMESTAMP)),
    DATE_TRUNC('DAY', CAST(CAST(customer_orders.last_order_at AS DATE) AS TIMESTAMP))
  ) AS active_days,
  RANK() OVER (
    PARTITION BY customer_orders.country
    ORDER BY customer_orders.revenue - customer_orders.refunded DESC, customer_orders.customer_id NULLS LAST
  ) AS rank_in_country,
  CASE
    WHEN customer_orders.revenue - customer_orders.refunded >= 500
    THEN 'gold'
    WHEN customer_orders.revenue - customer_orders.refunded >= 150
    THEN 'silver'
    ELSE 'bronze'
  END AS tier
FROM data_analyst.customer_orders AS customer_orders
