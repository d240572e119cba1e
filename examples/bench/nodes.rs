//! What each database server spends during a benchmark's scenario: the single node, or a Citus
//! coordinator and each of its workers (found through the coordinator, `pg_dist_node`). Per node:
//! CPU time (from `/proc`, the node's postmaster read from its `postmaster.pid`, so every node must
//! run on this machine), transactions committed in the database, and on Citus the distributed
//! executions the node started (single- or multi-shard: `citus_stat_counters`), the connections
//! it opened to other nodes, and the calls of the delegated creation functions
//! (`intake_*_app`, V21: one per application batch). On the single node, the statements run
//! (`pg_stat_statements`). Also the service's and this process's (the load generator's) CPU
//! time, and each node's log, for the errors logged during a run.

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, Result};
use chat_system::store::Db;

use crate::procs::{clock_ticks, process_ticks, server_ticks};

/// Run on each node (through `run_command_on_all_nodes` on Citus): one line of numbers.
const CITUS_COUNTERS: &str = "SELECT concat_ws(' ',
    (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()),
    (SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions
      WHERE funcname IN ('intake_messages_app', 'intake_chats_app')),
    (SELECT query_execution_single_shard || ' ' || query_execution_multi_shard || ' '
            || connection_establishment_succeeded
       FROM citus_stat_counters WHERE name = current_database()))";
const SINGLE_COUNTERS: &str = "SELECT concat_ws(' ', xact_commit + xact_rollback,
    (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = d.datid), 0, 0, 0)
    FROM pg_stat_database d WHERE datname = current_database()";
/// Each node's data directory and postmaster.
const WHERE: &str =
    "SELECT current_setting('data_directory') || ' ' || split_part(pg_read_file('postmaster.pid'), chr(10), 1)";
/// `run_command_on_all_nodes` with each node's name: coordinator first, then the workers by port.
const ON_ALL: &str = "SELECT CASE WHEN n.groupid = 0 THEN 'coordinator' ELSE 'worker ' || n.nodeport END, r.result
    FROM run_command_on_all_nodes($1) r JOIN pg_dist_node n USING (nodeid)
    ORDER BY n.groupid <> 0, n.nodeport";

/// A database server.
pub struct Node {
    pub name: String,
    postmaster: u32,
    log: Option<PathBuf>,
}

/// The servers of a target, the service, and how to read their counters.
pub struct Nodes {
    db: Db,
    citus: bool,
    pub nodes: Vec<Node>,
    service: u32,
    tick_us: f64,
}

/// A node's counters at one moment (see the module's documentation).
#[derive(Clone, Copy, Default)]
pub struct Counters {
    pub xacts: f64,
    /// Citus: calls of the delegated creation functions; single node: statements run.
    pub calls: f64,
    pub single_shard: f64,
    pub multi_shard: f64,
    pub connections: f64,
}

/// Everything at one moment.
#[derive(Clone)]
pub struct Reading {
    at: Instant,
    nodes: Vec<u64>,
    service: u64,
    generator: u64,
    counters: Vec<Counters>,
}

/// What one scenario cost, per request answered.
pub struct Cost {
    pub requests: f64,
    /// From the first reading to the last (which waits 1.5 s after the scenario, see `cost`).
    pub seconds: f64,
    /// CPU µs per request: each node's, then the service's and the load generator's.
    pub node_us: Vec<f64>,
    pub service_us: f64,
    pub generator_us: f64,
    /// Per request, each node's.
    pub per_request: Vec<Counters>,
}

impl Cost {
    /// The cost per request with the background's (`idle`, a cost per second over the same
    /// window) taken out: what the requests themselves added, per node.
    pub fn net_node_us(&self, idle: &Cost) -> Vec<f64> {
        self.node_us
            .iter()
            .zip(&idle.node_us)
            .map(|(c, i)| (c - i / idle.seconds * self.seconds / self.requests).max(0.0))
            .collect()
    }
}

impl Nodes {
    /// The servers behind `db` (a single node, or a Citus coordinator and its workers), and the
    /// service's process (0: none yet). On Citus, turns on the counters this reads (for sessions opened from
    /// now on: start the service after this).
    pub async fn find(db: &Db, service: u32) -> Result<Self> {
        let client = db.client().await?;
        let citus = db.on_citus();
        let places: Vec<(String, String)> = if citus {
            // The coordinator sends `ALTER DATABASE … SET` on to the workers.
            let name: String = client.query_one("SELECT current_database()", &[]).await?.get(0);
            client
                .batch_execute(&format!(
                    "ALTER DATABASE {name} SET citus.enable_stat_counters = on;
                     ALTER DATABASE {name} SET track_functions = 'pl'"
                ))
                .await?;
            let rows = client.query(ON_ALL, &[&WHERE]).await?;
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        } else {
            client
                .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                .await?;
            vec![("PostgreSQL".to_owned(), client.query_one(WHERE, &[]).await?.get(0))]
        };
        let mut nodes = Vec::new();
        for (name, place) in places {
            let (dir, pid) = place.rsplit_once(' ').context("a node's data directory and pid")?;
            // Where the logs are: `cluster` writes `server.log` in the data directory,
            // `scale/citus/run` a `<node>.log` beside it.
            let log = [
                PathBuf::from(dir).join("server.log"),
                PathBuf::from(format!("{dir}.log")),
            ]
            .into_iter()
            .find(|p| p.exists());
            let postmaster = pid.trim().parse().with_context(|| format!("{name}'s postmaster pid"))?;
            nodes.push(Node { name, postmaster, log });
        }
        Ok(Nodes {
            db: db.clone(),
            citus,
            nodes,
            service,
            tick_us: 1e6 / clock_ticks(),
        })
    }

    /// The same, with the service's process `pid` measured too.
    pub fn with_service(self, pid: u32) -> Self {
        Nodes { service: pid, ..self }
    }

    /// Every counter now.
    pub async fn read(&self) -> Result<Reading> {
        let client = self.db.client().await?;
        let lines: Vec<String> = if self.citus {
            let rows = client.query(ON_ALL, &[&CITUS_COUNTERS]).await?;
            rows.iter().map(|r| r.get(1)).collect()
        } else {
            vec![client.query_one(SINGLE_COUNTERS, &[]).await?.get(0)]
        };
        let counters = lines
            .iter()
            .map(|line| {
                let n: Vec<f64> = line.split_whitespace().map(|v| v.parse().unwrap_or(0.0)).collect();
                let at = |i: usize| n.get(i).copied().unwrap_or(0.0);
                Counters {
                    xacts: at(0),
                    calls: at(1),
                    single_shard: at(2),
                    multi_shard: at(3),
                    connections: at(4),
                }
            })
            .collect();
        let postmasters: Vec<u32> = self.nodes.iter().map(|n| n.postmaster).collect();
        Ok(Reading {
            at: Instant::now(),
            nodes: server_ticks(&postmasters),
            service: process_ticks(self.service),
            generator: process_ticks(std::process::id()),
            counters,
        })
    }

    /// What was spent since `start`, per request of `requests`. Waits a little first: backends
    /// publish their transaction counts when idle for a second.
    pub async fn cost(&self, start: &Reading, requests: u64) -> Result<Cost> {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let end = self.read().await?;
        let seconds = (end.at - start.at).as_secs_f64();
        let n = (requests as f64).max(1.0);
        let us = |ticks: u64| ticks as f64 * self.tick_us / n;
        let per = |a: f64, b: f64| (b - a) / n;
        Ok(Cost {
            requests: n,
            seconds,
            node_us: end.nodes.iter().zip(&start.nodes).map(|(e, s)| us(e - s)).collect(),
            service_us: us(end.service - start.service),
            generator_us: us(end.generator - start.generator),
            per_request: end
                .counters
                .iter()
                .zip(&start.counters)
                .map(|(e, s)| Counters {
                    xacts: per(s.xacts, e.xacts),
                    calls: per(s.calls, e.calls),
                    single_shard: per(s.single_shard, e.single_shard),
                    multi_shard: per(s.multi_shard, e.multi_shard),
                    connections: per(s.connections, e.connections),
                })
                .collect(),
        })
    }

    /// Where each node's log ends now.
    pub fn log_marks(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .map(|n| {
                n.log
                    .as_ref()
                    .and_then(|p| std::fs::metadata(p).ok())
                    .map_or(0, |m| m.len())
            })
            .collect()
    }

    /// Each node's log lines at level ERROR or FATAL written since `marks`, with their
    /// statements: (node, summary).
    pub fn log_errors(&self, marks: &[u64]) -> Vec<(String, crate::logs::Summary)> {
        self.nodes
            .iter()
            .zip(marks)
            .filter_map(|(n, from)| {
                let text = crate::logs::tail(n.log.as_ref()?, *from);
                Some((n.name.clone(), crate::logs::postgres(&text)))
            })
            .collect()
    }
}
