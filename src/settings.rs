//! Every setting of the service, each one a command-line flag and an environment variable. It
//! imports nothing of the crate: every other module reads its settings from here.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};
pub mod webhooks;

/// The command line: a subcommand (serving by default) and the settings.
#[derive(Debug, Parser)]
#[command(
    name = "chat-system",
    version,
    about = "Multi-tenant chat API on one PostgreSQL database"
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every subcommand (before or after it).
    #[command(flatten)]
    pub settings: Settings,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Fill the database with demo applications, chats and messages, then print their tokens.
    Demo {
        /// Applications to create.
        #[arg(long, default_value_t = 3)]
        applications: usize,
        /// Chats per application.
        #[arg(long, default_value_t = 10)]
        chats: usize,
        /// Messages in all (the first chats get the most).
        #[arg(long, default_value_t = 200_000)]
        messages: usize,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Ask the service running on `--listen` whether it is ready (exit status 0) or not (1): for
    /// container health checks.
    Healthcheck,
    /// Write the OpenAPI document to a file (default `openapi/openapi.json`) and exit.
    Openapi {
        /// Where to write the document.
        #[arg(default_value = "openapi/openapi.json")]
        path: PathBuf,
    },
}

/// Settings of a running service.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(global = true, long, env = "LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// PostgreSQL connection URL. Without it the service starts and owns a private PostgreSQL
    /// cluster under `--data-dir`.
    #[arg(global = true, long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Data directory of the private PostgreSQL cluster (used only without DATABASE_URL).
    #[arg(global = true, long, env = "DATA_DIR", default_value = ".pgdata")]
    pub data_dir: PathBuf,

    /// Directory with PostgreSQL's binaries (initdb, pg_ctl, postgres) for the private cluster;
    /// searched in the usual places when omitted.
    #[arg(global = true, long, env = "PG_BIN_DIR")]
    pub pg_bin_dir: Option<PathBuf>,

    /// Maximum connections in the pool for reads (requests, live streams, maintenance).
    #[arg(global = true, long, env = "DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,

    /// Maximum connections in the pool of the write path: creations (the intake and their
    /// idempotency claims) and the queue workers. No read can take one, so slow or numerous
    /// reads never hold up acknowledging a creation.
    #[arg(global = true, long, env = "DB_WRITE_POOL_SIZE", default_value_t = 12)]
    pub db_write_pool_size: usize,

    /// How long a request waits for a pooled connection before answering 503, in milliseconds.
    #[arg(global = true, long, env = "DB_ACQUIRE_TIMEOUT_MS", default_value_t = 3000)]
    pub db_acquire_timeout_ms: u64,

    /// Pooled connections older than this are closed when next handed out and replaced, in
    /// seconds: each connection plans its statements once, so this is how long a plan made on
    /// yesterday's table sizes can live.
    #[arg(global = true, long, env = "DB_CONNECTION_MAX_AGE_SECS", default_value_t = 600)]
    pub db_connection_max_age_secs: u64,

    /// Server-side statement timeout for the service's connections, in milliseconds.
    #[arg(global = true, long, env = "DB_STATEMENT_TIMEOUT_MS", default_value_t = 15000)]
    pub db_statement_timeout_ms: u64,

    /// How long the service keeps trying to reach its database at start, in seconds: while the
    /// database refuses connections, is starting up or has no connection slot free, start-up is
    /// retried with backoff (each failure logged with its cause); after this long the process
    /// exits with the last error. Waiting for another instance's migrations is not a failure and
    /// is not bounded by this.
    #[arg(global = true, long, env = "DB_STARTUP_TIMEOUT_SECS", default_value_t = 60)]
    pub db_startup_timeout_secs: u64,

    /// Searches running at once in this process; more are answered 503 (`search_busy`) at
    /// once. Kept below `DB_POOL_SIZE`, so searches alone cannot take every read connection.
    /// Defaults to this machine's cores; set it to about the database server's: each running
    /// search keeps a backend busy (BENCHMARKS.md, "Isolation").
    #[arg(global = true, long, env = "SEARCH_MAX_CONCURRENT", default_value_t = cores())]
    pub search_max_concurrent: usize,

    /// Searches of one application running at once in this process; more are answered 503
    /// (`search_busy`) at once.
    #[arg(global = true, long, env = "SEARCH_MAX_CONCURRENT_PER_APP", default_value_t = 2)]
    pub search_max_concurrent_per_app: usize,

    /// Time one search may spend in the database, all its statements together, in
    /// milliseconds; then it is cancelled and answered 503 (`search_timeout`).
    #[arg(global = true, long, env = "SEARCH_STATEMENT_TIMEOUT_MS", default_value_t = 5000)]
    pub search_statement_timeout_ms: u64,

    /// Operator key required to list all applications. Without it, listing is refused.
    #[arg(global = true, long, env = "OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<String>,

    /// Most creations coalesced into one transaction (group commit).
    #[arg(global = true, long, env = "INTAKE_MAX_BATCH", default_value_t = 500)]
    pub intake_max_batch: usize,

    /// Creation batches committing at once; the next fills meanwhile (beside them only when full).
    #[arg(global = true, long, env = "INTAKE_IN_FLIGHT", default_value_t = 4)]
    pub intake_in_flight: usize,

    /// Creations of each kind (chats, messages) waiting for a group-commit batch in this process;
    /// more are answered 503 `server_busy` at once, with nothing created.
    #[arg(global = true, long, env = "INTAKE_MAX_QUEUED", default_value_t = 4096)]
    pub intake_max_queued: usize,

    /// Number of queue workers in this process (0 disables them).
    #[arg(global = true, long, env = "WORKERS", default_value_t = 2)]
    pub workers: usize,

    /// Most jobs one worker transaction takes from the queue.
    #[arg(global = true, long, env = "WORKER_BATCH_SIZE", default_value_t = 500)]
    pub worker_batch_size: i64,

    /// How often an idle worker looks at the queue without being notified, in milliseconds.
    #[arg(global = true, long, env = "WORKER_POLL_MS", default_value_t = 1000)]
    pub worker_poll_ms: u64,

    /// How long a worker lets new jobs gather before it takes a small lot, in milliseconds (0:
    /// never). A worker that found fewer than 16 jobs waits this long before its next look, so
    /// it writes tens of messages per statement instead of one or two (far cheaper per row).
    /// Delays a new message's arrival in the table (and in search) by at most this much; a
    /// queued message is readable all along.
    #[arg(global = true, long, env = "WORKER_LINGER_MS", default_value_t = 10)]
    pub worker_linger_ms: u64,

    /// Failed attempts after which a queued job counts as stuck (`chat_jobs_stuck` in
    /// `/metrics`: worth an alert). It stays queued, readable, and is retried with backoff
    /// (capped at 5 minutes); lost connections and lock or statement timeouts are not attempts.
    #[arg(global = true, long, env = "JOB_MAX_ATTEMPTS", default_value_t = 8)]
    pub job_max_attempts: i32,

    /// How often the count reconciler runs, in seconds (guarantees the 1-hour bound on counts).
    #[arg(global = true, long, env = "RECONCILE_INTERVAL_SECS", default_value_t = 300)]
    pub reconcile_interval_secs: u64,

    /// Largest accepted request body, in bytes.
    #[arg(global = true, long, env = "MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Requests handled at once by this process; more are answered 503 at once.
    #[arg(global = true, long, env = "MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,

    /// How often the pending-list cleaner looks at the search indexes and vacuums the job table,
    /// in milliseconds.
    #[arg(global = true, long, env = "MAINTENANCE_INTERVAL_MS", default_value_t = 1_000)]
    pub maintenance_interval_ms: u64,

    /// Rows written to a messages partition before its search indexes' pending lists are merged
    /// (and at least once a minute). Merging is far cheaper per row in bigger lots; a search
    /// reads the pending list of its partition, so lots much bigger slow searches down.
    #[arg(global = true, long, env = "GIN_MERGE_ROWS", default_value_t = 1_000)]
    pub gin_merge_rows: i64,

    /// Live message streams (`.../messages/stream`) open at once; more get 503.
    #[arg(global = true, long, env = "MAX_STREAMS", default_value_t = 10_000)]
    pub max_streams: usize,

    /// How often an idle live stream gets a keep-alive comment, in milliseconds.
    #[arg(global = true, long, env = "STREAM_KEEP_ALIVE_MS", default_value_t = 15_000)]
    pub stream_keep_alive_ms: u64,

    /// How often a watched chat's live stream reads the chat even without a notification, in
    /// seconds: the fallback for a NOTIFY lost in a database outage.
    #[arg(global = true, long, env = "LIVE_REFRESH_SECS", default_value_t = 30)]
    pub live_refresh_secs: u64,

    /// Most distinct live event lines kept while they cannot be announced (the database is
    /// unreachable); past it, new-message lines give way to one "look again" that makes every
    /// instance re-read every watched chat.
    #[arg(global = true, long, env = "LIVE_OUTBOX_LINES", default_value_t = 10_000)]
    pub live_outbox_lines: usize,

    /// Longest a request may take, in milliseconds: a body still arriving then is answered 408,
    /// an answer not ready then 503 `request_timeout` (a creation not yet sent to the database
    /// by then is never sent).
    #[arg(global = true, long, env = "REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Connections with no traffic for this long are closed, in seconds.
    #[arg(global = true, long, env = "IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub idle_timeout_secs: u64,

    /// Requests per application token per minute, counted across all instances; unlimited
    /// when unset.
    #[arg(global = true, long, env = "RATE_LIMIT_PER_MINUTE")]
    pub rate_limit_per_minute: Option<u32>,

    /// Log as JSON lines instead of text.
    #[arg(global = true, long, env = "LOG_JSON", default_value_t = false)]
    pub log_json: bool,

    /// Webhook deliveries.
    #[command(flatten)]
    pub webhooks: webhooks::WebhookSettings,
}

/// This machine's cores (1 if unknown).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Settings {
    /// Settings for tests and tools: every default, no database URL.
    pub fn defaults() -> Self {
        Cli::parse_from(["chat-system"]).settings
    }

    /// How long a connection may wait for an answer to request bytes it sent before it is
    /// closed: a second past the request deadline, which answers first for any request whose
    /// head arrived.
    pub fn slow_client_limit(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms) + Duration::from_secs(1)
    }

    pub(crate) fn worker_poll(&self) -> Duration {
        Duration::from_millis(self.worker_poll_ms)
    }

    pub(crate) fn worker_linger(&self) -> Duration {
        Duration::from_millis(self.worker_linger_ms)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};

    #[test]
    fn settings_go_before_or_after_the_subcommand() {
        let cli = Cli::try_parse_from(["chat-system", "serve", "--listen", "127.0.0.1:4000"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve)));
        assert_eq!(cli.settings.listen.port(), 4000);

        let cli = Cli::try_parse_from([
            "chat-system",
            "--workers",
            "3",
            "demo",
            "--data-dir",
            "/srv/pg",
            "--messages",
            "5",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::Demo { messages: 5, .. })));
        assert_eq!(cli.settings.data_dir.to_str(), Some("/srv/pg"));
        assert_eq!(cli.settings.workers, 3);
    }

    #[test]
    fn a_subcommands_help_lists_the_settings() {
        let help = Cli::try_parse_from(["chat-system", "demo", "--help"])
            .unwrap_err()
            .to_string();
        assert!(help.contains("--data-dir"), "{help}");
        assert!(help.contains("--messages"), "{help}");
    }
}
