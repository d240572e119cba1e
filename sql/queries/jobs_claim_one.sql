SELECT j.id, j.application_id, j.chat_number, j.message_number, j.body, j.created_at, j.updated_at
FROM jobs j
WHERE j.application_id = $1 AND j.id = $2
FOR UPDATE SKIP LOCKED
