-- Every GIN index of every messages partition (the search indexes: full text, trigrams, word
-- pairs), found in the catalog so that an index added later is merged too, with the rows written
-- to its partition so far (inserts and updates that were not HOT, from the statistics: each one
-- added entries to the pending list). A pending list nobody merges grows to
-- gin_pending_list_limit (8 MB per partition), every search through that index reads all of it,
-- and the insert that finally overflows it merges it inline.
SELECT part.inhrelid,
       coalesce(s.n_tup_ins + s.n_tup_upd - s.n_tup_hot_upd, 0)
FROM pg_index parent
JOIN pg_class idx ON idx.oid = parent.indexrelid
JOIN pg_am am ON am.oid = idx.relam AND am.amname = 'gin'
JOIN pg_inherits part ON part.inhparent = parent.indexrelid
JOIN pg_index child ON child.indexrelid = part.inhrelid
LEFT JOIN pg_stat_all_tables s ON s.relid = child.indrelid
WHERE parent.indrelid = 'messages'::regclass
ORDER BY part.inhrelid
