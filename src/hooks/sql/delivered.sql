-- Deliveries of one endpoint's claim answered 2xx ($2 ids, $3 statuses, $4 latencies in ms): done,
-- in one statement, and their endpoint is not failing any more. Its success time is kept to the
-- second (what the failure streak needs), so that concurrent claims do not all queue on the
-- endpoint's row. Every table is named by the application ($1): one shard on Citus.
WITH done AS (
    UPDATE webhook_deliveries d
    SET state = 'delivered', last_status = o.status, last_latency_ms = o.latency, last_error = NULL
    FROM unnest($2::bigint[], $3::int[], $4::int[]) AS o(id, status, latency)
    WHERE d.application_id = $1 AND d.id = o.id
    RETURNING d.webhook_id
)
UPDATE webhooks w SET failing_since = NULL, succeeded_at = now()
FROM (SELECT DISTINCT webhook_id FROM done) done
WHERE w.application_id = $1 AND w.id = done.webhook_id
  AND (w.failing_since IS NOT NULL OR w.succeeded_at IS NULL
       OR w.succeeded_at < now() - interval '1 second')
