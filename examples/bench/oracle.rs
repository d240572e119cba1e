//! An oracle for the search benchmark: the service's answers checked against an independent scan.
//!
//! For the first queries of each shape, in the small chat (all of it) and the big chat (its
//! newest `WINDOW` messages), the chat's messages are read by primary key into a temporary table
//! with their text folded from the body (`chat_search_text(body)`, `chat_fold(body)`), and each
//! query is answered by a plain sequential scan of that table, written from README's definition
//! alone: a term of 3+ characters (or with no letter or digit) and a phrase are substrings of the
//! folded text (`LIKE`, the phrase's words joined by one space as the folded text's whitespace
//! is); a term of 1–2 characters must start a word, a word start being the start of the text or
//! a position after a character that is not a letter or digit (a regular expression, ICU's
//! character classes). Neither the service's routes nor its search columns or indexes are used.
//!
//! The service answers twice: the first page over HTTP (`limit=20`, newest first), and every
//! hit numbered inside the window through the library's `search::fetch` (the bench's hit count).
//! Both must equal the scan's: the page its newest 20 hits, the hits its whole list.

use anyhow::Result;
use chat_system::{
    search::{self, Wanted},
    store::Db,
};
use serde_json::Value;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::{queries::Shape, stats::encode};

/// How many of the big chat's newest messages the scan covers.
pub const WINDOW: i64 = 50_000;
/// Queries checked per shape.
pub const PER_SHAPE: usize = 3;
const PAGE: usize = 20;

/// One condition of the scan.
enum Check {
    /// A substring of the folded text.
    Within(String),
    /// The start of a word.
    Starts(String),
}

/// The query's conditions, from README's definition.
fn checks(query: &str) -> Vec<Check> {
    if let Some(phrase) = query.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        return vec![Check::Within(phrase.split_whitespace().collect::<Vec<_>>().join(" "))];
    }
    query
        .split_whitespace()
        .map(|w| {
            if w.chars().count() >= 3 || !w.chars().any(char::is_alphanumeric) {
                Check::Within(w.to_owned())
            } else {
                Check::Starts(w.to_owned())
            }
        })
        .collect()
}

/// The scan: the numbers of the window's messages that satisfy every check, newest first.
async fn scan(client: &tokio_postgres::Client, query: &str) -> Result<Vec<i64>> {
    let checks = checks(query);
    let conditions: Vec<String> = checks
        .iter()
        .zip(1..)
        .map(|(check, p)| match check {
            Check::Within(_) => format!(
                r"text LIKE '%' || replace(replace(replace(chat_search_text(${p}), '\', '\\'), '%', '\%'), '_', '\_') || '%'"
            ),
            Check::Starts(_) => {
                format!(r"folded ~ ('(^|[^[:alnum:]])' || regexp_replace(chat_fold(${p}), '([^[:alnum:]])', '\\\1', 'g'))")
            }
        })
        .collect();
    let texts: Vec<&str> = checks
        .iter()
        .map(|c| match c {
            Check::Within(t) | Check::Starts(t) => t.as_str(),
        })
        .collect();
    let params: Vec<&(dyn ToSql + Sync)> = texts.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
    let sql = format!(
        "SELECT number FROM oracle_window WHERE {} ORDER BY number DESC",
        conditions.join(" AND ")
    );
    Ok(client.query(&sql, &params).await?.iter().map(|r| r.get(0)).collect())
}

/// The service's first page over HTTP: its hits' numbers.
async fn first_page(http: &reqwest::Client, base: &str, token: Uuid, query: &str) -> Result<Vec<i64>> {
    let url = format!(
        "{base}/api/applications/{token}/chats/1/messages?limit={PAGE}&order=newest&query={}",
        encode(query)
    );
    let page: Value = http.get(&url).send().await?.error_for_status()?.json().await?;
    Ok(page["data"]
        .as_array()
        .map(|hits| hits.iter().filter_map(|h| h["number"].as_i64()).collect())
        .unwrap_or_default())
}

/// Every hit numbered above `after`, through the library.
async fn window_hits(db: &Db, token: Uuid, after: i64, query: &str) -> Result<Vec<i64>> {
    let terms = search::parse(query)?;
    let wanted = Wanted {
        need: WINDOW + 1,
        offset: 0,
        limit: WINDOW + 1,
        rank: None,
    };
    let (hits, _) = search::fetch(db, token, 1, &terms, None, (after, i64::MAX), wanted).await?;
    Ok(hits.iter().map(|m| m.number).collect())
}

/// The oracle's tally and its lines.
#[derive(Default)]
pub struct Verdicts {
    pub checked: usize,
    pub agreed: usize,
    pub lines: Vec<String>,
}

impl Verdicts {
    /// The oracle's section of the report.
    pub fn report(&self) -> String {
        let mut out = format!(
            "### Oracle\n\n\
         The first {} queries of each shape, small chat (whole) and big chat (newest {} messages), checked\n\
         against a sequential scan of the chat's folded bodies (see `examples/bench/oracle.rs`): the\n\
         first page over HTTP and the hits through `search::fetch` must equal the scan's.\n\n\
         **{} checked, {} agree, {} disagree.**\n",
            PER_SHAPE,
            WINDOW,
            self.checked,
            self.agreed,
            self.checked - self.agreed,
        );
        for line in self.lines.iter().take(12) {
            out.push_str(&format!("\n- {}", line.trim_start_matches("oracle: ")));
        }
        if self.lines.len() > 12 {
            out.push_str(&format!(
                "\n- … and {} more (printed by the run)",
                self.lines.len() - 12
            ));
        }
        out.push('\n');
        out
    }
}

/// Checks the first `PER_SHAPE` queries of every shape in each chat (`(name, token, whole)`:
/// `whole` scans the whole chat, else its newest `WINDOW` messages).
pub async fn check(db: &Db, base: &str, shapes: &[Shape], chats: &[(&str, Uuid, bool)]) -> Result<Verdicts> {
    let client = db.client().await?;
    let http = reqwest::Client::new();
    client
        .batch_execute(
            r#"CREATE TEMP TABLE IF NOT EXISTS oracle_window (number bigint, body text, text text, folded text COLLATE "und-x-icu")"#,
        )
        .await?;
    let mut verdicts = Verdicts::default();
    for (name, token, whole) in chats {
        let row = client
            .query_one(
                "SELECT a.id, (SELECT coalesce(max(number), 0) FROM messages m
                               WHERE m.application_id = a.id AND m.chat_number = 1)
                 FROM applications a WHERE a.token = $1",
                &[token],
            )
            .await?;
        let (app, last): (i64, i64) = (row.get(0), row.get(1));
        let after = if *whole { 0 } else { (last - WINDOW).max(0) };
        client.batch_execute("TRUNCATE oracle_window").await?;
        client
            .execute(
                "INSERT INTO oracle_window
                 SELECT number, body, chat_search_text(body), chat_fold(body) FROM messages
                 WHERE application_id = $1 AND chat_number = 1 AND number > $2",
                &[&app, &after],
            )
            .await?;
        for shape in shapes {
            for query in shape.queries.iter().take(PER_SHAPE) {
                let expected = scan(&client, query).await?;
                let page = first_page(&http, base, *token, query).await?;
                let hits = window_hits(db, *token, after, query).await?;
                verdicts.checked += 1;
                let page_in: Vec<i64> = page.into_iter().filter(|n| *n > after).collect();
                if page_in == expected[..expected.len().min(PAGE)] && hits == expected {
                    verdicts.agreed += 1;
                    continue;
                }
                let line = disagreement(&client, (shape.name, query, name), &expected, &hits, &page_in).await?;
                println!("{line}");
                verdicts.lines.push(line);
            }
        }
    }
    client.batch_execute("DROP TABLE oracle_window").await?;
    Ok(verdicts)
}

/// One line about a disagreement: the counts, and a message each side missed, with its text.
async fn disagreement(
    client: &tokio_postgres::Client,
    (shape, query, chat): (&str, &str, &str),
    expected: &[i64],
    hits: &[i64],
    page: &[i64],
) -> Result<String> {
    let missing: Vec<i64> = expected.iter().filter(|n| !hits.contains(n)).copied().collect();
    let extra: Vec<i64> = hits.iter().filter(|n| !expected.contains(n)).copied().collect();
    let mut line = format!(
        "oracle: {shape} `{query}`, {chat} chat: scan {} hits, service {} ({} missing, {} extra); \
         first page {}",
        expected.len(),
        hits.len(),
        missing.len(),
        extra.len(),
        if page == &expected[..expected.len().min(PAGE)] {
            "agrees"
        } else {
            "differs"
        },
    );
    for (label, numbers) in [("missed", &missing), ("extra", &extra)] {
        if let Some(n) = numbers.first() {
            let row = client
                .query_one("SELECT body FROM oracle_window WHERE number = $1", &[n])
                .await?;
            line.push_str(&format!("; {label} #{n}: {:?}", excerpt(row.get(0), query)));
        }
    }
    Ok(line)
}

/// Up to 100 characters of `body`, lower-cased, around the first occurrence of the query's
/// first word.
fn excerpt(body: &str, query: &str) -> String {
    let first = query
        .trim_matches('"')
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
    let lower = body.to_lowercase();
    let at = lower[..lower.find(&first).unwrap_or(0)].chars().count();
    lower.chars().skip(at.saturating_sub(40)).take(100).collect()
}
