-- Edits a message still in the queue. If a worker holds the job, this waits for its commit and
-- then finds nothing: the caller then edits the written row.
UPDATE jobs j SET body = $4, updated_at = now()
FROM applications a
WHERE a.token = $1 AND j.application_id = a.id AND j.chat_number = $2 AND j.message_number = $3
RETURNING j.message_number, j.body, j.created_at, j.updated_at, j.sender
