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
        CAST(CAST(customer_orders.revenue AS DOUBLE PRECISION) / CAST(customer_orders.completed_orders AS DOUBLE PRECISION) AS DOUBLE PRECISION)
      ) * (
        FLOOR(
          ABS(
            CAST(CAST(customer_orders.revenue AS DOUBLE PRECISION) / CAST(customer_orders.completed_orders AS DOUBLE PRECISION) AS DOUBLE PRECISION)
          ) * 100
        ) + CASE SIGN(
            ABS(
              CAST(CAST(customer_orders.revenue AS DOUBLE PRECISION) / CAST(customer_orders.completed_orders AS DOUBLE PRECISION) AS DOUBLE PRECISION)
            ) * 100 - FLOOR(
              ABS(
                CAST(CAST(customer_orders.revenue AS DOUBLE PRECISION) / CAST(customer_orders.completed_orders AS DOUBLE PRECISION) AS DOUBLE PRECISION)
              ) * 100
            ) - 0.5
          )
          WHEN 1
          THEN 1
          WHEN 0
          THEN (
            SELECT
              CASE
                WHEN (
                  _r.hi * 100 - _r.v * 100
                ) + (
                  _r.v - _r.hi
                ) * 100 >= 0
                THEN 1
                ELSE 0
              END
            FROM (
              SELECT
                _q.v,
                134217729 * _q.v - (
                  134217729 * _q.v - _q.v
                ) AS hi
              FROM (
                SELECT
                  ABS(
                    CAST(CAST(customer_orders.revenue AS DOUBLE PRECISION) / CAST(customer_orders.completed_orders AS DOUBLE PRECISION) AS DOUBLE PRECISION)
                  ) AS v
              ) AS _q
            ) AS _r
          )
          ELSE 0
        END
      ) / 100
    )
  END AS avg_order_value,
  (
    CAST(customer_orders.last_order_at AS DATE) - CAST(customer_orders.first_order_at AS DATE)
  ) AS active_days,
  RANK() OVER (
    PARTITION BY customer_orders.country
    ORDER BY customer_orders.revenue - customer_orders.refunded DESC NULLS LAST, customer_orders.customer_id
  ) AS rank_in_country,
  CASE
    WHEN customer_orders.revenue - customer_orders.refunded >= 500
    THEN 'gold'
    WHEN customer_orders.revenue - customer_orders.refunded >= 150
    THEN 'silver'
    ELSE 'bronze'
  END AS tier
FROM data_analyst.customer_orders AS customer_orders
