-- Merges the pending lists of the search indexes of every messages partition.
SELECT coalesce(sum(gin_clean_pending_list(i.inhrelid::regclass)), 0)::bigint
FROM pg_inherits i
WHERE i.inhparent IN ('messages_search_trgm'::regclass, 'messages_search_fts'::regclass)
