-- Deletes a message still in the queue (waits for a worker holding it, then finds nothing).
DELETE FROM jobs j
USING applications a
WHERE a.token = $1 AND j.application_id = a.id AND j.chat_number = $2 AND j.message_number = $3
