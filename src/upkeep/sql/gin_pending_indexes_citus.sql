-- The GIN cleaner on Citus, second step: `gin_pending_indexes.sql` without the statistics (the
-- coordinator's are of its empty shells; `gin_written_citus.sql` has the nodes'): each GIN
-- index of a messages partition and of the search dictionary in the coordinator's catalog, its
-- table's name, and the figure and age in seconds of its last merge, on every node.
SELECT x.indexrelid,
       x.indrelid::regclass::text,
       m.written,
       extract(epoch FROM now() - m.merged_at)::float8
FROM pg_index x
JOIN pg_class idx ON idx.oid = x.indexrelid
JOIN pg_am am ON am.oid = idx.relam AND am.amname = 'gin'
LEFT JOIN gin_merges m ON m.index_oid = x.indexrelid
WHERE x.indisvalid
  AND (x.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'messages'::regclass)
       OR x.indrelid = to_regclass('search_words'))
ORDER BY 1
