-- The bulk loader's chat numbers: takes $2 numbers from application $1's counter, as
-- `intake_chats.sql` does for a batch (one update of `last_chat_number`), and creates each new
-- chat's message counter, as every chat creation does. The numbers, in order. No job is queued:
-- the loader writes the chats itself, through the workers' statements.
WITH bumped AS (
    UPDATE applications SET last_chat_number = last_chat_number + $2
    WHERE id = $1
    RETURNING last_chat_number - $2 AS taken
), numbered AS (
    SELECT b.taken + n AS number FROM bumped b, generate_series(1::bigint, $2::bigint) AS n
), counters AS (
    INSERT INTO chat_counters (application_id, chat_number, last_activity_at, activity_slot)
    SELECT $1, number, now(), activity_slot(now()) FROM numbered
)
SELECT number FROM numbered ORDER BY number
