-- Every valid GIN index of every messages partition (the search keys' index) and of the search
-- dictionary (its trigram index), found in the catalog so that an index added later is merged
-- too; for each, the rows written to its table so far (inserts and updates that were not HOT,
-- from the statistics: each one added entries to the pending list), and the figure and the age
-- in seconds of its last merge (NULL: never merged). A pending list nobody merges grows to
-- gin_pending_list_limit (8 MB per partition), every search through that index reads all of
-- it, and the insert that finally overflows it merges it inline. Last, its table's name: on
-- Citus the coordinator's tables are empty shells and the rows written to their shards are
-- counted on the nodes, by table (`gin_written_citus.sql`).
SELECT x.indexrelid,
       pg_stat_get_tuples_inserted(x.indrelid) + pg_stat_get_tuples_updated(x.indrelid)
           - pg_stat_get_tuples_hot_updated(x.indrelid),
       m.written,
       extract(epoch FROM now() - m.merged_at)::float8,
       x.indrelid::regclass::text
FROM pg_index x
JOIN pg_class idx ON idx.oid = x.indexrelid
JOIN pg_am am ON am.oid = idx.relam AND am.amname = 'gin'
LEFT JOIN gin_merges m ON m.index_oid = x.indexrelid
WHERE x.indisvalid
  AND (x.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'messages'::regclass)
       OR x.indrelid = to_regclass('search_words'))
ORDER BY 1
