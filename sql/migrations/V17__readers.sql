-- Read positions and the inbox (issue 17, part 2). Expand only: the previous release neither
-- reads nor writes `chat_members`, and leaves the new nullable column of `chat_counters` alone
-- (it names its columns in every statement).
--
-- `chat_counters.last_activity_at`: when the chat's last message was accepted (or the chat
-- created), set by the same statement that bumps `last_message_number` and never moved back
-- (`greatest`). NULL for chats of before this release and for those the previous release
-- creates or writes to during an upgrade: they sort after every chat with a time (as
-- '-infinity'). `activity_slot` is that time in slots of 5 seconds (`activity_slot()`), set
-- with it; the index walks an application's chats by slot, newest first (the inbox of a reader
-- in most chats sorts each slot's chats by the exact time as it goes). Indexing the slot rather
-- than the time keeps the counter bumps HOT updates (no indexed value changes) except the first
-- one of a chat in each slot; an index on the time itself made every bump non-HOT (the
-- measured costs are in BENCHMARKS.md, "Inbox").
--
-- `chat_members`: one row per chat and reader that joined it (explicitly, by sending to it or
-- by recording a read position there), with how far that reader has read (`last_read`, a
-- message number; 0 = nothing). Keyed by chat first (a chat delete's purge, a member's probe in
-- the activity walk); `chat_members_member` lists a reader's chats (the inbox of a reader in
-- few chats).
--
-- Each statement through EXECUTE, one per string, sequential on Citus (see V15).
-- Written with the interval since the epoch: `extract` from a timestamptz is only STABLE (other
-- fields depend on the time zone), and an IMMUTABLE function whose body is not is never inlined
-- into the statements that call it, which then pay a function call per row (measured: a fifth
-- of the creation statement's rate).
CREATE FUNCTION activity_slot(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor(extract(epoch FROM (t - timestamptz 'epoch')) / 5)::bigint;

DO $$
BEGIN
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    EXECUTE 'ALTER TABLE chat_counters ADD COLUMN last_activity_at timestamptz';
    EXECUTE 'ALTER TABLE chat_counters ADD COLUMN activity_slot bigint';
    EXECUTE 'CREATE INDEX chat_counters_activity ON chat_counters '
            '(application_id, (coalesce(activity_slot, -1)) DESC)';
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
