-- On Citus (V21): the chat counts of applications $1 (ids), kept in `app_counters` on each
-- application's shard (the reference table's `chats_count` is not updated there).
SELECT application_id, chats_count FROM app_counters WHERE application_id = ANY ($1::bigint[])
