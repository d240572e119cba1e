DELETE FROM messages WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM messages WHERE application_id = $1 LIMIT $2))
