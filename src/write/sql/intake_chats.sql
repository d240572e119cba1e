-- Group commit for chat creations: each application's counter is bumped once by the number of
-- its requests (locked in key order); each new chat gets its message counter and its job.
-- Requests with an idempotency key ($2 scope, $3 key, $4 the claim the request made; NULL
-- without) create only while that claim is still theirs and record their result under it.
-- The batch is recorded under $5 with what it created (see `intake_messages.sql`).
WITH req AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[])
        WITH ORDINALITY AS r(token, idem_scope, idem_key, idem_claim, ord)
), held AS (
    SELECT r.ord FROM req r
    JOIN idempotency_keys ik ON ik.scope = r.idem_scope AND ik.key = r.idem_key AND ik.claim = r.idem_claim
    FOR NO KEY UPDATE OF ik
), keyed AS (
    SELECT req.ord, a.id AS application_id FROM req JOIN applications a ON a.token = req.token
    WHERE req.idem_key IS NULL OR req.ord IN (SELECT ord FROM held)
), wanted AS (
    SELECT application_id, count(*) AS n FROM keyed GROUP BY application_id
), locked AS (
    SELECT a.id FROM applications a WHERE a.id IN (SELECT application_id FROM wanted)
    ORDER BY a.id
    FOR NO KEY UPDATE
), bumped AS (
    UPDATE applications a SET last_chat_number = a.last_chat_number + w.n
    FROM wanted w
    WHERE a.id = w.application_id
      AND (SELECT count(*) FROM locked) >= 0 -- locks first, in key order (evaluated once)
    RETURNING a.id AS application_id, a.last_chat_number - w.n AS taken
), numbered AS (
    SELECT k.ord, k.application_id,
           b.taken + row_number() OVER (PARTITION BY k.application_id ORDER BY k.ord) AS number
    FROM keyed k JOIN bumped b USING (application_id)
), counters AS (
    -- A new chat's activity is its creation (V17): it opens its members' inboxes at the top.
    INSERT INTO chat_counters (application_id, chat_number, last_activity_at, activity_slot)
    SELECT application_id, number, now(), activity_slot(now()) FROM numbered
), queued AS (
    INSERT INTO jobs (application_id, chat_number) SELECT application_id, number FROM numbered
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_number = n.number, result_at = now()
    FROM numbered n JOIN req r ON r.ord = n.ord
    WHERE ik.scope = r.idem_scope AND ik.key = r.idem_key AND ik.claim = r.idem_claim
), batch AS (
    INSERT INTO intake_batches (id, numbers)
    SELECT $5, array_agg(CASE WHEN n.number IS NOT NULL THEN n.number
                              WHEN r.idem_key IS NOT NULL AND r.ord NOT IN (SELECT ord FROM held) THEN 0
                         END ORDER BY r.ord)
    FROM req r LEFT JOIN numbered n ON n.ord = r.ord
    RETURNING numbers, accepted_at
)
SELECT numbers, accepted_at FROM batch
