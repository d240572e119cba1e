DELETE FROM messages WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM messages WHERE application_id = $1 AND chat_number = $3 LIMIT $2))
