-- Citus (issue 15, phase 2): creations on the shard of their application. On plain PostgreSQL
-- this adds one nullable column that only Citus fills (`intake_batches.application_id`) and
-- nothing else, so both keep the same history and the single-node statements are unchanged.
--
-- On a Citus coordinator (FINDINGS.md §7, items 1, 3 and 4):
-- - `intake_batches` and `idempotency_keys` stop being reference tables (a copy on every node,
--   every write a transaction on all of them) and are distributed by `application_id` with the
--   other tables. Their keys gain the application: (application_id, id) and (application_id,
--   scope, key). Keys of application creations, which have no application yet, are kept under
--   application 0 (Citus takes no NULL distribution value; no application has id 0).
-- - `app_counters` holds each application's last chat number and chat count, colocated with its
--   chats: the chat creations' counter bump and the workers' count are then writes on one
--   shard, not on every node (the reference table's `applications.last_chat_number` and
--   `chats_count` are no longer updated there; reads take the count from here).
-- - `intake_messages_app` and `intake_chats_app` are the group-commit statements for one
--   application's batch (`intake_messages.sql`, `intake_chats.sql`), as functions that Citus
--   delegates to the node holding the application (`force_delegation`): the whole batch, its
--   counters, jobs, keys and batch record, is one call that runs and commits on that node.
--   `application_create_citus` creates an application (on the coordinator: the application row
--   is a reference table's).
-- Nothing here runs without the extension or before workers are registered (as V13).
ALTER TABLE intake_batches ADD COLUMN application_id bigint;

DO $citus$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT citus_is_coordinator() THEN
        RAISE NOTICE 'citus: not a coordinator with registered workers: V21 left undone';
        RETURN;
    END IF;
    -- One connection per node for the whole block: creating the functions below after the
    -- tables' changes is refused after a parallel (multi-connection) operation.
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    -- The batch records are needed for minutes (`intake::fence`) and nothing on Citus could
    -- write them before this release: the old ones are dropped, not moved.
    PERFORM undistribute_table('intake_batches');
    DELETE FROM intake_batches WHERE application_id IS NULL;
    ALTER TABLE intake_batches ALTER COLUMN application_id SET NOT NULL;
    ALTER TABLE intake_batches DROP CONSTRAINT intake_batches_pkey;
    ALTER TABLE intake_batches ADD PRIMARY KEY (application_id, id);
    PERFORM create_distributed_table('intake_batches', 'application_id', colocate_with => 'chat_counters');

    PERFORM undistribute_table('idempotency_keys');
    UPDATE idempotency_keys SET application_id = 0 WHERE application_id IS NULL;
    ALTER TABLE idempotency_keys ALTER COLUMN application_id SET NOT NULL;
    ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
    ALTER TABLE idempotency_keys ADD PRIMARY KEY (application_id, scope, key);
    PERFORM create_distributed_table('idempotency_keys', 'application_id', colocate_with => 'chat_counters');

    CREATE TABLE app_counters (
        application_id   bigint PRIMARY KEY,
        last_chat_number bigint NOT NULL DEFAULT 0,
        chats_count      bigint NOT NULL DEFAULT 0
    );
    PERFORM create_distributed_table('app_counters', 'application_id', colocate_with => 'chat_counters');
    INSERT INTO app_counters (application_id, last_chat_number, chats_count)
    SELECT id, last_chat_number, chats_count FROM applications;

    -- intake_messages.sql for the batch of one application ($app): see there for each step.
    -- Returns {"numbers": [...], "at": accepted_at}.
    CREATE FUNCTION intake_messages_app(app bigint, chats bigint[], bodies text[], senders text[],
                                        scopes text[], keys text[], claims uuid[], batch uuid)
    RETURNS json LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
    DECLARE
        result json;
        held_ords bigint[];
    BEGIN
        -- The requests whose claims are still theirs, locked (a statement of its own: Citus
        -- reads a locking CTE's rows back wrongly, FINDINGS.md §4 rule 7).
        held_ords := ARRAY(
            SELECT r.ord FROM unnest(scopes, keys, claims) WITH ORDINALITY AS r(idem_scope, idem_key, idem_claim, ord)
            JOIN idempotency_keys ik ON ik.application_id = app AND ik.scope = r.idem_scope
                                    AND ik.key = r.idem_key AND ik.claim = r.idem_claim
            FOR NO KEY UPDATE OF ik);
        WITH req AS (
            SELECT * FROM unnest(chats, bodies, senders, scopes, keys, claims)
                WITH ORDINALITY AS r(chat_number, body, sender, idem_scope, idem_key, idem_claim, ord)
        ), held AS (
            SELECT unnest(held_ords) AS ord
        ), keyed AS (
            SELECT req.ord, req.chat_number, req.body, req.sender FROM req
            WHERE EXISTS (SELECT 1 FROM applications a WHERE a.id = app)
              AND (req.idem_key IS NULL OR req.ord IN (SELECT ord FROM held))
        ), wanted AS (
            SELECT chat_number, count(*) AS n FROM keyed GROUP BY chat_number
        ), locked AS (
            SELECT c.chat_number
            FROM (SELECT * FROM wanted ORDER BY chat_number) w,
            LATERAL (SELECT cc.chat_number FROM chat_counters cc
                     WHERE cc.application_id = app AND cc.chat_number = w.chat_number
                     FOR NO KEY UPDATE OFFSET 0) c
        ), bumped AS (
            UPDATE chat_counters cc SET last_message_number = cc.last_message_number + w.n,
                                        last_activity_at = greatest(cc.last_activity_at, now()),
                                        activity_slot = greatest(cc.activity_slot, activity_slot(now()))
            FROM wanted w
            WHERE cc.application_id = app AND cc.chat_number = w.chat_number
              AND (SELECT count(*) FROM locked) >= 0
            RETURNING cc.chat_number, cc.last_message_number - w.n AS taken
        ), numbered AS (
            SELECT k.ord, k.chat_number, k.body, k.sender,
                   b.taken + row_number() OVER (PARTITION BY k.chat_number ORDER BY k.ord) AS number
            FROM keyed k JOIN bumped b USING (chat_number)
        ), queued AS (
            INSERT INTO jobs (application_id, chat_number, message_number, body, sender, run_at, ready_at)
            SELECT app, chat_number, number, body, sender,
                   CASE WHEN sender IS NULL THEN now() ELSE 'infinity' END,
                   CASE WHEN sender IS NULL THEN NULL ELSE now() END
            FROM numbered
        ), joined AS (
            INSERT INTO chat_members (application_id, chat_number, member)
            SELECT DISTINCT app, chat_number, sender FROM numbered WHERE sender IS NOT NULL
            ON CONFLICT DO NOTHING
        ), remembered AS (
            UPDATE idempotency_keys ik SET status = 201, result_number = n.number, result_at = now()
            FROM numbered n JOIN req r ON r.ord = n.ord
            WHERE ik.application_id = app AND ik.scope = r.idem_scope AND ik.key = r.idem_key
              AND ik.claim = r.idem_claim
        ), recorded AS (
            INSERT INTO intake_batches (application_id, id, numbers)
            SELECT app, batch, array_agg(CASE WHEN n.number IS NOT NULL THEN n.number
                                              WHEN r.idem_key IS NOT NULL AND r.ord NOT IN (SELECT ord FROM held) THEN 0
                                         END ORDER BY r.ord)
            FROM req r LEFT JOIN numbered n ON n.ord = r.ord
            RETURNING numbers, accepted_at
        )
        SELECT json_build_object('numbers', numbers, 'at', accepted_at) INTO result FROM recorded;
        RETURN result;
    END $fn$;
    PERFORM create_distributed_function(
        'intake_messages_app(bigint, bigint[], text[], text[], text[], text[], uuid[], uuid)', 'app',
        colocate_with := 'chat_counters', force_delegation := true);

    -- intake_chats.sql for the batch of one application ($app), its counter in app_counters.
    CREATE FUNCTION intake_chats_app(app bigint, scopes text[], keys text[], claims uuid[], batch uuid)
    RETURNS json LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
    DECLARE
        result json;
        held_ords bigint[];
    BEGIN
        -- As in intake_messages_app: the claims locked in a statement of their own.
        held_ords := ARRAY(
            SELECT r.ord FROM unnest(scopes, keys, claims) WITH ORDINALITY AS r(idem_scope, idem_key, idem_claim, ord)
            JOIN idempotency_keys ik ON ik.application_id = app AND ik.scope = r.idem_scope
                                    AND ik.key = r.idem_key AND ik.claim = r.idem_claim
            FOR NO KEY UPDATE OF ik);
        WITH req AS (
            SELECT * FROM unnest(scopes, keys, claims) WITH ORDINALITY AS r(idem_scope, idem_key, idem_claim, ord)
        ), held AS (
            SELECT unnest(held_ords) AS ord
        ), keyed AS (
            SELECT req.ord FROM req
            WHERE EXISTS (SELECT 1 FROM applications a WHERE a.id = app)
              AND (req.idem_key IS NULL OR req.ord IN (SELECT ord FROM held))
        ), bumped AS (
            UPDATE app_counters ac SET last_chat_number = ac.last_chat_number + w.n
            FROM (SELECT count(*) AS n FROM keyed) w
            WHERE ac.application_id = app AND w.n > 0
            RETURNING ac.last_chat_number - w.n AS taken
        ), numbered AS (
            SELECT k.ord, b.taken + row_number() OVER (ORDER BY k.ord) AS number
            FROM keyed k, bumped b
        ), counters AS (
            INSERT INTO chat_counters (application_id, chat_number, last_activity_at, activity_slot)
            SELECT app, number, now(), activity_slot(now()) FROM numbered
        ), queued AS (
            INSERT INTO jobs (application_id, chat_number) SELECT app, number FROM numbered
        ), remembered AS (
            UPDATE idempotency_keys ik SET status = 201, result_number = n.number, result_at = now()
            FROM numbered n JOIN req r ON r.ord = n.ord
            WHERE ik.application_id = app AND ik.scope = r.idem_scope AND ik.key = r.idem_key
              AND ik.claim = r.idem_claim
        ), recorded AS (
            INSERT INTO intake_batches (application_id, id, numbers)
            SELECT app, batch, array_agg(CASE WHEN n.number IS NOT NULL THEN n.number
                                              WHEN r.idem_key IS NOT NULL AND r.ord NOT IN (SELECT ord FROM held) THEN 0
                                         END ORDER BY r.ord)
            FROM req r LEFT JOIN numbered n ON n.ord = r.ord
            RETURNING numbers, accepted_at
        )
        SELECT json_build_object('numbers', numbers, 'at', accepted_at) INTO result FROM recorded;
        RETURN result;
    END $fn$;
    PERFORM create_distributed_function(
        'intake_chats_app(bigint, text[], text[], uuid[], uuid)', 'app',
        colocate_with := 'chat_counters', force_delegation := true);

    -- application_create.sql on the coordinator, one single-shard or reference statement at a
    -- time; its key and batch record under application 0.
    CREATE FUNCTION application_create_citus(new_token uuid, new_name text, scope_ text, key_ text,
                                             claim_ uuid, batch uuid)
    RETURNS json LANGUAGE plpgsql AS $fn$
    DECLARE
        created applications%ROWTYPE;
        numbers_ bigint[];
        at_ timestamptz;
    BEGIN
        IF key_ IS NULL OR EXISTS (SELECT 1 FROM idempotency_keys ik
                                    WHERE ik.application_id = 0 AND ik.scope = scope_ AND ik.key = key_
                                      AND ik.claim = claim_ FOR NO KEY UPDATE) THEN
            INSERT INTO applications (token, name) VALUES (new_token, new_name) RETURNING * INTO created;
            INSERT INTO app_counters (application_id) VALUES (created.id);
            UPDATE idempotency_keys ik SET status = 201, result_token = created.token, result_at = created.created_at
            WHERE ik.application_id = 0 AND ik.scope = scope_ AND ik.key = key_ AND ik.claim = claim_;
        END IF;
        INSERT INTO intake_batches (application_id, id, numbers)
        VALUES (0, batch, ARRAY[CASE WHEN created.id IS NULL THEN 0 ELSE 1 END])
        RETURNING numbers, accepted_at INTO numbers_, at_;
        RETURN json_build_object('numbers', numbers_, 'at', at_);
    END $fn$;
END
$citus$;
