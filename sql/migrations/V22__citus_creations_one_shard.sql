-- Citus (issue 15): V21's creation functions again, as statements that each touch one table on
-- the application's shard. On plain PostgreSQL this does nothing.
--
-- V21 wrote them as one chain of CTEs, like the single-node statements. Citus delegates the call
-- to the node that holds the application, but that node's planner cannot push such a chain down
-- as one query (its CTEs insert): it split `intake_messages_app` into 11 steps, copied
-- intermediate results between nodes, sent the `chat_members … ON CONFLICT` and
-- `intake_batches … RETURNING` inserts to every shard, and committed on 3 nodes in two phases
-- (FINDINGS.md §12: 85-225 ms a call). Here every statement that reads or writes a distributed
-- table names `application_id = app` and is either a router statement (one shard, run by the
-- node itself: the shard is there) or an `INSERT … SELECT` from the function's own arrays, whose
-- rows all go to that shard. What joins requests to results (numbering, the batch's answer) is
-- computed from arrays, with no table. The whole call then runs and commits on one node
-- (FINDINGS.md §13 shows the commands Citus runs).
--
-- Behaviour is V21's (and the single-node statements'): the claims of keyed requests are locked
-- first; counters are locked in chat order, so concurrent batches never deadlock; a request
-- whose application or chat does not exist creates nothing and fails alone (NULL); a keyed
-- request whose claim was taken over creates nothing (0); members join in (chat, sender) order
-- under their chat's counter lock.
DO $citus$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT citus_is_coordinator() THEN
        RAISE NOTICE 'citus: not a coordinator with registered workers: V22 left undone';
        RETURN;
    END IF;
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);

    -- The claims still held by keyed requests, locked: the requests' positions (1-based).
    CREATE FUNCTION intake_held_claims(app bigint, scopes text[], keys text[], claims uuid[])
    RETURNS bigint[] LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
    BEGIN
        IF cardinality(array_remove(keys, NULL)) = 0 THEN
            RETURN '{}';
        END IF;
        RETURN ARRAY(
            SELECT r.ord FROM unnest(scopes, keys, claims) WITH ORDINALITY AS r(idem_scope, idem_key, idem_claim, ord)
            JOIN idempotency_keys ik ON ik.application_id = app AND ik.scope = r.idem_scope
                                    AND ik.key = r.idem_key AND ik.claim = r.idem_claim
            ORDER BY r.ord
            FOR NO KEY UPDATE OF ik);
    END $fn$;

    -- The created requests' results under their keys (numbers: each request's, NULL or 0 for
    -- none), then the batch's record; returns the answer, {"numbers": [...], "at": ...}.
    CREATE FUNCTION intake_finish(app bigint, scopes text[], keys text[], claims uuid[], batch uuid,
                                  numbers_ bigint[], at_ timestamptz)
    RETURNS json LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
    DECLARE
        accepted timestamptz;
    BEGIN
        IF cardinality(array_remove(keys, NULL)) > 0 THEN
            UPDATE idempotency_keys ik SET status = 201, result_number = r.number, result_at = at_
            FROM unnest(scopes, keys, claims, numbers_) AS r(idem_scope, idem_key, idem_claim, number)
            WHERE ik.application_id = app AND ik.scope = r.idem_scope AND ik.key = r.idem_key
              AND ik.claim = r.idem_claim AND r.number > 0;
        END IF;
        INSERT INTO intake_batches (application_id, id, numbers) VALUES (app, batch, numbers_)
        RETURNING accepted_at INTO accepted;
        RETURN json_build_object('numbers', numbers_, 'at', accepted);
    END $fn$;

    CREATE OR REPLACE FUNCTION intake_messages_app(app bigint, chats bigint[], bodies text[], senders text[],
                                                   scopes text[], keys text[], claims uuid[], batch uuid)
    RETURNS json LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
    DECLARE
        at_ timestamptz := now();
        held bigint[] := intake_held_claims(app, scopes, keys, claims);
        exists_ boolean := EXISTS (SELECT 1 FROM applications a WHERE a.id = app);
        w_chats bigint[];
        w_ns bigint[];
        b_chats bigint[] := '{}';
        b_taken bigint[] := '{}';
        numbers_ bigint[];
        r record;
    BEGIN
        -- Requests that may create: each chat's count, in chat order.
        SELECT array_agg(q.chat_number ORDER BY q.chat_number), array_agg(q.n ORDER BY q.chat_number)
        INTO w_chats, w_ns
        FROM (SELECT k.chat_number, count(*) AS n
              FROM unnest(chats, keys) WITH ORDINALITY AS k(chat_number, idem_key, ord)
              WHERE exists_ AND (k.idem_key IS NULL OR k.ord = ANY (held))
              GROUP BY k.chat_number) q;
        IF w_chats IS NOT NULL THEN
            PERFORM 1 FROM chat_counters cc
            WHERE cc.application_id = app AND cc.chat_number = ANY (w_chats)
            ORDER BY cc.chat_number FOR NO KEY UPDATE;
            FOR r IN
                UPDATE chat_counters cc SET last_message_number = cc.last_message_number + w.n,
                                            last_activity_at = greatest(cc.last_activity_at, at_),
                                            activity_slot = greatest(cc.activity_slot, activity_slot(at_))
                FROM unnest(w_chats, w_ns) AS w(chat_number, n)
                WHERE cc.application_id = app AND cc.chat_number = w.chat_number
                RETURNING cc.chat_number, cc.last_message_number - w.n AS taken
            LOOP
                b_chats := b_chats || r.chat_number;
                b_taken := b_taken || r.taken;
            END LOOP;
        END IF;
        -- Each request's number: its chat's block, in arrival order.
        WITH req AS (
            SELECT * FROM unnest(chats, keys) WITH ORDINALITY AS k(chat_number, idem_key, ord)
        ), numbered AS (
            SELECT req.ord, b.taken + row_number() OVER (PARTITION BY req.chat_number ORDER BY req.ord) AS number
            FROM req JOIN unnest(b_chats, b_taken) AS b(chat_number, taken) USING (chat_number)
            WHERE req.idem_key IS NULL OR req.ord = ANY (held)
        )
        SELECT array_agg(CASE WHEN n.number IS NOT NULL THEN n.number
                              WHEN req.idem_key IS NOT NULL AND NOT req.ord = ANY (held) THEN 0
                         END ORDER BY req.ord)
        INTO numbers_
        FROM req LEFT JOIN numbered n USING (ord);
        IF cardinality(b_chats) > 0 THEN
            -- With a sender, fenced from the previous release's workers (see V15).
            INSERT INTO jobs (application_id, chat_number, message_number, body, sender, run_at, ready_at)
            SELECT app, j.chat_number, j.number, j.body, j.sender,
                   CASE WHEN j.sender IS NULL THEN at_ ELSE 'infinity' END,
                   CASE WHEN j.sender IS NULL THEN NULL ELSE at_ END
            FROM unnest(chats, numbers_, bodies, senders) AS j(chat_number, number, body, sender)
            WHERE j.number > 0;
            FOR r IN
                SELECT DISTINCT j.chat_number, j.sender
                FROM unnest(chats, numbers_, senders) AS j(chat_number, number, sender)
                WHERE j.number > 0 AND j.sender IS NOT NULL
                ORDER BY 1, 2
            LOOP
                INSERT INTO chat_members (application_id, chat_number, member)
                VALUES (app, r.chat_number, r.sender) ON CONFLICT DO NOTHING;
            END LOOP;
        END IF;
        RETURN intake_finish(app, scopes, keys, claims, batch, numbers_, at_);
    END $fn$;

    CREATE OR REPLACE FUNCTION intake_chats_app(app bigint, scopes text[], keys text[], claims uuid[], batch uuid)
    RETURNS json LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
    DECLARE
        at_ timestamptz := now();
        held bigint[] := intake_held_claims(app, scopes, keys, claims);
        wanted bigint;
        taken bigint;
        numbers_ bigint[];
    BEGIN
        SELECT count(*) INTO wanted
        FROM unnest(keys) WITH ORDINALITY AS k(idem_key, ord)
        WHERE k.idem_key IS NULL OR k.ord = ANY (held);
        IF wanted > 0 AND EXISTS (SELECT 1 FROM applications a WHERE a.id = app) THEN
            UPDATE app_counters ac SET last_chat_number = ac.last_chat_number + wanted
            WHERE ac.application_id = app
            RETURNING ac.last_chat_number - wanted INTO taken;
        END IF;
        WITH req AS (
            SELECT * FROM unnest(keys) WITH ORDINALITY AS k(idem_key, ord)
        ), numbered AS (
            SELECT req.ord, taken + row_number() OVER (ORDER BY req.ord) AS number
            FROM req WHERE taken IS NOT NULL AND (req.idem_key IS NULL OR req.ord = ANY (held))
        )
        SELECT array_agg(CASE WHEN n.number IS NOT NULL THEN n.number
                              WHEN req.idem_key IS NOT NULL AND NOT req.ord = ANY (held) THEN 0
                         END ORDER BY req.ord)
        INTO numbers_
        FROM req LEFT JOIN numbered n USING (ord);
        IF taken IS NOT NULL THEN
            INSERT INTO chat_counters (application_id, chat_number, last_activity_at, activity_slot)
            SELECT app, g, at_, activity_slot(at_) FROM generate_series(taken + 1, taken + wanted) AS g;
            INSERT INTO jobs (application_id, chat_number)
            SELECT app, g FROM generate_series(taken + 1, taken + wanted) AS g;
        END IF;
        RETURN intake_finish(app, scopes, keys, claims, batch, numbers_, at_);
    END $fn$;
END
$citus$;
