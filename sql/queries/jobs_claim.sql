-- Takes up to $1 ready jobs in queue order, skipping those another worker holds. A message job
-- waits until its chat is written, so the chat row exists when its messages are counted.
SELECT j.id, j.application_id, j.chat_number, j.message_number, j.body, j.created_at, j.updated_at
FROM jobs j
WHERE j.run_at <= now()
  AND (j.message_number IS NULL
       OR EXISTS (SELECT 1 FROM chats c
                   WHERE c.application_id = j.application_id AND c.number = j.chat_number))
ORDER BY j.id
LIMIT $1
FOR UPDATE OF j SKIP LOCKED
