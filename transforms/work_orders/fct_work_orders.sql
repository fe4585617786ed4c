-- Work orders with the business flags the report counts by.
-- 退单 orders were sent back as not the team's business: they were not handled.
SELECT
    *,
    status <> '退单' AS is_handled
FROM stg_work_orders
