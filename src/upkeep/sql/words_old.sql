-- Up to $3 dictionary words after ($1, $2) in key order not seen for $4 seconds: the pruner's
-- next candidates (V19).
SELECT application_id, word FROM search_words
WHERE (application_id, word) > ($1, $2::text COLLATE "C")
  AND seen_at < now() - make_interval(secs => $4::float8)
ORDER BY application_id, word
LIMIT $3
