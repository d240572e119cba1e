-- Allocates the chat's number from the application's locked counter, creates the chat's own
-- message counter, and enqueues the job that writes the chat: one statement, one round trip.
-- With an idempotency key ($2 scope, $3 key) the result is recorded in the same statement.
WITH app AS (
    UPDATE applications SET last_chat_number = last_chat_number + 1
    WHERE token = $1
    RETURNING id, last_chat_number
), counter AS (
    INSERT INTO chat_counters (application_id, chat_number)
    SELECT id, last_chat_number FROM app
), job AS (
    INSERT INTO jobs (application_id, chat_number)
    SELECT id, last_chat_number FROM app
    RETURNING chat_number, created_at, updated_at
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_number = job.chat_number, result_at = job.created_at
    FROM job WHERE ik.scope = $2 AND ik.key = $3
)
SELECT job.chat_number, job.created_at, job.updated_at
FROM job
