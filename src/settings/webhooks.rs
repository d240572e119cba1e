//! The webhook delivery settings (`src/hooks/`), flattened into [`super::Settings`].

use std::time::Duration;

use clap::Args;

/// How webhooks are delivered.
#[derive(Debug, Clone, Args)]
pub struct WebhookSettings {
    /// Allow webhook endpoints on loopback, private, link-local and shared addresses (refused by
    /// default, after DNS resolution, so that an application cannot make the service call into
    /// its own network): for tests and private deployments.
    #[arg(global = true, long, env = "WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,

    /// Longest one delivery may take (connecting, sending, the answer's head and up to 64 KiB
    /// of its body), in milliseconds; connecting alone gets at most 5 seconds.
    #[arg(global = true, long, env = "WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,

    /// How long a failing delivery is retried (with exponential backoff) before it is kept as
    /// failed, and how long an endpoint may fail without a success before it is paused, in
    /// seconds.
    #[arg(global = true, long, env = "WEBHOOK_RETRY_WINDOW_SECS", default_value_t = 86_400)]
    pub webhook_retry_window_secs: u64,

    /// Deliveries in flight at once per endpoint and process, so that a slow endpoint holds up
    /// only its own deliveries.
    #[arg(global = true, long, env = "WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,
}

impl WebhookSettings {
    /// The total timeout of one delivery.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_timeout_ms.max(100))
    }

    /// The retry window.
    pub fn retry_window(&self) -> Duration {
        Duration::from_secs(self.webhook_retry_window_secs.max(1))
    }
}
