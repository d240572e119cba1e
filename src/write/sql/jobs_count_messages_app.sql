-- `jobs_count_messages.sql` for a batch of one application ($4), for Citus: the chats are named
-- by their application, so the statement runs on its shard.
WITH delta AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS d(application_id, number, n)
), locked AS (
    SELECT c.application_id, c.number FROM chats c
    WHERE c.application_id = $4 AND (c.application_id, c.number) IN (SELECT application_id, number FROM delta)
    ORDER BY c.application_id, c.number
    FOR NO KEY UPDATE
)
UPDATE chats c SET messages_count = c.messages_count + delta.n
FROM delta
WHERE c.application_id = $4 AND c.application_id = delta.application_id AND c.number = delta.number
  AND (SELECT count(*) FROM locked) >= 0 -- locks first, in key order (evaluated once)
