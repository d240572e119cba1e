-- A delivery that failed. Retried at $6, or at the end of its retry window ($7 seconds after the
-- event) if that comes first: one last attempt then. Kept as failed when $6 is NULL (not worth
-- retrying) or this attempt was that last one. Its endpoint is failing since the later of its
-- last success and this delivery's event (unless it was failing already); failing for the
-- whole window, it is paused, saying why. Every table is named by the application ($1), and
-- what depends on the time is worked out by MATERIALIZED SELECTs (`outcome`, `endpoint`) and
-- only copied by the UPDATEs: so Citus sends the whole statement to the application's shard (a
-- STABLE function such as now() over a column in an UPDATE's SET, or inside a CASE or COALESCE
-- of a modification, which an inlined CTE would put there, is planned as separate steps
-- through the coordinator).
WITH outcome AS MATERIALIZED (
    SELECT d.id,
           $6::timestamptz IS NULL OR now() >= d.occurred_at + $7 * interval '1 second' AS last,
           least(coalesce($6::timestamptz, d.next_attempt_at),
                 d.occurred_at + $7 * interval '1 second') AS next_at
    FROM webhook_deliveries d
    WHERE d.application_id = $1 AND d.id = $2
), attempt AS (
    UPDATE webhook_deliveries d
    SET state = CASE WHEN o.last THEN 'failed' ELSE 'pending' END,
        next_attempt_at = o.next_at,
        last_status = $3, last_latency_ms = $4, last_error = $5
    FROM outcome o
    WHERE d.application_id = $1 AND d.id = o.id
    RETURNING d.webhook_id, d.occurred_at
), streak AS (
    SELECT w.id, coalesce(w.failing_since, greatest(a.occurred_at, w.succeeded_at)) AS since
    FROM webhooks w
    JOIN attempt a ON w.application_id = $1 AND w.id = a.webhook_id
), endpoint AS MATERIALIZED (
    SELECT s.id, s.since, s.since <= now() - $7 * interval '1 second' AS too_long,
           'every delivery failed since '
               || to_char(s.since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               || ' (the retry window); last error: ' || $5 AS reason
    FROM streak s
)
UPDATE webhooks w
SET failing_since = e.since,
    paused = w.paused OR e.too_long,
    paused_reason = CASE WHEN e.too_long AND NOT w.paused THEN e.reason ELSE w.paused_reason END
FROM endpoint e
WHERE w.application_id = $1 AND w.id = e.id
