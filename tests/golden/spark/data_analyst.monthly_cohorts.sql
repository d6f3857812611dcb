WITH cohorts AS (
  SELECT
    customers.customer_id AS customer_id,
    CAST(DATE_TRUNC('MONTH', CAST(CAST(customers.signed_up_at AS DATE) AS TIMESTAMP)) AS TIMESTAMP) AS cohort_month
  FROM raw.customers AS customers
), activity AS (
  SELECT DISTINCT
    orders.customer_id AS customer_id,
    CAST(DATE_TRUNC('MONTH', orders.ordered_at) AS TIMESTAMP) AS order_month
  FROM raw.orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  c.cohort_month AS cohort_month,
  DATEDIFF(
    MONTH,
    DATE_TRUNC('MONTH', CAST(c.cohort_month AS TIMESTAMP)),
    DATE_TRUNC('MONTH', CAST(a.order_month AS TIMESTAMP))
  ) AS months_since_signup,
  COUNT(DISTINCT a.customer_id) AS active_customers
FROM cohorts AS c
JOIN activity AS a
  ON c.customer_id = a.customer_id
WHERE
  a.order_month >= c.cohort_month
GROUP BY
  c.cohort_month,
  DATEDIFF(
    MONTH,
    DATE_TRUNC('MONTH', CAST(c.cohort_month AS TIMESTAMP)),
    DATE_TRUNC('MONTH', CAST(a.order_month AS TIMESTAMP))
  )
