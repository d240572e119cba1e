-- `jobs_claim.sql` within one application ($2), for Citus: every table named by the application,
-- so the statement, its row locks included, runs on that application's shard.
DELETE FROM jobs
WHERE application_id = $2 AND ctid = ANY (ARRAY(
    SELECT j.ctid FROM jobs j
    WHERE j.application_id = $2 AND coalesce(j.ready_at, j.run_at) <= now()
      AND (j.message_number IS NULL
           OR EXISTS (SELECT 1 FROM chats c WHERE c.application_id = $2 AND c.number = j.chat_number))
    ORDER BY j.id
    LIMIT $1
    FOR UPDATE OF j SKIP LOCKED))
RETURNING id, application_id, chat_number, message_number, body, created_at, updated_at, sender
