DELETE FROM dead_jobs WHERE (application_id, id) IN (
    SELECT application_id, id FROM dead_jobs WHERE application_id = $1 AND chat_number = $3 LIMIT $2)
