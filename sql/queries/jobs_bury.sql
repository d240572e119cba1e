-- A job failed too often: set it aside for an operator, out of the way of the jobs behind it.
WITH gone AS (
    DELETE FROM jobs WHERE application_id = $1 AND id = $2 RETURNING *
)
INSERT INTO dead_jobs (id, application_id, chat_number, message_number, body, created_at,
                       updated_at, attempts, last_error)
SELECT id, application_id, chat_number, message_number, body, created_at, updated_at, attempts,
       last_error
FROM gone
