-- One chat creation (a batch of one): allocates the number from the application's locked
-- counter, creates the chat's message counter and enqueues the job that writes the chat, in one
-- statement. With an idempotency key ($2 scope, $3 key, $4 the claim the request made) it creates
-- only while that claim is still the request's and records the result under it. The batch is
-- recorded under $5 as `intake_chats.sql` does.
WITH held AS (
    SELECT ik.key FROM idempotency_keys ik
    WHERE ik.scope = $2 AND ik.key = $3 AND ik.claim = $4
    FOR NO KEY UPDATE
), app AS (
    UPDATE applications SET last_chat_number = last_chat_number + 1
    WHERE token = $1 AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM held))
    RETURNING id, last_chat_number
), counter AS (
    -- A new chat's activity is its creation (V17).
    INSERT INTO chat_counters (application_id, chat_number, last_activity_at, activity_slot)
    SELECT id, last_chat_number, now(), activity_slot(now()) FROM app
), job AS (
    INSERT INTO jobs (application_id, chat_number)
    SELECT id, last_chat_number FROM app
    RETURNING chat_number
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_number = job.chat_number, result_at = now()
    FROM job WHERE ik.scope = $2 AND ik.key = $3 AND ik.claim = $4
), batch AS (
    INSERT INTO intake_batches (id, numbers)
    SELECT $5, ARRAY[CASE WHEN (SELECT chat_number FROM job) IS NOT NULL THEN (SELECT chat_number FROM job)
                          WHEN $3::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM held) THEN 0
                     END]
    RETURNING numbers, accepted_at
)
SELECT numbers, accepted_at FROM batch
