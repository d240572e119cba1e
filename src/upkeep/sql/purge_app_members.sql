DELETE FROM chat_members WHERE (application_id, chat_number, member) IN (
    SELECT application_id, chat_number, member FROM chat_members WHERE application_id = $1 LIMIT $2)
