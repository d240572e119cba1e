-- Adds $2 to each application's chats_count, locking rows in key order first.
WITH delta AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS d(id, n)
), locked AS (
    SELECT a.id FROM applications a WHERE a.id IN (SELECT id FROM delta)
    ORDER BY a.id
    FOR NO KEY UPDATE
)
UPDATE applications a SET chats_count = a.chats_count + delta.n
FROM delta
WHERE a.id = delta.id
  AND (SELECT count(*) FROM locked) >= 0 -- locks first, in key order (evaluated once)
