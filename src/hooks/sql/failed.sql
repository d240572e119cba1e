-- A delivery that failed. Retried at $6, or at the end of its retry window ($7 seconds after the
-- event) if that comes first: one last attempt then. Kept as failed when $6 is NULL (not worth
-- retrying) or this attempt was that last one. Its endpoint is failing since the later of its
-- last success and this delivery's event (unless it was failing already); failing for the
-- whole window, it is paused, saying why.
WITH attempt AS (
    UPDATE webhook_deliveries
    SET state = CASE WHEN $6::timestamptz IS NULL
                       OR now() >= occurred_at + $7 * interval '1 second'
                     THEN 'failed' ELSE 'pending' END,
        next_attempt_at = least(coalesce($6::timestamptz, next_attempt_at),
                                occurred_at + $7 * interval '1 second'),
        last_status = $3, last_latency_ms = $4, last_error = $5
    WHERE application_id = $1 AND id = $2
    RETURNING application_id, webhook_id, occurred_at
), endpoint AS (
    SELECT w.application_id, w.id, s.since, s.since <= now() - $7 * interval '1 second' AS too_long
    FROM webhooks w
    JOIN attempt a ON w.application_id = a.application_id AND w.id = a.webhook_id
    CROSS JOIN LATERAL (SELECT coalesce(w.failing_since,
                                        greatest(a.occurred_at, w.succeeded_at)) AS since) s
)
UPDATE webhooks w
SET failing_since = e.since,
    paused = w.paused OR e.too_long,
    paused_reason = CASE WHEN e.too_long AND NOT w.paused
                         THEN 'every delivery failed since '
                              || to_char(e.since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                              || ' (the retry window); last error: ' || $5
                         ELSE w.paused_reason END
FROM endpoint e
WHERE w.application_id = e.application_id AND w.id = e.id
