-- Adds words to their applications' dictionaries (V19); $1 application ids, $2 words, sorted
-- by both (two transactions adding the same new words wait for each other in the same order,
-- never in a cycle). A word already there is marked seen, at most every 5 minutes (the pruner
-- leaves words seen within the hour).
INSERT INTO search_words (application_id, word)
SELECT * FROM unnest($1::bigint[], $2::text[])
ON CONFLICT (application_id, word) DO UPDATE SET seen_at = now()
WHERE search_words.seen_at < now() - interval '5 minutes'
