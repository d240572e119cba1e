-- Whether the application ($1, its id) still exists, and the chat's last message number (NULL:
-- no such chat). No row: the application is gone.
SELECT a.id, (SELECT cc.last_message_number FROM chat_counters cc
               WHERE cc.application_id = $1 AND cc.chat_number = $2)
FROM applications a WHERE a.id = $1
