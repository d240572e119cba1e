-- Nothing adds a delivery once the application row is gone (every enqueue joins it, and the
-- worker batches holding its jobs were waited for by the jobs' purge).
DELETE FROM webhook_deliveries WHERE application_id = $1 AND id IN (
    SELECT id FROM webhook_deliveries WHERE application_id = $1 LIMIT $2)
