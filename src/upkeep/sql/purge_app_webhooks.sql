DELETE FROM webhooks WHERE application_id = $1 AND id IN (
    SELECT id FROM webhooks WHERE application_id = $1 LIMIT $2)
