-- Claims up to $3 due deliveries of endpoint ($1, $2), skipping those another worker holds, and
-- leases them: `next_attempt_at` moves $5 ms ahead, so a delivery whose sender dies is due again
-- then (at-least-once), and the claim commits at once (no transaction stays open while sending).
-- In order per chat: a delivery waits while an earlier one of its chat is pending (in flight or
-- waiting for a retry) with fewer than $4 attempts; past that, the failing one stops blocking.
-- Every table is named by the application ($1): on Citus the statement, row locks included,
-- runs on its shard. The previous secret is returned while it signs, up to $6 (the caller's
-- now: Citus refuses now() in RETURNING).
WITH due AS (
    SELECT d.id
    FROM webhook_deliveries d
    WHERE d.application_id = $1 AND d.webhook_id = $2 AND d.state = 'pending'
      AND d.next_attempt_at <= now()
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                       WHERE e.application_id = $1 AND e.webhook_id = d.webhook_id
                         AND e.chat_number = d.chat_number AND e.event_id < d.event_id
                         AND e.state = 'pending' AND e.attempts < $4)
    ORDER BY d.event_id
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, last_attempt_at = now(),
    next_attempt_at = now() + $5 * interval '1 millisecond'
FROM due, webhooks w
WHERE d.application_id = $1 AND d.id = due.id
  AND w.application_id = $1 AND w.id = d.webhook_id AND NOT w.paused
RETURNING d.id, d.event_id, d.event_type, d.chat_number, d.message_number, d.body,
          d.item_created_at, d.item_updated_at, d.occurred_at, w.url, w.secret,
          CASE WHEN w.previous_until > $6::timestamptz THEN w.previous_secret END, d.attempts,
          d.sender
