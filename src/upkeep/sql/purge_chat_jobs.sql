DELETE FROM jobs WHERE (application_id, id) IN (
    SELECT application_id, id FROM jobs WHERE application_id = $1 AND chat_number = $3 LIMIT $2)
