DELETE FROM dead_jobs WHERE (application_id, id) IN (
    SELECT application_id, id FROM dead_jobs WHERE application_id = $1 LIMIT $2)
