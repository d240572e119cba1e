-- `message_delete_row.sql` on Citus (`citus_edits`): the delete alone, on the application's shard
-- ($1, its id); the caller then keeps the chat's count (`message_delete_count.sql`) and queues
-- the `message.deleted` deliveries in the same transaction.
DELETE FROM messages m
USING applications a, chat_counters cc
WHERE a.id = $1 AND m.application_id = $1 AND m.chat_number = $2 AND m.number = $3
  AND cc.application_id = $1 AND cc.chat_number = $2
