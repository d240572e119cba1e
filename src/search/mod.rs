//! Search queries: parsing what the user typed into terms, and the parts of a result computed
//! in the service rather than the database: relevance scores and highlighted snippets (only for
//! the page returned). Matching itself happens in PostgreSQL (see `db::search`).

mod fold;

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
/// Characters of body around the first match in a snippet.
pub const SNIPPET_CHARS: usize = 160;

/// One page of search results, with snippets.
pub struct SearchPage {
    /// The hits in result order.
    pub hits: Vec<crate::model::Message>,
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
    /// Hits to skip.
    pub offset: i64,
    /// Most hits to return.
    pub limit: i64,
}

/// Runs a search in the chat and prepares the page.
pub async fn search(
    db: &crate::db::Db,
    token: uuid::Uuid,
    chat: i64,
    request: SearchRequest<'_>,
) -> crate::db::DbResult<SearchPage> {
    let SearchRequest {
        terms,
        order,
        after,
        before,
        offset,
        limit,
    } = request;
    let started = std::time::Instant::now();
    let mut hits = match order {
        SearchOrder::Newest => {
            db.search(token, chat, terms, (after, before), offset + limit + 1)
                .await?
        }
        SearchOrder::Relevance => {
            let mut hits = db
                .search(token, chat, terms, (after, before), RELEVANCE_CANDIDATES)
                .await?;
            let mut scored: Vec<(u32, crate::model::Message)> =
                hits.drain(..).map(|m| (relevance(&m.body, terms), m)).collect();
            scored.sort_by(|(sa, a), (sb, b)| sb.cmp(sa).then(b.number.cmp(&a.number)));
            scored.into_iter().map(|(_, m)| m).collect()
        }
    };
    let mut page: Vec<_> = hits.drain(..).skip(offset as usize).collect();
    let has_more = page.len() as i64 > limit;
    page.truncate(limit as usize);
    for hit in &mut page {
        hit.snippet = Some(snippet(&hit.body, terms, SNIPPET_CHARS));
    }
    let label = match order {
        SearchOrder::Newest => "newest",
        SearchOrder::Relevance => "relevance",
    };
    crate::metrics::metrics().search(label, started.elapsed());
    Ok(SearchPage { hits: page, has_more })
}
