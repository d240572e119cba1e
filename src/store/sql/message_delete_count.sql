-- On Citus: the chat's count after one of its messages was deleted (`message_delete_row_citus.sql`).
UPDATE chats SET messages_count = messages_count - 1 WHERE application_id = $1 AND number = $2
