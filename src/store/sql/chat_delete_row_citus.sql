-- `chat_delete_row.sql` on Citus, in three statements of the delete's transaction (Citus runs no
-- statement with modifying CTEs on one shard): removes the chat row; the caller then hands the
-- messages to the purger (`chat_delete_purge.sql`) and, last before its commit, keeps the count
-- (`chat_delete_count.sql`) when one was removed.
DELETE FROM chats WHERE application_id = $1 AND number = $2
