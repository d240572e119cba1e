-- Senders (issue 17): a message may name its author, the application's own id for them (the
-- service does not manage users). Nullable: the messages written before, and those written by
-- the previous release during an upgrade, have none.
--
-- A chat's messages by one sender, newest first (`?sender=` on lists and searches), without
-- reading the others: index `messages_sender`, of only the rows with a sender, so a message
-- without one costs nothing more to write.
--
-- The previous release's workers know nothing of `jobs.sender`: one of them writing a job of
-- this release would drop its sender. So a job with a sender is queued with `run_at` at
-- 'infinity' (which the previous release's claim never reaches) and `ready_at` set to when it
-- may run, which only this release's claim reads (`coalesce(ready_at, run_at)`). Jobs without a
-- sender are queued as before, and either release may write them. The release after this one,
-- with no previous release left that drops senders, queues every job by `run_at` again.
--
-- Each statement through EXECUTE, one per string: on Citus, DDL on a distributed table is
-- forwarded to the workers as its text, which must be one statement (see V14); and after an
-- ALTER TABLE has opened a connection per shard, Citus can create the index only over one
-- connection per node (`multi_shard_modify_mode`; on plain PostgreSQL a setting nothing reads).
DO $$
BEGIN
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    EXECUTE 'ALTER TABLE messages ADD COLUMN sender text';
    EXECUTE 'ALTER TABLE jobs ADD COLUMN sender text';
    EXECUTE 'ALTER TABLE jobs ADD COLUMN ready_at timestamptz';
    EXECUTE 'CREATE INDEX messages_sender ON messages (application_id, chat_number, sender, number) '
            'WHERE sender IS NOT NULL';
END
$$;
