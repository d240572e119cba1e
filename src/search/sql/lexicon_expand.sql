-- The application's dictionary words matching a term's anchor ($2, a LIKE pattern, see
-- `search::keys`), at most $3: through the primary key (byte order) for a word or a word's
-- start, through the trigram index for the rest.
SELECT word FROM search_words WHERE application_id = $1 AND word LIKE $2 LIMIT $3
