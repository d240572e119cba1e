-- `jobs_count_chats.sql` for a batch of one application, for Citus: one row, so no order to lock
-- in (a locking CTE on a reference table also trips a Citus bug, FINDINGS.md §4).
UPDATE applications SET chats_count = chats_count + $2 WHERE id = $1
