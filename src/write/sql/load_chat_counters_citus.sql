-- `load_chat_numbers.sql` on Citus, second step: the message counters of application $1's new
-- chats, numbered $2 + 1 to $2 + $3, active at $4 (the load's transaction's now()).
INSERT INTO chat_counters (application_id, chat_number, last_activity_at, activity_slot)
SELECT $1, $2 + n, $4::timestamptz, activity_slot($4::timestamptz)
FROM generate_series(1::bigint, $3::bigint) AS n
