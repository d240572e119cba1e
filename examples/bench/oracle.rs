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
//! hit numbered inside the window through the library's `search::fetch` (paged as a client
//! pages). Both must equal the scan's: the page its newest 20 hits, the hits its whole list.
//!
//! The search tables' "hits" column (every hit of a shape's first query in a whole chat) is
//! counted under the same definition by the database (`count`).

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
/// Hits per library call when the oracle collects every hit of a window (`window_hits`).
const HITS_PER_PAGE: i64 = 1000;

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

/// The query's conditions as SQL over the folded text `text` (whitespace runs one space) and
/// `folded` (an ICU-collated text, for the word starts' character classes), the query's words
/// as parameters `$first`, `$first + 1`…; and those words.
fn conditions<'q>(checks: &'q [Check], text: &str, folded: &str, first: usize) -> (String, Vec<&'q str>) {
    let sql: Vec<String> = checks
        .iter()
        .zip(first..)
        .map(|(check, p)| match check {
            Check::Within(_) => format!(
                r"{text} LIKE '%' || replace(replace(replace(chat_search_text(${p}), '\', '\\'), '%', '\%'), '_', '\_') || '%'"
            ),
            Check::Starts(_) => {
                format!(r"{folded} ~ ('(^|[^[:alnum:]])' || regexp_replace(chat_fold(${p}), '([^[:alnum:]])', '\\\1', 'g'))")
            }
        })
        .collect();
    let words = checks
        .iter()
        .map(|c| match c {
            Check::Within(t) | Check::Starts(t) => t.as_str(),
        })
        .collect();
    (sql.join(" AND "), words)
}

/// The scan: the numbers of the window's messages that satisfy every check, newest first.
async fn scan(client: &tokio_postgres::Client, query: &str) -> Result<Vec<i64>> {
    let checks = checks(query);
    let (conditions, words) = conditions(&checks, "text", "folded", 1);
    let params: Vec<&(dyn ToSql + Sync)> = words.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
    let sql = format!("SELECT number FROM oracle_window WHERE {conditions} ORDER BY number DESC");
    Ok(client.query(&sql, &params).await?.iter().map(|r| r.get(0)).collect())
}

/// How many messages of chat 1 of the application of `token` match `query`, counted by the
/// database in one statement (the search tables' "hits" column).
///
/// Why not through the library, as before: `search::fetch` with `need` = every hit returns them
/// as one page, whose bodies it loads and puts back in the page's order by looking each one's
/// position up in the page (quadratic); for the 1M-message chat's 300,000+ hits of a common term
/// that kept the benchmark client busy for 25 minutes of CPU without finishing. This is one
/// sequential read of the chat's rows (0.4 s for `the`, 0.8 s for the prefix `th` on the 1M
/// chat), under the oracle's definition of a match (`checks`), so the count is independent of
/// the code under test; the oracle still compares the service's own hits with its scan.
///
/// It reads the stored folded text where there is one and the body lower-cased where there is
/// none (plain-ASCII bodies, whose folded text is just that, may be stored without it); folding
/// from the body here instead (`chat_search_text(body)`, as the oracle's window does) would cost
/// a PL/pgSQL call per row, ~30 s per query on the 1M chat.
pub async fn count(client: &tokio_postgres::Client, token: Uuid, query: &str) -> Result<i64> {
    let checks = checks(query);
    let stored = r#"coalesce(search_text, lower(body COLLATE "C"))"#;
    let (conditions, words) = conditions(&checks, stored, &format!(r#"({stored} COLLATE "und-x-icu")"#), 2);
    // The application's id first: on Citus a statement on `messages` is routed to one shard
    // only by its `application_id` given as a value.
    let app = app_id(client, token).await?;
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&app];
    params.extend(words.iter().map(|t| t as &(dyn ToSql + Sync)));
    let sql = format!("SELECT count(*) FROM messages WHERE application_id = $1 AND chat_number = 1 AND {conditions}");
    Ok(client.query_one(&sql, &params).await?.get(0))
}

/// The id of the application of `token`.
async fn app_id(client: &tokio_postgres::Client, token: Uuid) -> Result<i64> {
    Ok(client
        .query_one("SELECT id FROM applications WHERE token = $1", &[&token])
        .await?
        .get(0))
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

/// Every hit numbered above `after`, through the library, newest first: page after page of
/// `HITS_PER_PAGE`, each below the last page's oldest hit (the `before` cursor, as a client
/// pages). One page of every hit (`need` = the window) cost the client time quadratic in the
/// hits (`search::fetch` orders a page's messages by looking each one's position up in it):
/// seconds per common query in a 50,000-message window.
async fn window_hits(db: &Db, token: Uuid, after: i64, query: &str) -> Result<Vec<i64>> {
    let terms = search::parse(query)?;
    let mut hits = Vec::new();
    let mut before = i64::MAX;
    loop {
        let wanted = Wanted {
            need: HITS_PER_PAGE + 1,
            offset: 0,
            limit: HITS_PER_PAGE,
            rank: None,
        };
        let (page, more) = search::fetch(db, token, 1, &terms, None, (after, before), wanted).await?;
        hits.extend(page.iter().map(|m| m.number));
        match (more, hits.last()) {
            (true, Some(last)) if hits.len() as i64 <= WINDOW => before = *last,
            _ => return Ok(hits),
        }
    }
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
        let app = app_id(&client, *token).await?;
        let last: i64 = client
            .query_one(
                "SELECT coalesce(max(number), 0) FROM messages WHERE application_id = $1 AND chat_number = 1",
                &[&app],
            )
            .await?
            .get(0);
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
