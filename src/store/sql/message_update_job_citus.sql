-- `message_update_job.sql` on Citus (`citus_edits`), the application named by its id ($1).
UPDATE jobs j SET body = $4, sender = coalesce($5, j.sender), updated_at = now(),
                  ready_at = CASE WHEN $5::text IS NULL THEN j.ready_at ELSE coalesce(j.ready_at, j.run_at) END,
                  run_at = CASE WHEN $5::text IS NULL THEN j.run_at ELSE 'infinity' END
FROM applications a
WHERE a.id = $1 AND j.application_id = $1 AND j.chat_number = $2 AND j.message_number = $3
RETURNING j.message_number, j.body, j.created_at, j.updated_at, j.sender
