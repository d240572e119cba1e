-- `lexicon_add.sql` for Citus: there, an ON CONFLICT update of a distributed table may use no
-- now() and its WHERE no parameter (Citus sends the parameter to the worker unresolved), so the
-- time comes as $3 (the service's clock) and a word already there is marked seen each time it
-- is sent (the process sends a word it remembers as stored at most every 10 minutes).
INSERT INTO search_words (application_id, word, seen_at)
SELECT a, w, $3::timestamptz FROM unnest($1::bigint[], $2::text[]) AS u(a, w)
ON CONFLICT (application_id, word) DO UPDATE SET seen_at = EXCLUDED.seen_at
