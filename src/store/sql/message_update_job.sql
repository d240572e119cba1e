-- Edits a message still in the queue. If a worker holds the job, this waits for its commit and
-- then finds nothing: the caller then edits the written row. Its sender changes when $5 is not
-- NULL; a job that gets a sender is fenced from the previous release's workers (V15).
UPDATE jobs j SET body = $4, sender = coalesce($5, j.sender), updated_at = now(),
                  ready_at = CASE WHEN $5::text IS NULL THEN j.ready_at ELSE coalesce(j.ready_at, j.run_at) END,
                  run_at = CASE WHEN $5::text IS NULL THEN j.run_at ELSE 'infinity' END
FROM applications a
WHERE a.token = $1 AND j.application_id = a.id AND j.chat_number = $2 AND j.message_number = $3
RETURNING j.message_number, j.body, j.created_at, j.updated_at, j.sender
