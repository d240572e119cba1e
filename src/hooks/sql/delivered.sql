-- A delivery answered 2xx: done, and its endpoint is not failing any more. Its success time is
-- kept to the second (what the failure streak needs), so that concurrent deliveries do not all
-- queue on the endpoint's row.
WITH done AS (
    UPDATE webhook_deliveries
    SET state = 'delivered', last_status = $3, last_latency_ms = $4, last_error = NULL
    WHERE application_id = $1 AND id = $2
    RETURNING application_id, webhook_id
)
UPDATE webhooks w SET failing_since = NULL, succeeded_at = now()
FROM done
WHERE w.application_id = done.application_id AND w.id = done.webhook_id
  AND (w.failing_since IS NOT NULL OR w.succeeded_at IS NULL
       OR w.succeeded_at < now() - interval '1 second')
