DELETE FROM webhooks WHERE (application_id, id) IN (
    SELECT application_id, id FROM webhooks WHERE application_id = $1 LIMIT $2)
