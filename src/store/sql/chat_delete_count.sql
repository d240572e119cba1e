-- On Citus: the application's chat count (V21's `app_counters`, on its shard), after its chat row
-- was removed (`chat_delete_row_citus.sql`).
UPDATE app_counters SET chats_count = chats_count - 1 WHERE application_id = $1
