-- `message_update_row.sql` on Citus (`citus_edits`): the edit alone, on the application's shard
-- ($1, its id); its `message.updated` deliveries are queued by the service in the same
-- transaction (`webhook_outbox::enqueue_for_app`).
UPDATE messages m SET body = $4, sender = coalesce($5, m.sender), updated_at = now(),
                      search_text = $6, search_keys = NULL
FROM applications a, chat_counters cc
WHERE a.id = $1 AND m.application_id = $1 AND m.chat_number = $2 AND m.number = $3
  AND cc.application_id = $1 AND cc.chat_number = $2
RETURNING m.number, m.body, m.created_at, m.updated_at, m.sender
