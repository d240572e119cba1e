-- Removes the endpoint and its deliveries (a week of them at most, see expire.sql).
WITH gone AS (
    DELETE FROM webhooks w
    USING applications a
    WHERE a.id = $1 AND w.application_id = $1 AND w.id = $2
    RETURNING w.id
), deliveries AS (
    DELETE FROM webhook_deliveries d
    USING gone
    WHERE d.application_id = $1 AND d.webhook_id = gone.id
)
SELECT count(*) FROM gone
