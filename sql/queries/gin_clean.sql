-- Merges the pending lists of every GIN index of every messages partition (the search indexes:
-- full text, trigrams, word pairs). Found in the catalog, so an index added later is merged too:
-- a pending list nobody merges grows to gin_pending_list_limit (8 MB per partition), every search
-- through that index reads all of it, and the insert that finally overflows it merges it inline.
SELECT coalesce(sum(gin_clean_pending_list(part.inhrelid::regclass)), 0)::bigint
FROM pg_index parent
JOIN pg_class idx ON idx.oid = parent.indexrelid
JOIN pg_am am ON am.oid = idx.relam AND am.amname = 'gin'
JOIN pg_inherits part ON part.inhparent = parent.indexrelid
WHERE parent.indrelid = 'messages'::regclass
