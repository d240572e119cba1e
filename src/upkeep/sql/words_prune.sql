-- Deletes the candidates ($1 application ids, $2 words, $3 their keys) still not seen for $4
-- seconds that no message of their application holds (through the keys' index), unless the
-- application has messages without keys yet (their words are not known).
DELETE FROM search_words w
USING unnest($1::bigint[], $2::text[], $3::int4[]) AS u(app, word, key)
WHERE w.application_id = u.app AND w.word = u.word
  AND w.seen_at < now() - make_interval(secs => $4::float8)
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.application_id = u.app AND m.search_keys @> ARRAY[u.key])
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.application_id = u.app AND m.search_keys IS NULL)
