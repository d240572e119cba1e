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
--
-- Where it does nothing, and how to catch up: a database whose `citus` extension has no worker
-- registered yet (`citus_is_coordinator()` is false until the first `citus_add_node`) and a
-- worker's own database keep their tables as they are. Register the workers before the service's
-- first start on the coordinator; a database migrated before that is distributed by running this
-- block by hand (it skips the tables already distributed). On a database with rows,
-- create_distributed_table copies each table's rows to its shards inside this transaction, and
-- the coordinator's own copy (which no query reads any more) is then emptied.
DO $citus$
DECLARE
    t text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT citus_is_coordinator() THEN
        RAISE NOTICE 'citus: not a coordinator with registered workers: tables left as they are';
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['applications', 'idempotency_keys', 'intake_batches'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t::regclass) THEN
            PERFORM create_reference_table(t);
            PERFORM truncate_local_data_after_distributing_table(t);
        END IF;
    END LOOP;
    -- chat_counters first, in a colocation group of its own; the others join it.
    FOREACH t IN ARRAY ARRAY['chat_counters', 'chats', 'messages', 'jobs', 'dead_jobs', 'purges',
                             'app_rate_limits'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t::regclass) THEN
            PERFORM create_distributed_table(t, 'application_id',
                colocate_with => CASE WHEN t = 'chat_counters' THEN 'none' ELSE 'chat_counters' END);
            PERFORM truncate_local_data_after_distributing_table(t);
        END IF;
    END LOOP;
END
$citus$;
