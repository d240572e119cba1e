DELETE FROM jobs WHERE application_id = $1 AND id IN (
    SELECT id FROM jobs WHERE application_id = $1 LIMIT $2)
