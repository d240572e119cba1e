-- The webhook outbox for one worker batch's creations, in the batch's transaction (pipelined
-- after the statements that write them): one delivery per created chat or message and endpoint
-- of its application that takes `chat.created` or `message.created` and is not paused.
-- Creations of applications without webhooks are dropped by the first probe (the webhooks'
-- primary key), before an event id is taken: with no webhooks at all this is one index probe per
-- job. The creations' data is sent again rather than read back from the rows just written: a
-- join with the partitioned `messages` cost milliseconds to plan, and its plans were invalidated
-- every few seconds by the tables' analyses. Event ids follow the jobs' order (by job id: chats
-- before their messages, a chat's messages by number).
WITH events AS (
    SELECT e.application_id, e.chat_number, e.message_number, e.body, e.sender, e.created_at,
           e.updated_at, nextval('webhook_event_ids') AS event_id
    FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[],
                $6::timestamptz[], $7::text[]) WITH ORDINALITY
         AS e(application_id, chat_number, message_number, body, created_at, updated_at, sender, ord)
    WHERE EXISTS (SELECT 1 FROM webhooks w WHERE w.application_id = e.application_id AND NOT w.paused)
    ORDER BY e.ord
)
INSERT INTO webhook_deliveries (application_id, webhook_id, event_id, event_type, chat_number,
                                message_number, body, sender, item_created_at, item_updated_at)
SELECT e.application_id, w.id, e.event_id, k.kind, e.chat_number, e.message_number, e.body,
       e.sender, e.created_at, e.updated_at
FROM events e
CROSS JOIN LATERAL (SELECT CASE WHEN e.message_number IS NULL THEN 'chat.created'
                                ELSE 'message.created' END AS kind) k
JOIN webhooks w ON w.application_id = e.application_id AND NOT w.paused AND k.kind = ANY (w.events)
ORDER BY e.event_id, w.id
