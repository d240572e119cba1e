-- Finished deliveries older than a week go, a chunk at a time.
DELETE FROM webhook_deliveries WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM webhook_deliveries
    WHERE state <> 'pending' AND occurred_at < now() - interval '7 days'
    LIMIT 5000))
