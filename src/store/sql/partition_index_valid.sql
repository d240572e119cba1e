-- Whether index $1 exists, and whether it is valid (a CREATE INDEX CONCURRENTLY that failed
-- leaves an invalid one behind).
SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace
