DELETE FROM jobs WHERE (application_id, id) IN (
    SELECT application_id, id FROM jobs WHERE application_id = $1 LIMIT $2)
