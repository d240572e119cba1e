-- Group commit for message creations: many requests (arrays, in arrival order: token, chat,
-- body, sender or NULL) in one statement.
-- Each chat's counter is bumped once by the number of its requests, so a hot chat takes a block
-- of numbers in one update; counters are locked in key order, so concurrent batches never
-- deadlock. A request whose application or chat does not exist creates nothing and fails alone.
-- Requests with an idempotency key ($5 scope, $6 key, $7 the claim the request made; NULL
-- without) create only while that claim is still theirs (its row locked until commit, so it
-- cannot be taken over meanwhile) and record their result under it.
-- The batch is recorded under $8 with what it created, in the same transaction: the answer is
-- that row, and if the answer is lost with the connection, `intake_resolve.sql` finds it (V10).
-- The bump also records the chat's activity (the inbox's order, never moved back; its slot
-- changes, making the update non-HOT, once per chat every 5 seconds at most, V17), and each
-- sender joins the chat (`chat_members`, V17) here, so that the chat is in its inbox once the
-- 201 is given; a member already there costs one probe of its key.
WITH req AS (
    SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[])
        WITH ORDINALITY AS r(token, chat_number, body, sender, idem_scope, idem_key, idem_claim, ord)
), held AS (
    SELECT r.ord FROM req r
    JOIN idempotency_keys ik ON ik.scope = r.idem_scope AND ik.key = r.idem_key AND ik.claim = r.idem_claim
    FOR NO KEY UPDATE OF ik
), keyed AS (
    SELECT req.ord, a.id AS application_id, req.chat_number, req.body, req.sender
    FROM req JOIN applications a ON a.token = req.token
    WHERE req.idem_key IS NULL OR req.ord IN (SELECT ord FROM held)
), wanted AS (
    SELECT application_id, chat_number, count(*) AS n FROM keyed GROUP BY application_id, chat_number
), locked AS (
    -- One index probe per chat, in key order (a nested loop over the sorted chats; OFFSET 0
    -- keeps the planner from turning it into a scan of every counter).
    SELECT c.application_id, c.chat_number
    FROM (SELECT * FROM wanted ORDER BY application_id, chat_number) w,
    LATERAL (SELECT cc.application_id, cc.chat_number FROM chat_counters cc
             WHERE cc.application_id = w.application_id AND cc.chat_number = w.chat_number
             FOR NO KEY UPDATE OFFSET 0) c
), bumped AS (
    UPDATE chat_counters cc SET last_message_number = cc.last_message_number + w.n,
                                last_activity_at = greatest(cc.last_activity_at, now()),
                                activity_slot = greatest(cc.activity_slot, activity_slot(now()))
    FROM wanted w
    WHERE cc.application_id = w.application_id AND cc.chat_number = w.chat_number
      AND (SELECT count(*) FROM locked) >= 0 -- locks first, in key order (evaluated once)
    RETURNING cc.application_id, cc.chat_number, cc.last_message_number - w.n AS taken
), numbered AS (
    SELECT k.ord, k.application_id, k.chat_number, k.body, k.sender,
           b.taken + row_number() OVER (PARTITION BY k.application_id, k.chat_number ORDER BY k.ord) AS number
    FROM keyed k JOIN bumped b USING (application_id, chat_number)
), queued AS (
    -- With a sender, fenced from the previous release's workers (see V15).
    INSERT INTO jobs (application_id, chat_number, message_number, body, sender, run_at, ready_at)
    SELECT application_id, chat_number, number, body, sender,
           CASE WHEN sender IS NULL THEN now() ELSE 'infinity' END,
           CASE WHEN sender IS NULL THEN NULL ELSE now() END
    FROM numbered
), joined AS (
    -- Under the chat's counter lock, like every insert of a member row of this chat here: two
    -- batches never insert the same member row in opposite orders.
    INSERT INTO chat_members (application_id, chat_number, member)
    SELECT DISTINCT application_id, chat_number, sender FROM numbered WHERE sender IS NOT NULL
    ON CONFLICT DO NOTHING
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_number = n.number, result_at = now()
    FROM numbered n JOIN req r ON r.ord = n.ord
    WHERE ik.scope = r.idem_scope AND ik.key = r.idem_key AND ik.claim = r.idem_claim
), batch AS (
    INSERT INTO intake_batches (id, numbers)
    SELECT $8, array_agg(CASE WHEN n.number IS NOT NULL THEN n.number
                              WHEN r.idem_key IS NOT NULL AND r.ord NOT IN (SELECT ord FROM held) THEN 0
                         END ORDER BY r.ord)
    FROM req r LEFT JOIN numbered n ON n.ord = r.ord
    RETURNING numbers, accepted_at
)
SELECT numbers, accepted_at FROM batch
