-- One message creation (a batch of one; $4 the sender or NULL): allocates the number from the chat's locked counter
-- and enqueues the job that writes it, in one statement and one round trip. With an idempotency
-- key ($5 scope, $6 key, $7 the claim the request made) it creates only while that claim is still
-- the request's (its row locked until commit) and records the result under it. The batch is
-- recorded under $8 with what it created, as `intake_messages.sql` does: NULL when the
-- application or chat does not exist, 0 when the claim was lost. As there, the bump records
-- the chat's activity and the sender joins the chat.
WITH held AS (
    SELECT ik.key FROM idempotency_keys ik
    WHERE ik.scope = $5 AND ik.key = $6 AND ik.claim = $7
    FOR NO KEY UPDATE
), counter AS (
    UPDATE chat_counters cc SET last_message_number = cc.last_message_number + 1,
                                last_activity_at = greatest(cc.last_activity_at, now()),
                                activity_slot = greatest(cc.activity_slot, activity_slot(now()))
    FROM applications a
    WHERE a.token = $1 AND cc.application_id = a.id AND cc.chat_number = $2
      AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM held))
    RETURNING cc.application_id, cc.last_message_number
), job AS (
    -- With a sender ($4), fenced from the previous release's workers (see V15).
    INSERT INTO jobs (application_id, chat_number, message_number, body, sender, run_at, ready_at)
    SELECT application_id, $2, last_message_number, $3, $4,
           CASE WHEN $4::text IS NULL THEN now() ELSE 'infinity' END,
           CASE WHEN $4::text IS NULL THEN NULL ELSE now() END
    FROM counter
    RETURNING message_number
), joined AS (
    INSERT INTO chat_members (application_id, chat_number, member)
    SELECT application_id, $2, $4 FROM counter WHERE $4::text IS NOT NULL
    ON CONFLICT DO NOTHING
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_number = job.message_number, result_at = now()
    FROM job WHERE ik.scope = $5 AND ik.key = $6 AND ik.claim = $7
), batch AS (
    INSERT INTO intake_batches (id, numbers)
    SELECT $8, ARRAY[CASE WHEN (SELECT message_number FROM job) IS NOT NULL THEN (SELECT message_number FROM job)
                          WHEN $6::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM held) THEN 0
                     END]
    RETURNING numbers, accepted_at
)
SELECT numbers, accepted_at FROM batch
