-- The job table's vacuum on Citus, one statement on the coordinator: on every node that holds
-- shards of `jobs`, one command finds those with dead rows (from that node's statistics), and a
-- second vacuums them, in one VACUUM per node (`master_run_on_worker`: a new connection to each
-- node per call). A `VACUUM jobs` on the coordinator would vacuum all 32 shards, one command
-- each, every time. What failed on a node is returned: its address and error (no rows: all
-- went well); a node reports "VACUUM" when it vacuumed.
WITH nodes AS (
    SELECT n.nodename, n.nodeport,
           array_agg(shard_name(s.logicalrelid, s.shardid) ORDER BY s.shardid) AS shards
    FROM pg_dist_shard s
    JOIN pg_dist_placement p ON p.shardid = s.shardid
    JOIN pg_dist_node n ON n.groupid = p.groupid AND n.isactive AND n.noderole = 'primary'
    WHERE s.logicalrelid = 'jobs'::regclass
    GROUP BY n.nodename, n.nodeport
), checked AS (
    SELECT r.node_name, r.node_port, r.success, r.result
    FROM (SELECT array_agg(nodename ORDER BY nodename, nodeport) AS names,
                 array_agg(nodeport ORDER BY nodename, nodeport) AS ports,
                 array_agg(format($c$SELECT coalesce(string_agg(quote_ident(t), ', '), '')
                                    FROM unnest(%L::text[]) t
                                    WHERE pg_stat_get_dead_tuples(to_regclass(t)) > 0$c$, shards)
                           ORDER BY nodename, nodeport) AS commands
          FROM nodes) a,
         master_run_on_worker(a.names, a.ports, a.commands, true) r
), vacuumed AS (
    SELECT r.node_name, r.node_port, r.success, r.result
    FROM (SELECT array_agg(node_name) AS names, array_agg(node_port) AS ports,
                 array_agg('VACUUM (SKIP_LOCKED) ' || result) AS commands
          FROM checked WHERE success AND result <> '') a,
         master_run_on_worker(a.names, a.ports, a.commands, true) r
)
SELECT node_name, node_port, success, result FROM checked WHERE NOT success
UNION ALL
SELECT node_name, node_port, success, result FROM vacuumed
