-- `words_prune.sql` within application $1, for Citus (one shard): deletes the candidates ($2
-- words, $3 their keys) still not seen for $4 seconds that no message of the application holds,
-- unless it has messages without keys yet.
DELETE FROM search_words w
USING unnest($2::text[], $3::int4[]) AS u(word, key)
WHERE w.application_id = $1 AND w.word = u.word
  AND w.seen_at < now() - make_interval(secs => $4::float8)
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.application_id = $1 AND m.search_keys @> ARRAY[u.key])
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.application_id = $1 AND m.search_keys IS NULL)
