-- Postgres syntax on purpose: martctl transpiles it to the target's dialect.
WITH first_orders AS (
    SELECT DISTINCT ON (customer_id)
           customer_id, amount AS first_order_amount
    FROM raw.orders
    WHERE status = 'completed'
    ORDER BY customer_id, ordered_at
)
SELECT date_trunc('week', c.signed_up_at::timestamp)::date AS week,
       c.country,
       count(*) AS new_customers,
       count(f.customer_id) AS customers_with_order,
       coalesce(sum(f.first_order_amount), 0)::numeric(12, 2) AS first_order_revenue
FROM raw.customers AS c
LEFT JOIN first_orders AS f ON f.customer_id = c.customer_id
WHERE c.email ILIKE '%@example.com'
GROUP BY 1, 2
