-- The application's id and whether the chat exists. No row: unknown application.
SELECT a.id, EXISTS (SELECT 1 FROM chat_counters cc WHERE cc.application_id = a.id AND cc.chat_number = $2)
FROM applications a WHERE a.token = $1
