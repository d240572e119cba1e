-- The endpoint's latest deliveries ($3 at most), newest first, below delivery $4 (paging). The
-- caller has just read the endpoint (`webhook_get.sql`), which checks the application.
SELECT d.id, d.event_id, d.event_type, d.chat_number, d.message_number, d.state, d.attempts,
       d.occurred_at, d.last_attempt_at, d.last_status, d.last_latency_ms, d.last_error,
       CASE WHEN d.state = 'pending' THEN d.next_attempt_at END
FROM webhook_deliveries d
WHERE d.application_id = $1 AND d.webhook_id = $2 AND d.id < $4
ORDER BY d.id DESC
LIMIT $3
