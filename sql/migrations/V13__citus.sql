-- Citus (issue 15, phase 1): when this database is a Citus coordinator, its tables become
-- distributed by application, so that a tenant's rows live together on one worker node. On plain
-- PostgreSQL (no `citus` extension in this database) this migration does nothing, so both keep
-- the same migration history. See scale/citus/FINDINGS.md for what was run and seen.
--
-- Distributed by `application_id`, all colocated (the same application's shards on the same node,
-- so joins between them by application stay on that node): chat_counters, chats, messages (with
-- its 32 hash partitions), jobs, dead_jobs, purges, app_rate_limits. Their keys all lead with
-- `application_id`, which Citus requires of every primary key and unique index.
--
-- Reference tables (a full copy on every node, every write a transaction on every node):
-- `applications`: it cannot be distributed by `id` as it stands, because its token must be
-- unique and Citus refuses a unique constraint without the distribution column ("Distributed
-- relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the
-- partition column"); and every request finds its application by token, so a table distributed
-- by id would be searched on every shard for each request.
-- `idempotency_keys` and `intake_batches`: keyed by (scope, key) and by a batch id that spans
-- applications, neither carries the application in its key; as reference tables they can be
-- joined with the distributed tables and with `applications` in one statement.
--
-- Left on the coordinator as plain tables: `gin_merges` (index oids of this node's catalog),
-- `rate_limits` (the previous release's counts, only expired now), refinery's history.
DO $citus$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT citus_is_coordinator() THEN
        RAISE NOTICE 'citus: this database is not the coordinator: tables left as they are';
        RETURN;
    END IF;
    PERFORM create_reference_table('applications');
    PERFORM create_reference_table('idempotency_keys');
    PERFORM create_reference_table('intake_batches');
    PERFORM create_distributed_table('chat_counters', 'application_id');
    PERFORM create_distributed_table(t, 'application_id', colocate_with => 'chat_counters')
    FROM unnest(ARRAY['chats', 'messages', 'jobs', 'dead_jobs', 'purges', 'app_rate_limits']) AS t;
END
$citus$;
