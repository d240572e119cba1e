-- A delivery answered 2xx: done, and its endpoint is not failing any more.
WITH done AS (
    UPDATE webhook_deliveries
    SET state = 'delivered', last_status = $3, last_latency_ms = $4, last_error = NULL
    WHERE application_id = $1 AND id = $2
    RETURNING application_id, webhook_id
)
UPDATE webhooks w SET failing_since = NULL, succeeded_at = now()
FROM done
WHERE w.application_id = done.application_id AND w.id = done.webhook_id
