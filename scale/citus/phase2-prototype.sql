-- Phase 2 prototype (issue 15): the shapes FINDINGS.md proposes, tried on the coordinator of a
-- cluster started by scale/citus/run after the service's migrations (V13). Everything lives in
-- the schema p2 and is dropped at the end; nothing here is part of the service.
--
--   psql "$DATABASE_URL" -f scale/citus/phase2-prototype.sql
\set ON_ERROR_STOP 0
\set VERBOSITY terse
DROP SCHEMA IF EXISTS p2 CASCADE;
CREATE SCHEMA p2;

-- The token -> application id directory, distributed by token: finding an application by its
-- token reads one shard of this table (on whichever node holds that token's hash).
CREATE TABLE p2.app_tokens (token uuid PRIMARY KEY, application_id bigint NOT NULL);
SELECT create_distributed_table('p2.app_tokens', 'token');
-- The application's chat counter, moved out of the reference table, colocated with its chats.
CREATE TABLE p2.app_counters (application_id bigint PRIMARY KEY, last_chat_number bigint NOT NULL DEFAULT 0);
SELECT create_distributed_table('p2.app_counters', 'application_id', colocate_with => 'public.chat_counters');
-- Batches and idempotency keys keyed by application first, colocated.
CREATE TABLE p2.intake_batches (application_id bigint, id uuid, numbers bigint[],
                                accepted_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (application_id, id));
SELECT create_distributed_table('p2.intake_batches', 'application_id', colocate_with => 'public.chat_counters');
CREATE TABLE p2.idempotency_keys (application_id bigint, scope text, key text, claim uuid, status smallint,
                                  result_number bigint, result_at timestamptz, PRIMARY KEY (application_id, scope, key));
SELECT create_distributed_table('p2.idempotency_keys', 'application_id', colocate_with => 'public.chat_counters');

INSERT INTO p2.app_tokens SELECT token, id FROM applications WHERE token = '00000000-0000-4000-8000-0000000000a1';
INSERT INTO p2.app_counters SELECT id, last_chat_number FROM applications WHERE token = '00000000-0000-4000-8000-0000000000a1';
SELECT application_id AS app FROM p2.app_tokens WHERE token = '00000000-0000-4000-8000-0000000000a1' \gset

\echo === 1. token -> id, generic plan (as the service prepares statements)
SET plan_cache_mode = force_generic_plan;
PREPARE app_id(uuid) AS SELECT application_id FROM p2.app_tokens WHERE token = $1;
EXPLAIN (COSTS OFF) EXECUTE app_id('00000000-0000-4000-8000-0000000000a1');

\echo === 2. a group-commit batch of one application of messages as one statement (custom plan)
SET plan_cache_mode = force_custom_plan;
PREPARE batch(bigint, bigint[], text[], uuid) AS
WITH req AS (
    SELECT * FROM unnest($2, $3) WITH ORDINALITY AS r(chat_number, body, ord)
), wanted AS (
    SELECT chat_number, count(*) AS n FROM req GROUP BY chat_number
), bumped AS (
    UPDATE chat_counters cc SET last_message_number = cc.last_message_number + w.n
    FROM wanted w
    WHERE cc.application_id = $1 AND cc.chat_number = w.chat_number
    RETURNING cc.chat_number, cc.last_message_number - w.n AS taken
), numbered AS (
    SELECT r.ord, r.chat_number, r.body,
           b.taken + row_number() OVER (PARTITION BY r.chat_number ORDER BY r.ord) AS number
    FROM req r JOIN bumped b USING (chat_number)
), queued AS (
    INSERT INTO jobs (application_id, chat_number, message_number, body)
    SELECT $1, chat_number, number, body FROM numbered
)
INSERT INTO p2.intake_batches (application_id, id, numbers)
SELECT $1, $4, array_agg(n.number ORDER BY r.ord) FROM req r LEFT JOIN numbered n USING (ord)
RETURNING numbers;
EXPLAIN (COSTS OFF) EXECUTE batch(:app, ARRAY[1, 1]::bigint[], ARRAY['a', 'b'], '00000000-0000-4000-8000-0000000000b0');

\echo === 3. the same batch as a function delegated to the node that holds the application
CREATE FUNCTION p2.intake_messages(app bigint, chats bigint[], bodies text[], batch_id uuid)
RETURNS bigint[] LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
DECLARE result bigint[];
BEGIN
    WITH req AS (
        SELECT * FROM unnest(chats, bodies) WITH ORDINALITY AS r(chat_number, body, ord)
    ), wanted AS (
        SELECT chat_number, count(*) AS n FROM req GROUP BY chat_number
    ), bumped AS (
        UPDATE chat_counters cc SET last_message_number = cc.last_message_number + w.n
        FROM wanted w
        WHERE cc.application_id = app AND cc.chat_number = w.chat_number
        RETURNING cc.chat_number, cc.last_message_number - w.n AS taken
    ), numbered AS (
        SELECT r.ord, r.chat_number, r.body,
               b.taken + row_number() OVER (PARTITION BY r.chat_number ORDER BY r.ord) AS number
        FROM req r JOIN bumped b USING (chat_number)
    ), queued AS (
        INSERT INTO jobs (application_id, chat_number, message_number, body)
        SELECT app, chat_number, number, body FROM numbered
    )
    INSERT INTO p2.intake_batches (application_id, id, numbers)
    SELECT app, batch_id, array_agg(n.number ORDER BY r.ord) FROM req r LEFT JOIN numbered n USING (ord)
    RETURNING numbers INTO result;
    RETURN result;
END $fn$;
SELECT create_distributed_function('p2.intake_messages(bigint,bigint[],text[],uuid)', 'app',
                                   colocate_with := 'public.chat_counters', force_delegation := true);
SET citus.log_remote_commands = on;
SET client_min_messages = log;
BEGIN;
SELECT p2.intake_messages(:app, ARRAY[1, 1]::bigint[], ARRAY['a', 'b'], '00000000-0000-4000-8000-0000000000b1');
SELECT p2.intake_messages(:app, ARRAY[1]::bigint[], ARRAY['c'], '00000000-0000-4000-8000-0000000000b2');
ROLLBACK;
RESET client_min_messages;
SET citus.log_remote_commands = off;
-- ten calls (past plpgsql's five custom plans): still planned
SELECT count(p2.intake_messages(:app, ARRAY[1]::bigint[], ARRAY['x'], gen_random_uuid())) FROM generate_series(1, 10);
DELETE FROM jobs WHERE application_id = :app AND body = 'x';
UPDATE chat_counters SET last_message_number = 2 WHERE application_id = :app AND chat_number = 1;

\echo === 4. a claim within one application (one shard group), custom plan
PREPARE claim(bigint, int) AS
DELETE FROM jobs j WHERE j.application_id = $1 AND j.ctid = ANY (ARRAY(
    SELECT x.ctid FROM jobs x WHERE x.application_id = $1 AND x.run_at <= now()
    ORDER BY x.id LIMIT $2 FOR UPDATE OF x SKIP LOCKED))
RETURNING j.id;
EXPLAIN (COSTS OFF) EXECUTE claim(:app, 500);
BEGIN; EXECUTE claim(:app, 500); ROLLBACK;

\echo === 5. which applications have jobs ready on one shard (a claimer round): one task
SELECT shardid, nodeport FROM citus_shards WHERE table_name = 'jobs'::regclass ORDER BY shardid LIMIT 1 \gset
SET plan_cache_mode = force_custom_plan;
EXPLAIN (COSTS OFF)
SELECT DISTINCT application_id FROM jobs WHERE application_id IN (SELECT :app) AND run_at <= now();

\echo === 6. a read by id: chat_get rewritten without the reference table (generic plan)
SET plan_cache_mode = force_generic_plan;
PREPARE chat_get(bigint, bigint) AS
SELECT number, messages_count, created_at, updated_at FROM chats WHERE application_id = $1 AND number = $2;
EXPLAIN (COSTS OFF) EXECUTE chat_get(:app, 1);
PREPARE chat_get_queued(bigint, bigint) AS
SELECT chat_number, created_at FROM jobs WHERE application_id = $1 AND chat_number = $2 AND message_number IS NULL;
EXPLAIN (COSTS OFF) EXECUTE chat_get_queued(:app, 1);
\echo --- the same as one UNION ALL statement (as chat_get.sql has it, by id): generic, then custom
PREPARE chat_get_union(bigint, bigint) AS
(SELECT number, messages_count FROM chats WHERE application_id = $1 AND number = $2)
UNION ALL
(SELECT chat_number, 0 FROM jobs WHERE application_id = $1 AND chat_number = $2 AND message_number IS NULL)
LIMIT 1;
EXPLAIN (COSTS OFF) EXECUTE chat_get_union(:app, 1);
SET plan_cache_mode = force_custom_plan;
EXPLAIN (COSTS OFF) EXECUTE chat_get_union(:app, 1);

DROP SCHEMA p2 CASCADE;
