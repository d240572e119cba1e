//! The parts of a result computed in the service rather than the database: relevance scores and
//! highlighted snippets. Pure: knows nothing of the database.

use super::fold::{fold_str, Folded};
use super::parse::Term;

/// How well `body` matches `terms`: per term, 3 for a whole word, 2 for a word start, 1 for a
/// match inside a word (a phrase counts as a whole word); summed.
pub fn relevance(body: &str, terms: &[Term]) -> u32 {
    let folded = Folded::new(body);
    terms
        .iter()
        .map(|term| {
            folded
                .find_all(&fold_str(term.text()))
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
    let merged = marks(body, terms);
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

/// The byte ranges of `body` that match a term (a short term only at a word start), sorted and
/// merged where they overlap or touch.
fn marks(body: &str, terms: &[Term]) -> Vec<(usize, usize)> {
    let folded = Folded::new(body);
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for term in terms {
        let needle = fold_str(term.text());
        for (start, end) in folded.find_all(&needle) {
            if matches!(term, Term::Prefix(_)) && !folded.word_start(start) {
                continue;
            }
            marks.push(folded.original_range(start, end));
        }
    }
    marks.sort_unstable();
    merge(marks)
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
    use crate::search::parse::parse;

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
