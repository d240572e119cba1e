WITH gone AS (
    DELETE FROM messages m
    USING applications a, chat_counters cc
    WHERE a.token = $1 AND m.application_id = a.id AND m.chat_number = $2 AND m.number = $3
      AND cc.application_id = a.id AND cc.chat_number = $2
    RETURNING m.application_id
), counted AS (
    UPDATE chats c SET messages_count = c.messages_count - 1
    FROM gone WHERE c.application_id = gone.application_id AND c.number = $2
), hooked AS (
    -- The webhook outbox (`store::webhook_outbox`), in this statement's own transaction: a
    -- `message.deleted` for each endpoint taking it; nothing when the application has none.
    INSERT INTO webhook_deliveries (application_id, webhook_id, event_id, event_type, chat_number,
                                    message_number)
    SELECT w.application_id, w.id, e.event_id, 'message.deleted', $2, $3
    FROM (SELECT gone.application_id, nextval('webhook_event_ids') AS event_id
          FROM gone
          WHERE EXISTS (SELECT 1 FROM webhooks w
                         WHERE w.application_id = gone.application_id AND NOT w.paused
                           AND 'message.deleted' = ANY (w.events))) e
    JOIN webhooks w ON w.application_id = e.application_id AND NOT w.paused
                   AND 'message.deleted' = ANY (w.events)
)
SELECT count(*) FROM gone
