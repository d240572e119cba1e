-- The endpoint's latest deliveries ($3 at most), newest first, below delivery $4 (paging).
SELECT d.id, d.event_id, d.event_type, d.chat_number, d.message_number, d.state, d.attempts,
       d.occurred_at, d.last_attempt_at, d.last_status, d.last_latency_ms, d.last_error,
       CASE WHEN d.state = 'pending' THEN d.next_attempt_at END
FROM applications a
JOIN webhook_deliveries d ON d.application_id = a.id AND d.webhook_id = $2
WHERE a.token = $1 AND d.id < $4
ORDER BY d.id DESC
LIMIT $3
