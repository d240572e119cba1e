//! A search's time budget in the database, for all its statements together.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use tokio_postgres::Transaction;

/// When a search must be done by.
pub(super) struct Budget {
    deadline: Instant,
}

impl Budget {
    /// A budget of `ms` milliseconds from now.
    pub(super) fn new(ms: u64) -> Self {
        Budget {
            deadline: Instant::now() + Duration::from_millis(ms),
        }
    }

    /// `SET LOCAL statement_timeout` to what is left of the budget. Sent before each of a
    /// search's statements (pipelined with it: no round trip of its own), so that its statements
    /// together take at most the budget, however many it runs; PostgreSQL cancels the one that
    /// runs over (`QUERY_CANCELED`).
    fn timeout(&self) -> String {
        let left = self
            .deadline
            .saturating_duration_since(Instant::now())
            .as_millis()
            .max(1);
        format!("SET LOCAL statement_timeout = {left}")
    }

    /// Runs `settings` (`SET LOCAL`s, each ending in `;`) and the budget's timeout, then
    /// `statement`, pipelined: the settings hold for the statement, at no round trip of their own.
    pub(super) async fn run<T, E: From<tokio_postgres::Error>>(
        &self,
        tx: &Transaction<'_>,
        settings: &str,
        statement: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        // `biased`: polled in order, so the first failure is the error returned (after a failed
        // statement, the later ones of the transaction fail with 25P02, which names no cause).
        let set = format!("{settings} {}", self.timeout());
        let (_, out) = tokio::try_join!(biased; async { tx.batch_execute(&set).await.map_err(E::from) }, statement)?;
        Ok(out)
    }
}
