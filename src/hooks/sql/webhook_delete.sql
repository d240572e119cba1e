-- Removes the endpoint and its deliveries (a week of them at most, see expire.sql).
WITH gone AS (
    DELETE FROM webhooks w
    USING applications a
    WHERE a.token = $1 AND w.application_id = a.id AND w.id = $2
    RETURNING w.application_id, w.id
), deliveries AS (
    DELETE FROM webhook_deliveries d
    USING gone
    WHERE d.application_id = gone.application_id AND d.webhook_id = gone.id
)
SELECT count(*) FROM gone
