//! The webhook outbox of a worker batch: one statement in the batch's transaction, pipelined
//! after the statements that write the batch, so the deliveries of `chat.created` and
//! `message.created` exist exactly when the chats and messages do (a batch rolled back or lost in
//! a crash takes them with it, and its jobs run again). It sends only the creations' keys and
//! reads their data back from the rows just written, for applications with webhooks only. The
//! delivery workers of `hooks` send them.

use deadpool_postgres::Transaction;
use tokio_postgres::Statement;

/// The outbox statement (`sql/webhooks_enqueue_created.sql`).
pub(super) const ENQUEUE_CREATED: &str = include_str!("sql/webhooks_enqueue_created.sql");

/// The keys of a batch's creations, in job order: application, chat, and the message number
/// (`None` for a created chat).
#[derive(Debug, Default)]
pub(super) struct Created {
    apps: Vec<i64>,
    chats: Vec<i64>,
    numbers: Vec<Option<i64>>,
}

impl FromIterator<(i64, i64, Option<i64>)> for Created {
    fn from_iter<I: IntoIterator<Item = (i64, i64, Option<i64>)>>(keys: I) -> Self {
        let mut created = Created::default();
        for (app, chat, number) in keys {
            created.apps.push(app);
            created.chats.push(chat);
            created.numbers.push(number);
        }
        created
    }
}

impl Created {
    /// Queues the webhook deliveries of these creations in `tx` with `enqueue` (the prepared
    /// `ENQUEUE_CREATED`); must run after the statements that wrote them.
    pub(super) async fn enqueue(
        &self,
        tx: &Transaction<'_>,
        enqueue: &Statement,
    ) -> Result<u64, tokio_postgres::Error> {
        if self.apps.is_empty() {
            return Ok(0);
        }
        tx.execute(enqueue, &[&self.apps, &self.chats, &self.numbers]).await
    }
}
