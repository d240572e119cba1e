-- On Citus: the application's count, after its chat row was removed (`chat_delete_row_citus.sql`).
UPDATE applications SET chats_count = chats_count - 1 WHERE id = $1
