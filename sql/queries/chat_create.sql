-- Allocates the chat's number from the application's locked counter, creates the chat's own
-- message counter, and enqueues the job that writes the chat: one statement, one round trip.
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
)
SELECT job.chat_number, job.created_at, job.updated_at
FROM job CROSS JOIN LATERAL (SELECT pg_notify('chat_system_jobs', '')) AS wake
