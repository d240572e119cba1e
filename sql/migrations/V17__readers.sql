-- Read positions and the inbox (issue 17, part 2). Expand only: the previous release neither
-- reads nor writes `chat_members`, and leaves the new nullable column of `chat_counters` alone
-- (it names its columns in every statement).
--
-- `chat_counters.last_activity_at`: when the chat's last message was accepted (or the chat
-- created), set by the same statement that bumps `last_message_number` and never moved back
-- (`greatest`). NULL for chats of before this release and for those the previous release
-- creates or writes to during an upgrade: they sort after every chat with a time (as
-- '-infinity'). The index walks an application's chats by activity, newest first (the inbox of
-- a reader in most chats). It makes every bump a non-HOT update (the measured cost is in
-- BENCHMARKS.md, "Inbox").
--
-- `chat_members`: one row per chat and reader that joined it (explicitly, by sending to it or
-- by recording a read position there), with how far that reader has read (`last_read`, a
-- message number; 0 = nothing). Keyed by chat first (a chat delete's purge, a member's probe in
-- the activity walk); `chat_members_member` lists a reader's chats (the inbox of a reader in
-- few chats).
--
-- Each statement through EXECUTE, one per string, sequential on Citus (see V15).
DO $$
BEGIN
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    EXECUTE 'ALTER TABLE chat_counters ADD COLUMN last_activity_at timestamptz';
    EXECUTE 'CREATE INDEX chat_counters_activity ON chat_counters '
            '(application_id, (coalesce(last_activity_at, ''-infinity''::timestamptz)) DESC, chat_number DESC)';
END
$$;

CREATE TABLE chat_members (
    application_id bigint      NOT NULL,
    chat_number    bigint      NOT NULL,
    member         text        NOT NULL,
    last_read      bigint      NOT NULL DEFAULT 0 CHECK (last_read >= 0),
    joined_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, chat_number, member)
);
CREATE INDEX chat_members_member ON chat_members (application_id, member, chat_number);

-- On a Citus coordinator (see V13): distributed by application, colocated with the rest.
DO $citus$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT citus_is_coordinator() THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'chat_members'::regclass) THEN
        PERFORM create_distributed_table('chat_members', 'application_id', colocate_with => 'chat_counters');
        PERFORM truncate_local_data_after_distributing_table('chat_members');
    END IF;
END
$citus$;
