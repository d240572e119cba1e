-- The GIN cleaner on Citus, first step: on every node that holds shards, the rows written so far
-- (as `gin_pending_indexes.sql` counts them) to that node's shards of each messages partition
-- and of the search dictionary, summed per table (a JSON object: table name -> rows), in one
-- command per node (`master_run_on_worker`). The coordinator's own tables are empty shells: the
-- shards, and their GIN pending lists, are on the nodes. A failed node's row says why.
WITH nodes AS (
    SELECT DISTINCT n.nodename, n.nodeport
    FROM pg_dist_shard s
    JOIN pg_dist_placement p ON p.shardid = s.shardid
    JOIN pg_dist_node n ON n.groupid = p.groupid AND n.isactive AND n.noderole = 'primary'
    WHERE s.logicalrelid = 'search_words'::regclass
)
SELECT r.node_name, r.node_port, r.success, r.result
FROM (SELECT array_agg(nodename ORDER BY nodename, nodeport) AS names,
             array_agg(nodeport ORDER BY nodename, nodeport) AS ports,
             array_agg($c$
SELECT coalesce(json_object_agg(t.rel, t.written), '{}')
FROM (SELECT s.logicalrelid::text AS rel,
             sum(pg_stat_get_tuples_inserted(r) + pg_stat_get_tuples_updated(r)
                 - pg_stat_get_tuples_hot_updated(r))::bigint AS written
      FROM pg_dist_shard s
      CROSS JOIN LATERAL to_regclass(shard_name(s.logicalrelid, s.shardid)) r
      WHERE r IS NOT NULL
        AND (s.logicalrelid IN (SELECT inhrelid FROM pg_inherits
                                 WHERE inhparent = 'messages'::regclass)
             OR s.logicalrelid = 'search_words'::regclass)
      GROUP BY 1) t$c$::text ORDER BY nodename, nodeport) AS commands
      FROM nodes) a,
     master_run_on_worker(a.names, a.ports, a.commands, true) r
