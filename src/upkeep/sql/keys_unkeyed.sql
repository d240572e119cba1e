-- Up to $1 messages without search keys (V19: written before it, by the previous release, or
-- edited), through the partial index that holds only those; locked, skipping those another
-- instance's filler holds (or an edit: it sets the keys NULL again after us).
SELECT application_id, chat_number, number, body FROM messages
WHERE search_keys IS NULL
LIMIT $1
FOR UPDATE SKIP LOCKED
