-- Allocates the message's number from the chat's locked counter and enqueues the job that
-- writes it: one statement, one round trip. No row: unknown application or chat. With an
-- idempotency key ($4 scope, $5 key) the result is recorded in the same statement.
WITH counter AS (
    UPDATE chat_counters cc SET last_message_number = cc.last_message_number + 1
    FROM applications a
    WHERE a.token = $1 AND cc.application_id = a.id AND cc.chat_number = $2
    RETURNING cc.application_id, cc.last_message_number
), job AS (
    INSERT INTO jobs (application_id, chat_number, message_number, body)
    SELECT application_id, $2, last_message_number, $3 FROM counter
    RETURNING message_number, created_at, updated_at
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_number = job.message_number, result_at = job.created_at
    FROM job WHERE ik.scope = $4 AND ik.key = $5
)
SELECT job.message_number, job.created_at, job.updated_at
FROM job
