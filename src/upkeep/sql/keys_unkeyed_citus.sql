-- `keys_unkeyed.sql` within application $1, for Citus: up to $2 of its messages without search
-- keys, locked on its shard, skipping those another instance's filler holds.
SELECT chat_number, number, body FROM messages
WHERE application_id = $1 AND search_keys IS NULL
LIMIT $2
FOR UPDATE SKIP LOCKED
