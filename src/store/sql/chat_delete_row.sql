-- Removes the chat row, keeps the application's count right, and hands the messages to the
-- purger.
WITH gone AS (
    DELETE FROM chats WHERE application_id = $1 AND number = $2 RETURNING application_id
), counted AS (
    UPDATE applications SET chats_count = chats_count - 1
    WHERE id = $1 AND EXISTS (SELECT 1 FROM gone)
)
INSERT INTO purges (application_id, chat_number) VALUES ($1, $2)
