-- Edits a written message: its body, and its sender when $5 is not NULL.
UPDATE messages m SET body = $4, sender = coalesce($5, m.sender), updated_at = now()
FROM applications a, chat_counters cc
WHERE a.token = $1 AND m.application_id = a.id AND m.chat_number = $2 AND m.number = $3
  AND cc.application_id = a.id AND cc.chat_number = $2
RETURNING m.number, m.body, m.created_at, m.updated_at, m.sender
