/* Postgres syntax on purpose: martctl transpiles it to the target's dialect. */
WITH first_orders AS (
  SELECT
    customer_id,
    first_order_amount
  FROM (
    SELECT
      orders.customer_id AS customer_id,
      orders.amount AS first_order_amount,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY customer_id, orders.ordered_at) AS _row_number
    FROM raw.orders AS orders
    WHERE
      orders.status = 'completed'
  ) AS _t
  WHERE
    _row_number = 1
)
SELECT
  CAST(DATE_TRUNC('WEEK', CAST(c.signed_up_at AS TIMESTAMP)) AS DATE) AS week,
  c.country AS country,
  COUNT(*) AS new_customers,
  COUNT(f.customer_id) AS customers_with_order,
  CAST(COALESCE(SUM(f.first_order_amount), 0) AS DECIMAL(12, 2)) AS first_order_revenue
FROM raw.customers AS c
LEFT JOIN first_orders AS f
  ON f.customer_id = c.customer_id
WHERE
  LOWER(c.email) LIKE LOWER('%@example.com')
GROUP BY
  CAST(DATE_TRUNC('WEEK', CAST(c.signed_up_at AS TIMESTAMP)) AS DATE),
  c.country
