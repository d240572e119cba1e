-- `expire.sql` on Citus, first step: up to $1 applications with finished deliveries older than
-- a week, read from every shard without locks; each is then expired on its own shard
-- (`expire_citus.sql`).
SELECT DISTINCT application_id FROM webhook_deliveries
WHERE state <> 'pending' AND occurred_at < now() - interval '7 days'
LIMIT $1
