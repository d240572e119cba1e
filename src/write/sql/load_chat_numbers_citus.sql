-- `load_chat_numbers.sql` on Citus, first step: takes $2 numbers from application $1's chat
-- counter (`app_counters` there, V21), on its shard. The last number taken before them.
UPDATE app_counters SET last_chat_number = last_chat_number + $2
WHERE application_id = $1
RETURNING last_chat_number - $2
