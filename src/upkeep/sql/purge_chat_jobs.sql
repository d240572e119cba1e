DELETE FROM jobs WHERE application_id = $1 AND id IN (
    SELECT id FROM jobs WHERE application_id = $1 AND chat_number = $3 LIMIT $2)
