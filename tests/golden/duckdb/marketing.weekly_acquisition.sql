/* Postgres syntax on purpose: martctl transpiles it to the target's dialect. */
WITH first_orders AS (
  SELECT DISTINCT ON (customer_id)
    orders.customer_id AS customer_id,
    orders.amount AS first_order_amount
  FROM raw.orders AS orders
  WHERE
    orders.status = 'completed'
  ORDER BY
    customer_id,
    orders.ordered_at
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
  c.email ILIKE '%@example.com'
GROUP BY
  CAST(DATE_TRUNC('WEEK', CAST(c.signed_up_at AS TIMESTAMP)) AS DATE),
  c.country
