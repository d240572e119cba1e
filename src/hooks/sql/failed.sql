-- A delivery that failed: retried at $6, or kept as failed when $6 is NULL (not worth retrying)
-- or past the retry window ($7 seconds after the event). Its endpoint is failing since its first
-- failure after a success; failing for the whole window, it is paused, saying why.
WITH attempt AS (
    UPDATE webhook_deliveries
    SET state = CASE WHEN $6::timestamptz IS NULL
                       OR $6::timestamptz > occurred_at + $7 * interval '1 second'
                     THEN 'failed' ELSE 'pending' END,
        next_attempt_at = coalesce($6::timestamptz, next_attempt_at),
        last_status = $3, last_latency_ms = $4, last_error = $5
    WHERE application_id = $1 AND id = $2
    RETURNING application_id, webhook_id
), endpoint AS (
    SELECT w.application_id, w.id, coalesce(w.failing_since, now()) AS since,
           coalesce(w.failing_since, now()) <= now() - $7 * interval '1 second' AS too_long
    FROM webhooks w JOIN attempt a ON w.application_id = a.application_id AND w.id = a.webhook_id
)
UPDATE webhooks w
SET failing_since = e.since,
    paused = w.paused OR e.too_long,
    paused_reason = CASE WHEN e.too_long AND NOT w.paused
                         THEN 'every delivery failed since ' || to_char(e.since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                              || ' (the retry window); last error: ' || $5
                         ELSE w.paused_reason END
FROM endpoint e
WHERE w.application_id = e.application_id AND w.id = e.id
