-- The endpoints with a delivery due (not paused, their application not deleted): the dispatcher
-- starts a task for each that has none in this process.
SELECT DISTINCT d.application_id, d.webhook_id
FROM webhook_deliveries d
WHERE d.state = 'pending' AND d.next_attempt_at <= now()
  AND EXISTS (SELECT 1 FROM webhooks w
               WHERE w.application_id = d.application_id AND w.id = d.webhook_id AND NOT w.paused)
  AND EXISTS (SELECT 1 FROM applications a WHERE a.id = d.application_id)
LIMIT $1
