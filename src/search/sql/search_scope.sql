-- The application's id and the chat's last message number (NULL: no such chat). No row:
-- unknown application.
SELECT a.id, (SELECT cc.last_message_number FROM chat_counters cc
               WHERE cc.application_id = a.id AND cc.chat_number = $2)
FROM applications a WHERE a.token = $1
