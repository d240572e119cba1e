DELETE FROM chats WHERE (application_id, number) IN (
    SELECT application_id, number FROM chats WHERE application_id = $1 LIMIT $2)
