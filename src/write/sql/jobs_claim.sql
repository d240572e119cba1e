-- Takes up to $1 ready jobs in queue order, skipping those another worker holds, and deletes
-- them in the same statement (by row address: no index probe). The batch's transaction writes
-- their chats and messages, so the jobs are gone exactly when their effects are there; on a
-- rollback or a crash they are back. A message job waits until its chat is written, so the chat
-- row exists when its messages are counted. A job with a sender runs at `ready_at` (V15). Rows come back in no particular order.
DELETE FROM jobs
WHERE ctid = ANY (ARRAY(
    SELECT j.ctid FROM jobs j
    WHERE coalesce(j.ready_at, j.run_at) <= now()
      AND (j.message_number IS NULL
           OR EXISTS (SELECT 1 FROM chats c
                       WHERE c.application_id = j.application_id AND c.number = j.chat_number))
    ORDER BY j.id
    LIMIT $1
    FOR UPDATE OF j SKIP LOCKED))
RETURNING id, application_id, chat_number, message_number, body, created_at, updated_at, sender
