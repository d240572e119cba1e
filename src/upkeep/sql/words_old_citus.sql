-- `words_old.sql` within application $1, for Citus: up to $3 of its words after $2 not seen for
-- $4 seconds.
SELECT word FROM search_words
WHERE application_id = $1 AND word > $2::text COLLATE "C"
  AND seen_at < now() - make_interval(secs => $4::float8)
ORDER BY word
LIMIT $3
