-- `expire.sql` within application $1, for Citus (one shard): its finished deliveries older than
-- a week, a chunk at a time.
DELETE FROM webhook_deliveries WHERE application_id = $1 AND ctid = ANY (ARRAY(
    SELECT ctid FROM webhook_deliveries
    WHERE application_id = $1 AND state <> 'pending' AND occurred_at < now() - interval '7 days'
    LIMIT 5000))
