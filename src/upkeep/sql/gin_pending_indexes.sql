-- Every GIN index of every messages partition (the search keys' index), and of the search
-- dictionary (its trigram index), found in the catalog so that an index added later is merged too; for each, the rows
-- written to its partition so far (inserts and updates that were not HOT, from the statistics:
-- each one added entries to the pending list), and the figure and the age in seconds of its last
-- merge (NULL: never merged). A pending list nobody merges grows to gin_pending_list_limit
-- (8 MB per partition), every search through that index reads all of it, and the insert that
-- finally overflows it merges it inline.
SELECT part.inhrelid,
       pg_stat_get_tuples_inserted(child.indrelid) + pg_stat_get_tuples_updated(child.indrelid)
           - pg_stat_get_tuples_hot_updated(child.indrelid),
       m.written,
       extract(epoch FROM now() - m.merged_at)::float8
FROM pg_index parent
JOIN pg_class idx ON idx.oid = parent.indexrelid
JOIN pg_am am ON am.oid = idx.relam AND am.amname = 'gin'
JOIN pg_inherits part ON part.inhparent = parent.indexrelid
JOIN pg_index child ON child.indexrelid = part.inhrelid
LEFT JOIN gin_merges m ON m.index_oid = part.inhrelid
WHERE parent.indrelid = 'messages'::regclass
UNION ALL
SELECT idx.oid,
       pg_stat_get_tuples_inserted(x.indrelid) + pg_stat_get_tuples_updated(x.indrelid)
           - pg_stat_get_tuples_hot_updated(x.indrelid),
       m.written,
       extract(epoch FROM now() - m.merged_at)::float8
FROM pg_index x
JOIN pg_class idx ON idx.oid = x.indexrelid
JOIN pg_am am ON am.oid = idx.relam AND am.amname = 'gin'
LEFT JOIN gin_merges m ON m.index_oid = idx.oid
WHERE x.indrelid = to_regclass('search_words')
ORDER BY 1
