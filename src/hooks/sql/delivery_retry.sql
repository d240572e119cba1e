-- Sends a delivery again, whatever its state: due now, once more (a new failure keeps it failed
-- if its retry window has passed).
UPDATE webhook_deliveries d
SET state = 'pending', next_attempt_at = now()
FROM applications a
WHERE a.id = $1 AND d.application_id = $1 AND d.webhook_id = $2 AND d.id = $3
RETURNING d.id, d.event_id, d.event_type, d.chat_number, d.message_number, d.state, d.attempts,
          d.occurred_at, d.last_attempt_at, d.last_status, d.last_latency_ms, d.last_error,
          d.next_attempt_at
