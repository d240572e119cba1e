DELETE FROM chat_members WHERE application_id = $1 AND (chat_number, member) IN (
    SELECT chat_number, member FROM chat_members WHERE application_id = $1 LIMIT $2)
