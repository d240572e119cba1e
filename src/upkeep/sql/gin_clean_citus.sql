-- `gin_clean.sql` on Citus: merges the pending lists of the GIN indexes of every shard of the
-- table of index $2 (its coordinator's shell, which names it), on every node that holds them
-- (one command per node, `master_run_on_worker`), and records the merge with the rows written
-- to all of them ($3), unless another instance is merging it (the same advisory lock, on the
-- coordinator) or a node failed. One row: whether the lock was had, the pages merged, and what
-- failed (NULL: nothing).
WITH locked AS (
    SELECT pg_try_advisory_xact_lock($1::bigint + $2::oid::bigint) AS ok
), nodes AS (
    SELECT DISTINCT n.nodename, n.nodeport, x.indrelid::regclass::text AS rel
    FROM locked
    JOIN pg_index x ON x.indexrelid = $2::oid
    JOIN pg_dist_shard s ON s.logicalrelid = x.indrelid
    JOIN pg_dist_placement p ON p.shardid = s.shardid
    JOIN pg_dist_node n ON n.groupid = p.groupid AND n.isactive AND n.noderole = 'primary'
    WHERE locked.ok
), merged AS (
    SELECT r.node_name, r.node_port, r.success, r.result
    FROM (SELECT array_agg(nodename ORDER BY nodename, nodeport) AS names,
                 array_agg(nodeport ORDER BY nodename, nodeport) AS ports,
                 array_agg(format($c$
SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0)
FROM pg_dist_shard s
CROSS JOIN LATERAL to_regclass(shard_name(s.logicalrelid, s.shardid)) r
JOIN pg_index i ON i.indrelid = r AND i.indisvalid
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam AND am.amname = 'gin'
WHERE s.logicalrelid = %L::regclass$c$, rel) ORDER BY nodename, nodeport) AS commands
          FROM nodes) a,
         master_run_on_worker(a.names, a.ports, a.commands, true) r
), recorded AS (
    INSERT INTO gin_merges (index_oid, written, merged_at)
    SELECT $2::oid, $3::bigint, now() FROM locked
    WHERE ok AND NOT EXISTS (SELECT 1 FROM merged WHERE NOT success)
    ON CONFLICT (index_oid) DO UPDATE SET written = excluded.written, merged_at = excluded.merged_at
)
SELECT (SELECT ok FROM locked),
       (SELECT coalesce(sum(result::bigint), 0) FROM merged WHERE success)::bigint,
       (SELECT string_agg(node_name || ':' || node_port || ': ' || result, '; ') FROM merged
         WHERE NOT success)
