-- The batch's messages as the release before V19 wrote them: no folded text (a trigger computes
-- it) and no search keys (the filler computes them). Only for measuring what search costs the
-- workers (`Worker::without_search_keys`).
INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at, sender)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[],
                     $6::timestamptz[], $7::text[])
