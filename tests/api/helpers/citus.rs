//! Test databases on a Citus cluster (`DATABASE_URL` names a database with the `citus`
//! extension, as `scale/citus/test` gives it): each test gets a database distributed over the
//! cluster like the production one, from a pool of migrated databases emptied between tests.
//!
//! Why a pool: a template copy is refused on Citus (`CREATE DATABASE … TEMPLATE` takes only
//! template1) and would not be distributed anyway, and a new distributed database (created on every
//! node, the extension on every node, the nodes registered, the migrations run: V13 distributes
//! the tables, 1,472 shards) takes about 10 s here. Emptying one takes about 0.3 s.
//!
//! A database is lent to one test until that test's runtime ends (the lease is held by a task of
//! that runtime, dropped with it). The next test that takes it first makes it as fresh as a new
//! one: the sessions still connected to it are ended, its schema is checked unchanged (a test
//! that changed it, e.g. added an index or a migration record, leaves it to be dropped), every
//! table is emptied, every sequence goes back to its start on every node (identity values such as
//! application ids start again from 1, as in a new database) and every node's statistics for it
//! are reset (tests read `pg_stat_*`). The service's own caches live in each test's `Db`.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex,
};
use std::time::{Duration, Instant};

use chat_system::store::{self, Db};

use super::test_config;

/// What a client session of a test database can be; the Citus sessions of a node (named
/// `citus_internal …`, `citus_run_command …`) belong to another session or to the maintenance
/// daemon and end with it.
const TEST_SESSIONS: &str = "FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND backend_type = 'client backend'
       AND application_name NOT LIKE 'citus\\_internal%'
       AND application_name NOT LIKE 'citus\\_run\\_command%'";

/// The namespaces of the application's objects (not PostgreSQL's nor Citus').
const OWN_NAMESPACES: &str = "SELECT oid FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'
     AND nspname NOT IN ('information_schema', 'citus', 'citus_internal', 'columnar', 'columnar_internal')";

/// Every table to empty: the application's tables (partitions through their parent), without
/// the migration history. Shards are hidden from the catalog by Citus.
const TABLES: &str = "SELECT c.oid::regclass::text FROM pg_class c
     WHERE c.relnamespace IN (OWN_NAMESPACES) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> 'refinery_schema_history' ORDER BY 1";

/// Sequences back to their start (on each node: a worker's ranges start elsewhere), statistics
/// reset.
const RESET_NODE: &str = "SELECT count(setval(s.seqrelid::regclass, s.seqstart, false))
     FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace IN (OWN_NAMESPACES);
     SELECT pg_stat_reset();";

/// A digest of everything a test could change in a database's schema (relations, columns and
/// defaults, constraints, indexes and their validity, triggers, functions, extensions, the
/// database's settings, the migration history).
const LAYOUT: &str = "WITH ns AS (OWN_NAMESPACES), layout(line) AS (
    SELECT format('relation %s %s %s %s', c.oid::regclass, c.relkind, c.relacl, c.reloptions)
      FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('column %s %s %s %s %s', a.attrelid::regclass, a.attname, a.atttypid::regtype,
                  a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace IN (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE connamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('index %s %s', pg_get_indexdef(indexrelid), indisvalid) FROM pg_index
     WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns))
    UNION ALL
    SELECT format('trigger %s', pg_get_triggerdef(oid)) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT format('function %s %s', p.oid::regprocedure, md5(p.prosrc)) FROM pg_proc p
     WHERE p.pronamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('extension %s %s', extname, extversion) FROM pg_extension
    UNION ALL
    SELECT format('setting %s', s.setconfig) FROM pg_db_role_setting s
      JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
    UNION ALL
    SELECT format('migration %s %s', version, checksum) FROM refinery_schema_history
)
SELECT md5(string_agg(line, E'\\n' ORDER BY line)) FROM layout";

/// True when the database at `url` is a Citus coordinator's (has the extension).
pub async fn is_citus(url: &str) -> bool {
    let db = connect(url);
    let client = db.client().await.expect("connect to DATABASE_URL");
    let found: i64 = client
        .query_one("SELECT count(*) FROM pg_extension WHERE extname = 'citus'", &[])
        .await
        .unwrap()
        .get(0);
    found > 0
}

/// The cluster's test databases.
pub struct Pool {
    /// The coordinator's database with the extension (`DATABASE_URL`): databases are created
    /// from it, so that Citus creates them on every node.
    admin_url: String,
    /// Every node's URL with `{db}` where the database name goes; the coordinator first.
    nodes: Vec<String>,
    /// The coordinator's host and port, then the workers', as `pg_dist_node` has them.
    addresses: Vec<(String, i32)>,
    /// Databases whose test has ended, to be emptied by the next test that takes one.
    returned: Mutex<Vec<String>>,
    /// One creation at a time (each keeps the whole cluster busy).
    creating: tokio::sync::Mutex<()>,
    created: AtomicUsize,
    /// The layout of a newly migrated database, to compare returned ones with.
    layout: Mutex<Option<String>>,
}

impl Pool {
    /// The pool of the cluster whose coordinator `admin_url` is on. Every node is reached as
    /// `pg_dist_node` names it, with `admin_url`'s credentials (`scale/citus/run` gives every
    /// node the same superuser password).
    pub async fn new(admin_url: &str) -> Pool {
        let db = connect(admin_url);
        let client = db.client().await.unwrap();
        let rows = client
            .query(
                "SELECT nodename, nodeport FROM pg_dist_node
                 WHERE noderole = 'primary' AND isactive ORDER BY groupid",
                &[],
            )
            .await
            .unwrap();
        let coordinator: bool = client
            .query_one("SELECT EXISTS (SELECT 1 FROM pg_dist_node WHERE groupid = 0)", &[])
            .await
            .unwrap()
            .get(0);
        assert!(
            coordinator && rows.len() > 1,
            "DATABASE_URL has the citus extension but no coordinator and workers in pg_dist_node"
        );
        let addresses: Vec<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let nodes = addresses
            .iter()
            .map(|(host, port)| node_url(admin_url, host, *port))
            .collect();
        Pool {
            admin_url: admin_url.to_owned(),
            nodes,
            addresses,
            returned: Mutex::new(Vec::new()),
            creating: tokio::sync::Mutex::new(()),
            created: AtomicUsize::new(0),
            layout: Mutex::new(None),
        }
    }

    /// A migrated, distributed and empty database for the calling test, until its runtime ends;
    /// its URL.
    pub async fn lease(&'static self) -> String {
        let name = loop {
            let returned = self.returned.lock().unwrap().pop();
            let Some(name) = returned else {
                let name = self.create().await;
                self.migrate(&name).await;
                break name;
            };
            let started = Instant::now();
            match self.empty(&name).await {
                Ok(()) => {
                    eprintln!(
                        "test database {name}: emptied for this test in {:.1?}",
                        started.elapsed()
                    );
                    break name;
                }
                Err(why) => {
                    eprintln!("test database {name} not reused: {why}");
                    self.drop_database(&name).await;
                }
            }
        };
        let lease = Lease {
            pool: self,
            name: name.clone(),
        };
        // Held by a task that never ends: dropped (and the database returned) when the test's
        // runtime is, after everything of the test that used it.
        tokio::spawn(async move {
            let _lease = lease;
            std::future::pending::<()>().await
        });
        self.url(&name)
    }

    /// A new database distributed over the cluster but without the migrations (for tests of
    /// the service's first start); not returned to the pool.
    pub async fn unmigrated(&self) -> String {
        let name = self.create().await;
        self.url(&name)
    }

    fn url(&self, name: &str) -> String {
        self.nodes[0].replace("{db}", name)
    }

    /// Creates a database on every node with the extension, and registers the nodes in it.
    async fn create(&self) -> String {
        let _one_at_a_time = self.creating.lock().await;
        let started = Instant::now();
        let name = format!(
            "t_citus_{}_{}",
            std::process::id(),
            self.created.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(&self.admin_url);
        let admin = admin.client().await.unwrap();
        // Set in this session only; CREATE DATABASE cannot share a batch (a transaction).
        admin
            .batch_execute("SET citus.enable_create_database_propagation = on")
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("create {name} on every node: {}", why(&e)));
        for node in &self.nodes {
            on(node, &name, "CREATE EXTENSION citus").await;
        }
        let coordinator = connect(&self.url(&name));
        let client = coordinator.client().await.unwrap();
        let (host, port) = &self.addresses[0];
        client
            .execute("SELECT citus_set_coordinator_host($1, $2)", &[host, port])
            .await
            .unwrap();
        for (host, port) in &self.addresses[1..] {
            client
                .execute("SELECT citus_add_node($1, $2)", &[host, port])
                .await
                .unwrap();
        }
        eprintln!(
            "test database {name}: created on {} nodes in {:.1?}",
            self.nodes.len(),
            started.elapsed()
        );
        name
    }

    /// Applies the migrations (V13 distributes the tables) and records the layout they give.
    async fn migrate(&self, name: &str) {
        let started = Instant::now();
        let db = connect(&self.url(name));
        store::migrate(&db).await.expect("migrate a test database");
        let client = db.client().await.unwrap();
        let distributed: i64 = client
            .query_one("SELECT count(*) FROM citus_tables", &[])
            .await
            .unwrap()
            .get(0);
        assert!(distributed > 0, "the migrations distributed no table of {name}");
        let layout = layout(&client).await;
        self.layout.lock().unwrap().get_or_insert(layout);
        eprintln!(
            "test database {name}: {distributed} distributed tables, migrated in {:.1?}",
            started.elapsed()
        );
    }

    /// Makes a returned database as a new one is, or says why it cannot.
    async fn empty(&self, name: &str) -> Result<(), String> {
        let db = connect(&self.url(name));
        let client = db.client().await.map_err(|e| e.to_string())?;
        end_sessions(&client).await?;
        let expected = self.layout.lock().unwrap().clone();
        if Some(layout(&client).await) != expected {
            return Err("its schema was changed by the test that had it".into());
        }
        let tables: Vec<String> = client
            .query(&TABLES.replace("OWN_NAMESPACES", OWN_NAMESPACES), &[])
            .await
            .map_err(|e| why(&e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // DELETE, not TRUNCATE: on Citus a TRUNCATE of every shard takes seconds.
        let delete: String = tables.iter().map(|t| format!("DELETE FROM {t};")).collect();
        client
            .batch_execute(&format!("BEGIN; {delete} COMMIT;"))
            .await
            .map_err(|e| format!("emptying: {}", why(&e)))?;
        let reset = RESET_NODE.replace("OWN_NAMESPACES", OWN_NAMESPACES);
        futures::future::join_all(self.nodes.iter().map(|node| on(node, name, &reset))).await;
        Ok(())
    }

    /// Drops a database on every node (best effort: a leftover costs only disk). A worker may
    /// still hold a session of it for a moment (Citus' own): then again, a few times.
    async fn drop_database(&self, name: &str) {
        let _one_at_a_time = self.creating.lock().await;
        for attempt in 1..=5 {
            match self.try_drop(name).await {
                Ok(()) => return,
                Err(_) if attempt < 5 => tokio::time::sleep(Duration::from_secs(1)).await,
                Err(e) => eprintln!("test database {name} left in place: {e}"),
            }
        }
    }

    async fn try_drop(&self, name: &str) -> Result<(), String> {
        let admin = connect(&self.admin_url);
        match admin.client().await {
            // Two statements: DROP DATABASE cannot share a batch (a transaction).
            Ok(admin) => match admin
                .batch_execute("SET citus.enable_create_database_propagation = on")
                .await
            {
                Ok(()) => admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| why(&e)),
                Err(e) => Err(why(&e)),
            },
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A database lent to a running test; returned to the pool when dropped.
struct Lease {
    pool: &'static Pool,
    name: String,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        if let Ok(mut returned) = self.pool.returned.lock() {
            returned.push(name);
        }
    }
}

/// Ends the sessions a finished test left on its database (its services' pools, instances of
/// the binary it started), after giving them a moment to end by themselves.
async fn end_sessions(client: &deadpool_postgres::Object) -> Result<(), String> {
    let count = format!("SELECT count(*) {TEST_SESSIONS}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut waited = 0;
    loop {
        let left: i64 = client.query_one(&count, &[]).await.map_err(|e| why(&e))?.get(0);
        if left == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{left} sessions still connected"));
        }
        waited += 1;
        if waited > 10 {
            client
                .batch_execute(&format!("SELECT pg_terminate_backend(pid) {TEST_SESSIONS}"))
                .await
                .map_err(|e| why(&e))?;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn layout(client: &deadpool_postgres::Object) -> String {
    match client
        .query_one(&LAYOUT.replace("OWN_NAMESPACES", OWN_NAMESPACES), &[])
        .await
    {
        Ok(row) => row.get(0),
        // The history table gone, for example: a layout no new database has.
        Err(e) => format!("unreadable: {e}"),
    }
}

/// A pool for the harness's own work on a test database: patient, since it runs while the
/// machine is as busy as the tests make it (opening a connection to a worker took more than the
/// service's 3 s at a load of 28).
fn connect(url: &str) -> Db {
    let mut config = test_config();
    config.db_acquire_timeout_ms = 60_000;
    config.db_statement_timeout_ms = 300_000;
    Db::connect(url, &config).expect("pool")
}

/// What the server said, or the client's error.
fn why(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_else(|| e.to_string())
}

/// Runs `sql` in database `name` on the node of `node` (a URL pattern).
async fn on(node: &str, name: &str, sql: &str) {
    let db = connect(&node.replace("{db}", name));
    let client = db
        .client()
        .await
        .unwrap_or_else(|e| panic!("connect to {name} on a node: {e}"));
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql} on a node of {name}: {}", why(&e)));
}

/// `url` with the node's host and port and `{db}` as the database: `scheme://user:password@`
/// and the query (`?sslmode=…`) are kept.
fn node_url(url: &str, host: &str, port: i32) -> String {
    let (scheme, rest) = url.split_once("://").expect("DATABASE_URL is a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default();
    let query = path.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{user}{host}:{port}/{{db}}{query}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_urls_keep_the_credentials_and_the_query() {
        assert_eq!(
            super::node_url(
                "postgres://postgres:pw@127.0.0.1:9800/chat_system?sslmode=disable",
                "10.0.0.2",
                5432
            ),
            "postgres://postgres:pw@10.0.0.2:5432/{db}?sslmode=disable"
        );
        assert_eq!(
            super::node_url("postgres://127.0.0.1:9800/chat_system", "h", 1),
            "postgres://h:1/{db}"
        );
    }
}
