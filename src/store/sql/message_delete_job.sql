-- Deletes a message still in the queue (waits for a worker holding it, then finds nothing).
WITH gone AS (
    DELETE FROM jobs j
    USING applications a
    WHERE a.token = $1 AND j.application_id = a.id AND j.chat_number = $2 AND j.message_number = $3
    RETURNING j.application_id
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
