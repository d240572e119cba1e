DELETE FROM chats WHERE application_id = $1 AND number IN (
    SELECT number FROM chats WHERE application_id = $1 LIMIT $2)
