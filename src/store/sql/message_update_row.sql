-- Edits a written message: its body, and its sender when $5 is not NULL. Its `message.updated`
-- webhook deliveries are queued by the same statement (the outbox, `store::webhook_outbox`): one
-- per endpoint of the application that takes the event and is not paused; nothing, and no event
-- id taken, when there is none. $6: the new body folded for search (V19). Its search keys are
-- those of the old text: set NULL, for the key filler (`upkeep::keys`) to compute again; until
-- then searches check the row's text.
WITH edited AS (
    UPDATE messages m SET body = $4, sender = coalesce($5, m.sender), updated_at = now(),
                          search_text = $6, search_keys = NULL
    FROM applications a, chat_counters cc
    WHERE a.token = $1 AND m.application_id = a.id AND m.chat_number = $2 AND m.number = $3
      AND cc.application_id = a.id AND cc.chat_number = $2
    RETURNING m.application_id, m.number, m.body, m.created_at, m.updated_at, m.sender
), event AS (
    SELECT e.*, nextval('webhook_event_ids') AS event_id
    FROM edited e
    WHERE EXISTS (SELECT 1 FROM webhooks w
                   WHERE w.application_id = e.application_id AND NOT w.paused
                     AND 'message.updated' = ANY (w.events))
), hooked AS (
    INSERT INTO webhook_deliveries (application_id, webhook_id, event_id, event_type, chat_number,
                                    message_number, body, sender, item_created_at, item_updated_at)
    SELECT e.application_id, w.id, e.event_id, 'message.updated', $2, e.number, e.body, e.sender,
           e.created_at, e.updated_at
    FROM event e
    JOIN webhooks w ON w.application_id = e.application_id AND NOT w.paused
                   AND 'message.updated' = ANY (w.events)
    ORDER BY w.id
)
SELECT number, body, created_at, updated_at, sender FROM edited
