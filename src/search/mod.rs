//! Search queries: parsing what the user typed into terms, and the parts of a result computed
//! in the service rather than the database: relevance scores and highlighted snippets (only for
//! the page returned). Matching itself happens in PostgreSQL (see `db::search`).

mod fold;

mod query;

pub use query::Wanted;

pub use fold::{fold_str, Folded};

/// Most terms (words and phrases) one query may have.
pub const MAX_TERMS: usize = 256;

/// One thing every hit must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// 3+ characters: anywhere in the body (trigram index).
    Infix(String),
    /// 1–2 characters: the start of a word (full-text index, prefix match).
    Prefix(String),
    /// A quoted phrase of several words: these words in order, separated by whitespace.
    Phrase(String),
}

impl Term {
    /// The text of the term as the user typed it.
    pub fn text(&self) -> &str {
        match self {
            Term::Infix(t) | Term::Prefix(t) | Term::Phrase(t) => t,
        }
    }
}

/// Why a query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing to search for.
    #[error("the query has no search terms")]
    Empty,
    /// More than `MAX_TERMS` terms.
    #[error("the query has more than {MAX_TERMS} terms")]
    TooManyTerms,
}

/// Splits a query into terms: `"quoted phrases"` first, then whitespace-separated words. An
/// unmatched quote is ordinary text. Nothing the user types is query syntax beyond the quotes.
pub fn parse(query: &str) -> Result<Vec<Term>, QueryError> {
    let mut terms = Vec::new();
    let mut rest = query;
    let mut loose = String::new();
    while let Some(open) = rest.find('"') {
        let Some(len) = rest[open + 1..].find('"') else {
            break;
        };
        loose.push_str(&rest[..open]);
        loose.push(' ');
        let phrase = &rest[open + 1..open + 1 + len];
        let words: Vec<&str> = phrase.split_whitespace().collect();
        match words.len() {
            0 => {}
            1 => terms.push(word(words[0])),
            _ => terms.push(Term::Phrase(words.join(" "))),
        }
        rest = &rest[open + 2 + len..];
    }
    loose.push_str(rest);
    terms.extend(loose.split_whitespace().map(word));
    terms.dedup();
    match terms.len() {
        0 => Err(QueryError::Empty),
        n if n > MAX_TERMS => Err(QueryError::TooManyTerms),
        _ => Ok(terms),
    }
}

fn word(w: &str) -> Term {
    // Short terms match word starts through the full-text index; a short term with no letter or
    // digit has no word to start, so it is matched as a substring instead.
    if w.chars().count() >= 3 || !w.chars().any(char::is_alphanumeric) {
        Term::Infix(w.to_owned())
    } else {
        Term::Prefix(w.to_owned())
    }
}

/// How well `body` matches `terms`: per term, 3 for a whole word, 2 for a word start, 1 for a
/// match inside a word (a phrase counts as a whole word); summed.
pub fn relevance(body: &str, terms: &[Term]) -> u32 {
    let folded = Folded::new(body);
    terms
        .iter()
        .map(|term| {
            folded
                .find_all(&fold::fold_str(term.text()))
                .map(|(start, end)| match (folded.word_start(start), folded.word_end(end)) {
                    (true, true) => 3,
                    (true, false) => 2,
                    _ => 1,
                })
                .max()
                .unwrap_or(0)
        })
        .sum()
}

/// The part of `body` around its first match, HTML-escaped, with every match of `terms` wrapped
/// in `<mark>…</mark>`; at most about `width` characters, with `…` where it was cut.
pub fn snippet(body: &str, terms: &[Term], width: usize) -> String {
    let folded = Folded::new(body);
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for term in terms {
        let needle = fold::fold_str(term.text());
        for (start, end) in folded.find_all(&needle) {
            if matches!(term, Term::Prefix(_)) && !folded.word_start(start) {
                continue;
            }
            marks.push(folded.original_range(start, end));
        }
    }
    marks.sort_unstable();
    let merged = merge(marks);
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    let first = merged.first().map(|m| m.0).unwrap_or(0);
    let first_char = chars.iter().position(|(i, _)| *i >= first).unwrap_or(0);
    let start_char = first_char.saturating_sub(width / 3);
    let end_char = (start_char + width).min(chars.len());
    let byte = |c: usize| chars.get(c).map(|(i, _)| *i).unwrap_or(body.len());
    let (from, to) = (byte(start_char), byte(end_char));

    let mut out = String::new();
    if start_char > 0 {
        out.push('…');
    }
    let mut at = from;
    for (s, e) in merged.into_iter().filter(|(s, e)| *e > from && *s < to) {
        let (s, e) = (s.max(at), e.min(to));
        escape_into(&mut out, &body[at..s]);
        out.push_str("<mark>");
        escape_into(&mut out, &body[s..e]);
        out.push_str("</mark>");
        at = e;
    }
    escape_into(&mut out, &body[at..to]);
    if end_char < chars.len() {
        out.push('…');
    }
    out
}

fn merge(sorted: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in sorted {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_phrases_and_short_terms() {
        assert_eq!(
            parse(r#"hello "yellow  submarine" ab ?"#).unwrap(),
            vec![
                Term::Phrase("yellow submarine".into()),
                Term::Infix("hello".into()),
                Term::Prefix("ab".into()),
                Term::Infix("?".into()),
            ]
        );
        assert_eq!(
            parse(r#"unmatched "quote"#).unwrap(),
            vec![Term::Infix("unmatched".into()), Term::Infix("\"quote".into())]
        );
        assert_eq!(parse(r#""one""#).unwrap(), vec![Term::Infix("one".into())]);
        assert_eq!(parse("   "), Err(QueryError::Empty));
        assert_eq!(parse(r#""""#), Err(QueryError::Empty));
        assert_eq!(
            parse(&"a".repeat(17).chars().map(|c| format!("{c}{c} ")).collect::<String>()).map(|t| t.len()),
            Ok(1)
        );
        let many: String = (0..257).map(|i| format!("w{i} ")).collect();
        assert_eq!(parse(&many), Err(QueryError::TooManyTerms));
    }

    #[test]
    fn snippets_mark_matches_and_escape_html() {
        let terms = parse("cafe <b>").unwrap();
        assert_eq!(
            snippet("Le Café <b>bold</b>", &terms, 100),
            "Le <mark>Café</mark> <mark>&lt;b&gt;</mark>bold&lt;/b&gt;"
        );
        let long = format!("{} needle {}", "x ".repeat(100), "y ".repeat(100));
        let s = snippet(&long, &parse("needle").unwrap(), 40);
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("<mark>needle</mark>"),
            "{s}"
        );
    }

    #[test]
    fn prefix_terms_mark_only_word_starts() {
        assert_eq!(
            snippet("hello shell", &parse("he").unwrap(), 100),
            "<mark>he</mark>llo shell"
        );
    }

    #[test]
    fn whole_words_rank_above_word_starts_above_infixes() {
        let terms = parse("sub").unwrap();
        assert!(relevance("a sub here", &terms) > relevance("submarine", &terms));
        assert!(relevance("submarine", &terms) > relevance("a nosub", &terms));
        assert_eq!(relevance("nothing", &terms), 0);
    }
}

/// Order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum SearchOrder {
    /// Newest first (the default).
    Newest,
    /// Best matches first, among the most recent matches; ties newest first.
    Relevance,
}

/// How many of the most recent matches `SearchOrder::Relevance` ranks.
pub const RELEVANCE_CANDIDATES: i64 = 1000;
/// How deep `page` may reach: a page must start within the first this many hits (deeper pages
/// of a newest-first search are reached with the `before` cursor). A request's memory and
/// database work grow with the hits it skips; this bounds them.
pub const MAX_OFFSET: i64 = 1000;
/// Characters of body around the first match in a snippet.
pub const SNIPPET_CHARS: usize = 160;

/// A message that matched, with its snippet.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The message.
    pub message: crate::model::Message,
    /// The part of the body around the first match, HTML-escaped, with every match wrapped in
    /// `<mark>…</mark>`.
    pub snippet: String,
}

/// One page of search results, with snippets.
pub struct SearchPage {
    /// The hits in result order.
    pub hits: Vec<Hit>,
    /// True when more hits follow.
    pub has_more: bool,
}

/// What to search for and which page of results to return.
pub struct SearchRequest<'a> {
    /// The parsed query.
    pub terms: &'a [Term],
    /// Result order.
    pub order: SearchOrder,
    /// Only hits numbered above this.
    pub after: i64,
    /// Only hits numbered below this.
    pub before: i64,
    /// Hits to skip (below `MAX_OFFSET`).
    pub offset: i64,
    /// Most hits to return.
    pub limit: i64,
}

/// Why a search was not answered.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The database failed, or the application or chat does not exist.
    #[error(transparent)]
    Db(#[from] crate::store::DbError),
    /// As many searches as allowed are running: in this process (`true`) or for this
    /// application (`false`).
    #[error("too many searches at once")]
    Busy {
        /// True when the per-process cap was reached, false for the per-application one.
        everyone: bool,
    },
    /// The search ran out of its time budget in the database.
    #[error("search timed out")]
    TimedOut,
}

/// The caps on searches running at once in this process: overall, so that searches cannot take
/// every read connection or stall the process, and per application, so that one application
/// cannot take all of those. Cheap to clone.
#[derive(Clone)]
pub struct Searches {
    everyone: std::sync::Arc<tokio::sync::Semaphore>,
    running: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<uuid::Uuid, usize>>>,
    per_app: usize,
}

/// A running search's place under the caps, given back when dropped.
pub struct SearchPermit {
    _everyone: tokio::sync::OwnedSemaphorePermit,
    running: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<uuid::Uuid, usize>>>,
    app: uuid::Uuid,
}

impl Searches {
    /// At most `max` searches at once, `per_app` of them for one application.
    pub fn new(max: usize, per_app: usize) -> Self {
        Searches {
            everyone: std::sync::Arc::new(tokio::sync::Semaphore::new(max.max(1))),
            running: Default::default(),
            per_app: per_app.max(1),
        }
    }

    /// A place for a search of the application with `token`, or `Busy` at once (a search
    /// waiting for a place would hold its request, and its client, for nothing: better to say
    /// when to come back).
    pub fn enter(&self, token: uuid::Uuid) -> Result<SearchPermit, SearchError> {
        let everyone = self
            .everyone
            .clone()
            .try_acquire_owned()
            .map_err(|_| SearchError::Busy { everyone: true })?;
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mine = running.entry(token).or_insert(0);
        if *mine >= self.per_app {
            return Err(SearchError::Busy { everyone: false });
        }
        *mine += 1;
        Ok(SearchPermit {
            _everyone: everyone,
            running: self.running.clone(),
            app: token,
        })
    }
}

impl Drop for SearchPermit {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mine) = running.get_mut(&self.app) {
            *mine -= 1;
            if *mine == 0 {
                running.remove(&self.app);
            }
        }
    }
}

/// Runs a search in the chat and prepares the page, under the caps of `searches`.
pub async fn search(
    db: &crate::store::Db,
    searches: &Searches,
    token: uuid::Uuid,
    chat: i64,
    request: SearchRequest<'_>,
) -> Result<SearchPage, SearchError> {
    let SearchRequest {
        terms,
        order,
        after,
        before,
        offset,
        limit,
    } = request;
    let _permit = searches.enter(token)?;
    let started = std::time::Instant::now();
    let score = |body: &str| relevance(body, terms);
    let wanted = match order {
        SearchOrder::Newest => Wanted {
            need: offset + limit + 1,
            offset,
            limit,
            rank: None,
        },
        SearchOrder::Relevance => Wanted {
            need: RELEVANCE_CANDIDATES,
            offset,
            limit,
            rank: Some(&score),
        },
    };
    let (messages, has_more) = db
        .search(token, chat, terms, (after, before), wanted)
        .await
        .map_err(|e| match e {
            crate::store::DbError::Postgres(pg)
                if pg.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) =>
            {
                SearchError::TimedOut
            }
            e => SearchError::Db(e),
        })?;
    let hits = messages
        .into_iter()
        .map(|message| Hit {
            snippet: snippet(&message.body, terms, SNIPPET_CHARS),
            message,
        })
        .collect();
    let label = match order {
        SearchOrder::Newest => "newest",
        SearchOrder::Relevance => "relevance",
    };
    crate::metrics::metrics().search(label, started.elapsed());
    Ok(SearchPage { hits, has_more })
}
