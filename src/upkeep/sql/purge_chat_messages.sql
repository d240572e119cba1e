DELETE FROM messages WHERE application_id = $1 AND (chat_number, number) IN (
    SELECT chat_number, number FROM messages WHERE application_id = $1 AND chat_number = $3 LIMIT $2)
