-- Group commit for chat creations: each application's counter is bumped once by the number of
-- its requests (locked in key order); each new chat gets its message counter and its job.
-- Requests with an idempotency key ($2 scope, $3 key; NULL without) record their result here.
WITH req AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS r(token, idem_scope, idem_key, ord)
), keyed AS (
    SELECT req.ord, a.id AS application_id FROM req JOIN applications a ON a.token = req.token
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
    INSERT INTO chat_counters (application_id, chat_number) SELECT application_id, number FROM numbered
), queued AS (
    INSERT INTO jobs (application_id, chat_number) SELECT application_id, number FROM numbered
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_number = n.number, result_at = now()
    FROM numbered n JOIN req r ON r.ord = n.ord
    WHERE ik.scope = r.idem_scope AND ik.key = r.idem_key
)
SELECT ord, number, now() FROM numbered
