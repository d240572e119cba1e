-- The word pruner on Citus, first step: up to $2 applications after $1 with dictionary words
-- not seen for $3 seconds, read from every shard; each is then pruned on its own shard
-- (`words_old_citus.sql`, `words_prune_citus.sql`).
SELECT DISTINCT application_id FROM search_words
WHERE application_id > $1 AND seen_at < now() - make_interval(secs => $3::float8)
ORDER BY application_id
LIMIT $2
