-- Reader $3's position in chat $2 of the application with token $1: the application's id,
-- whether the chat exists, and how far the reader has read (0 when it is not a member).
-- No row: unknown application.
SELECT a.id,
       EXISTS (SELECT 1 FROM chat_counters cc WHERE cc.application_id = a.id AND cc.chat_number = $2),
       coalesce((SELECT m.last_read FROM chat_members m
                  WHERE m.application_id = a.id AND m.chat_number = $2 AND m.member = $3), 0)
FROM applications a
WHERE a.token = $1
