//! Where a benchmark's databases are: the private single-node cluster (`env`), or a Citus
//! coordinator given by URL (`--database-url`), whose one database stands in for each database
//! the benchmark would create there.
//!
//! Citus propagates no `CREATE DATABASE` (FINDINGS.md §6), and a distributed schema takes seconds
//! to make: so on Citus "a fresh database" is the given one, migrated, with every table the
//! service uses emptied. The benchmarks use their databases one after another, so one is enough.

use anyhow::Result;
use chat_system::{settings::Settings, store::Db};

use crate::env::Env;

pub enum Target {
    Single(Env),
    Citus { url: String },
}

impl Target {
    /// For the reports.
    pub fn label(&self) -> &'static str {
        match self {
            Target::Single(_) => "single node",
            Target::Citus { .. } => "Citus",
        }
    }

    pub fn is_citus(&self) -> bool {
        matches!(self, Target::Citus { .. })
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        match self {
            Target::Single(env) => env.url(name),
            Target::Citus { url } => url.clone(),
        }
    }

    /// A pool on database `name`; on Citus, it knows it is on Citus (`Db::on_citus`, recorded by
    /// `migrate`, which has nothing left to do there when the database was made fresh).
    pub async fn db(&self, name: &str) -> Result<Db> {
        match self {
            Target::Single(env) => env.db(name),
            Target::Citus { url } => {
                let db = Db::connect(url, &settings())?;
                ensure_ours(&*db.client().await?).await?;
                chat_system::store::migrate(&db).await?;
                Ok(db)
            }
        }
    }

    /// Before anything runs: on Citus, that the given database may be emptied (`ensure_ours`).
    pub async fn check(&self) -> Result<()> {
        match self {
            Target::Single(_) => Ok(()),
            Target::Citus { .. } => self.db("").await.map(drop),
        }
    }

    /// Database `name`, migrated and empty.
    pub async fn fresh(&self, name: &str) -> Result<Db> {
        match self {
            Target::Single(env) => env.fresh_database(name).await,
            Target::Citus { .. } => {
                let db = self.db(name).await?;
                empty(&db).await?;
                Ok(db)
            }
        }
    }

    /// Done with database `name`: dropped, or on Citus emptied.
    pub async fn discard(&self, name: &str) -> Result<()> {
        match self {
            Target::Single(env) => env.admin(&format!("DROP DATABASE {name} WITH (FORCE)")).await,
            Target::Citus { .. } => empty(&self.db(name).await?).await,
        }
    }

    /// True when database `name` exists (on Citus: always, it is the given one).
    pub async fn has_database(&self, name: &str) -> Result<bool> {
        match self {
            Target::Single(env) => env.has_database(name).await,
            Target::Citus { .. } => Ok(true),
        }
    }
}

/// The pool settings of `Env::db`.
pub fn settings() -> Settings {
    let mut config = Settings::defaults();
    config.db_pool_size = 8;
    config.db_statement_timeout_ms = 600_000;
    // The benchmark's own searches through the library include counting every hit of a
    // query in the 1M-message chat (the tables' "hits" column), which may read most of it;
    // the service under test keeps its default budget.
    config.search_statement_timeout_ms = 600_000;
    config
}

/// What marks a database as the benchmarks' own: its comment, set the first time one is emptied.
const OURS: &str = "chat-system benchmarks: emptied by every run";

/// Refuses a database that holds applications and is not marked as the benchmarks' own (a user's
/// data, given by mistake: the benchmarks migrate and empty it); marks the database otherwise.
async fn ensure_ours(client: &tokio_postgres::Client) -> Result<()> {
    let row = client
        .query_one(
            "SELECT d.datname::text, shobj_description(d.oid, 'pg_database'), to_regclass('applications') IS NOT NULL
             FROM pg_database d WHERE d.datname = current_database()",
            &[],
        )
        .await?;
    let (name, comment, migrated): (String, Option<String>, bool) = (row.get(0), row.get(1), row.get(2));
    if comment.as_deref() == Some(OURS) {
        return Ok(());
    }
    let apps: i64 = match migrated {
        true => client.query_one("SELECT count(*) FROM applications", &[]).await?.get(0),
        false => 0,
    };
    anyhow::ensure!(
        apps == 0,
        "database {name:?} holds {apps} application(s) and is not a benchmark's: `--database-url` \
         empties every table of the database it is given. Give it a throwaway cluster's \
         (scale/citus/run starts one), or mark this database as the benchmarks' with \
         COMMENT ON DATABASE \"{name}\" IS '{OURS}'"
    );
    let name = name.replace('"', "\"\"");
    client
        .batch_execute(&format!("COMMENT ON DATABASE \"{name}\" IS '{OURS}'"))
        .await?;
    Ok(())
}

/// Empties every distributed and reference table (partitions through their parent) and the
/// coordinator's own tables the service writes, and drops what a benchmark added (in a database
/// `Target::db` found to be the benchmarks').
async fn empty(db: &Db) -> Result<()> {
    let client = db.client().await?;
    let tables: String = client
        .query_one(
            "SELECT string_agg(p.logicalrelid::regclass::text, ', ')
             FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
             WHERE NOT c.relispartition",
            &[],
        )
        .await?
        .get(0);
    // Apart: Citus sends a DDL statement's text on to the workers, and refuses several there.
    client
        .batch_execute(&format!("TRUNCATE {tables}, gin_merges, rate_limits RESTART IDENTITY"))
        .await?;
    client.batch_execute("DROP TABLE IF EXISTS bench_meta").await?;
    Ok(())
}

/// A benchmark's arguments as its report shows them: the coordinator's URL (with its password)
/// as `<coordinator URL>`.
pub fn shown_args(args: &[String]) -> String {
    let shown: Vec<&str> = args
        .iter()
        .map(|a| match a.starts_with("postgres") {
            true => "<coordinator URL>",
            false => a.as_str(),
        })
        .collect();
    shown.join(" ")
}
