-- `jobs_count_chats.sql` for a batch of one application, on Citus: its count is kept in V21's
-- `app_counters`, on its shard (the reference table's `chats_count` would be a write on every
-- node, committed across nodes).
UPDATE app_counters SET chats_count = chats_count + $2 WHERE application_id = $1
