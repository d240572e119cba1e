//! `chat-system demo`: fills the database with applications, chats and messages of chat-like
//! text, so a new user can try lists, search and live streams on something real within a minute.
//! The data goes in through the write path's bulk loader ([`Loader`]: the intake's numbering and
//! the workers' statements, in one transaction, without the queue), with a progress bar.

pub mod text;

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use uuid::Uuid;

pub use text::Rng;

use crate::{store::Db, write::Loader};

/// How much to create.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    /// Applications.
    pub applications: usize,
    /// Chats per application.
    pub chats: usize,
    /// Messages in all, spread over the chats unevenly (the first chat of the first application
    /// gets the most, as real chats do).
    pub messages: usize,
}

/// One created application.
#[derive(Debug, Clone)]
pub struct DemoApplication {
    pub token: Uuid,
    pub name: String,
    /// Its chats' numbers with their message counts.
    pub chats: Vec<(i64, i64)>,
}

/// Rows per insert statement.
const CHUNK: usize = 5_000;
/// The messages span this many days up to now.
const DAYS: i64 = 30;

/// Message counts per chat (all applications' chats in order): Zipf-like weights, every chat at
/// least one message while there are enough.
fn spread(chats: usize, messages: usize) -> Vec<usize> {
    let weights: Vec<f64> = (1..=chats).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| ((messages as f64) * w / total) as usize)
        .collect();
    let assigned: usize = counts.iter().sum();
    if let Some(first) = counts.first_mut() {
        *first += messages - assigned;
    }
    counts
}

/// Creates the demo data; shows a progress bar on standard error when `progress` is set.
pub async fn fill(db: &Db, size: DemoSize, progress: bool) -> anyhow::Result<Vec<DemoApplication>> {
    let counts = spread(size.applications * size.chats, size.messages);
    let bar = if progress {
        ProgressBar::new(size.messages as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:10} [{elapsed_precise}] {wide_bar} {pos}/{len} messages ({rate}, ETA {eta})",
        )?
        // Whole messages per second (indicatif's own `per_sec` shows four decimals).
        .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        })
        .progress_chars("=> "),
    );
    bar.set_message("loading");
    let mut client = db.client().await?;
    let load = Loader::begin(&mut client, db.on_citus()).await?;
    let now = Utc::now();
    let start = now - chrono::Duration::days(DAYS);
    let mut rng = Rng::new(now.timestamp_nanos_opt().unwrap_or_default() as u64);
    let mut created = Vec::new();
    for a in 0..size.applications {
        let name = text::application_name(a);
        let (app_id, token) = load.application(&name, start).await?;
        let mut chats = Vec::new();
        for (c, number) in load
            .chats(app_id, size.chats as i64, start)
            .await?
            .into_iter()
            .enumerate()
        {
            let n = counts[a * size.chats + c];
            load_messages(&load, app_id, number, n, (start, now), &mut rng, &bar)
                .await
                .with_context(|| format!("loading the messages of chat {number} of {name}"))?;
            chats.push((number, n as i64));
        }
        created.push(DemoApplication { token, name, chats });
    }
    bar.set_message("committing");
    load.commit().await?;
    // Merge the search indexes' pending lists and refresh the planner's statistics now, so the
    // first searches are as fast as later ones.
    bar.set_message("indexing");
    bar.enable_steady_tick(Duration::from_millis(120));
    client.batch_execute(include_str!("sql/vacuum.sql")).await?;
    bar.finish_with_message("done");
    if !bar.is_hidden() {
        // The bar's last line ends here, so that what is printed next starts a line of its own.
        eprintln!();
    }
    Ok(created)
}

/// What to tell the user: each application's token and chats, and requests to try.
pub fn summary(created: &[DemoApplication], listen: &str) -> String {
    let mut out = String::from("Demo data created:\n");
    for app in created {
        let messages: i64 = app.chats.iter().map(|(_, n)| n).sum();
        out += &format!(
            "  {:<14} token {}  {} chats, {} messages\n",
            app.name,
            app.token,
            app.chats.len(),
            messages
        );
    }
    if let Some(app) = created.first() {
        let base = format!("http://{listen}/api/applications/{}/chats/1/messages", app.token);
        out += &format!(
            "\nTry (with the service running: cargo run --release):\n  curl '{base}?limit=5'\n  \
             curl '{base}?query=meeting%20friday'\n  curl '{base}?query=cafe&order=relevance'\n  \
             curl -N '{base}/stream'   # live; post a message in another terminal\n"
        );
    }
    out
}

/// Loads `n` messages into one chat (numbered after its last), spread in time over `span`, in
/// statements of `CHUNK` messages.
async fn load_messages(
    load: &Loader<'_>,
    app_id: i64,
    chat: i64,
    n: usize,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    rng: &mut Rng,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let step = (end - start).num_milliseconds() as f64 / n.max(1) as f64;
    let mut from = 1;
    while from <= n {
        let to = (from + CHUNK - 1).min(n);
        let messages: Vec<(String, DateTime<Utc>)> = (from..=to)
            .map(|k| {
                let at = start + chrono::Duration::milliseconds((step * (k as f64 - rng.f64())) as i64);
                (text::message(rng), at)
            })
            .collect();
        load.messages(app_id, chat, messages).await?;
        bar.inc((to - from + 1) as u64);
        from = to + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn messages_are_spread_unevenly_and_completely() {
        let counts = spread(6, 1000);
        assert_eq!(counts.iter().sum::<usize>(), 1000);
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        assert!(counts[5] > 0);
        assert_eq!(spread(3, 0), vec![0, 0, 0]);
    }
}
