-- The webhook outbox for one edit or delete, in that change's transaction: one delivery per
-- endpoint of the application that takes this event type ($4) and is not paused; nothing (and no
-- event id taken) when there is none. $3 is NULL for a chat event; $5–$7 for a message's
-- `message.updated`.
WITH event AS (
    SELECT a.id AS application_id, nextval('webhook_event_ids') AS event_id
    FROM applications a
    WHERE a.token = $1
      AND EXISTS (SELECT 1 FROM webhooks w
                   WHERE w.application_id = a.id AND NOT w.paused AND $4::text = ANY (w.events))
)
INSERT INTO webhook_deliveries (application_id, webhook_id, event_id, event_type, chat_number,
                                message_number, body, sender, item_created_at, item_updated_at)
SELECT e.application_id, w.id, e.event_id, $4::text, $2::bigint, $3::bigint, $5::text, $8::text,
       $6::timestamptz, $7::timestamptz
FROM event e
JOIN webhooks w ON w.application_id = e.application_id AND NOT w.paused AND $4::text = ANY (w.events)
ORDER BY w.id
