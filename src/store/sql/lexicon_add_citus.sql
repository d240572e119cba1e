-- `lexicon_add.sql` for Citus: there, an ON CONFLICT update of a distributed table may use no
-- now() and its WHERE no parameter (Citus sends the parameter to the worker unresolved), so the
-- time comes as $3, the service's clock rounded down to 5 minutes, and a word already there is
-- marked seen only when it was last seen before that (the same "at most every 5 minutes").
INSERT INTO search_words (application_id, word, seen_at)
SELECT a, w, $3::timestamptz FROM unnest($1::bigint[], $2::text[]) AS u(a, w)
ON CONFLICT (application_id, word) DO UPDATE SET seen_at = EXCLUDED.seen_at
WHERE search_words.seen_at < EXCLUDED.seen_at
