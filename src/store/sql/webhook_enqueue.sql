-- The webhook outbox for one chat event ($3, e.g. `chat.deleted`) of chat $2 of application $1
-- (its id), in that change's
-- transaction: one delivery per endpoint of the application that takes the event and is not
-- paused; nothing (and no event id taken) when there is none.
WITH event AS (
    SELECT a.id AS application_id, nextval('webhook_event_ids') AS event_id
    FROM applications a
    WHERE a.id = $1
      AND EXISTS (SELECT 1 FROM webhooks w
                   WHERE w.application_id = a.id AND NOT w.paused AND $3::text = ANY (w.events))
)
INSERT INTO webhook_deliveries (application_id, webhook_id, event_id, event_type, chat_number)
SELECT e.application_id, w.id, e.event_id, $3::text, $2::bigint
FROM event e
JOIN webhooks w ON w.application_id = e.application_id AND NOT w.paused AND $3::text = ANY (w.events)
ORDER BY w.id
