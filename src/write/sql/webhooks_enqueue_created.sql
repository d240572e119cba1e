-- The webhook outbox for one worker batch's creations, in the batch's transaction and pipeline,
-- after the statements that wrote them: one delivery per created chat ($3 NULL) or message and
-- endpoint of its application that takes `chat.created` or `message.created` and is not paused.
-- Only keys are sent ($1 application, $2 chat, $3 message number, in job order): the event's data
-- is read back from the rows this transaction just wrote, and only for applications with
-- webhooks. The rest are dropped by the first probe (the webhooks' primary key), before an event
-- id is taken: with no webhooks at all this is one index probe per job. Event ids follow the
-- jobs' order (by job id: chats before their messages, a chat's messages by number).
WITH events AS (
    SELECT e.application_id, e.chat_number, e.message_number, nextval('webhook_event_ids') AS event_id
    FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY
         AS e(application_id, chat_number, message_number, ord)
    WHERE EXISTS (SELECT 1 FROM webhooks w WHERE w.application_id = e.application_id AND NOT w.paused)
    ORDER BY e.ord
)
INSERT INTO webhook_deliveries (application_id, webhook_id, event_id, event_type, chat_number,
                                message_number, body, sender, item_created_at, item_updated_at)
SELECT e.application_id, w.id, e.event_id, k.kind, e.chat_number, e.message_number, m.body,
       m.sender, coalesce(m.created_at, c.created_at), coalesce(m.updated_at, c.updated_at)
FROM events e
CROSS JOIN LATERAL (SELECT CASE WHEN e.message_number IS NULL THEN 'chat.created'
                                ELSE 'message.created' END AS kind) k
JOIN webhooks w ON w.application_id = e.application_id AND NOT w.paused AND k.kind = ANY (w.events)
LEFT JOIN messages m ON m.application_id = e.application_id AND m.chat_number = e.chat_number
                    AND m.number = e.message_number
LEFT JOIN chats c ON e.message_number IS NULL AND c.application_id = e.application_id
                 AND c.number = e.chat_number
WHERE e.message_number IS NULL OR m.number IS NOT NULL
ORDER BY e.event_id, w.id
