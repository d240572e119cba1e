DELETE FROM messages WHERE (application_id, chat_number, number) IN (
    SELECT application_id, chat_number, number FROM messages WHERE application_id = $1 LIMIT $2)
