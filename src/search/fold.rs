//! Case and accent folding in the service, the same as the database's `chat_search_text`, so
//! that what the database finds the service can highlight and rank: PostgreSQL's `unaccent`
//! rules character by character, then lower case, every run of whitespace one space; with a map
//! back to the original text.
//!
//! The rules are the database's own: `unaccent.json` holds what `unaccent()` makes of every
//! character it changes (1,650 of them in PostgreSQL 15: "é" → "e", "ß" → "ss", "ł" → "l",
//! "æ" → "ae", "½" → "1/2", combining marks → nothing), read off PostgreSQL by the query in
//! `tests/api/folding.rs`, which also checks that the file and the database still agree.

use std::{collections::HashMap, sync::OnceLock};

/// What `unaccent()` makes of each character it changes.
fn unaccent(c: char) -> Option<&'static str> {
    static RULES: OnceLock<HashMap<char, String>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        let map: HashMap<String, String> =
            serde_json::from_str(include_str!("unaccent.json")).expect("unaccent.json is a JSON object of strings");
        map.into_iter()
            .filter_map(|(from, to)| Some((from.chars().next()?, to)))
            .collect()
    });
    rules.get(&c).map(String::as_str)
}

/// Capital letters newer than the database's Unicode tables (added in Unicode 16: Latin
/// additions, Garay, Kirat Rai): its `lower()` leaves them as they are, so the service does too.
/// `tests/api/folding.rs` compares the two foldings on every character and names any other
/// difference.
fn not_lowered_by_the_database(c: char) -> bool {
    matches!(
        c,
        '\u{1C89}'
            | '\u{A7CB}'
            | '\u{A7CC}'
            | '\u{A7CE}'
            | '\u{A7D2}'
            | '\u{A7D4}'
            | '\u{A7DA}'
            | '\u{A7DC}'
            | '\u{10D50}'..='\u{10D65}'
            | '\u{16EA0}'..='\u{16EB8}'
    )
}

/// A folded copy of a text that remembers where each folded byte came from.
pub struct Folded<'a> {
    original: &'a str,
    folded: String,
    /// For each byte of `folded`, the byte offset of the original character it came from.
    origin: Vec<usize>,
}

/// `text` folded, without the position map.
pub fn fold_str(text: &str) -> String {
    Folded::new(text).folded
}

/// The folded text `folded` of `body` as stored in `messages.search_text` (V20): with
/// `plain_unstored` (no release before V20 connected, `store::releases`), `None` when it is
/// `body` lower-cased in ASCII (an ASCII body without capitals' accents to fold, whose
/// whitespace is single spaces: most chat messages), which the searches compute again
/// (`lower(body COLLATE "C")`, ASCII only whatever the database's locale) rather than read, so
/// it takes no room in the table, its indexes' heap pages or the WAL.
pub fn stored_folded<'f>(body: &str, folded: &'f str, plain_unstored: bool) -> Option<&'f str> {
    let plain = plain_unstored
        && body.len() == folded.len()
        && body.is_ascii()
        && body
            .bytes()
            .zip(folded.bytes())
            .all(|(b, f)| b.to_ascii_lowercase() == f);
    (!plain).then_some(folded)
}

/// True when the capital sigma at byte `at` of `text` ends a word (a letter before it, none
/// after): Unicode's Final_Sigma condition, with neighbouring letters for cased ones.
fn final_sigma(text: &str, at: usize) -> bool {
    let before = text[..at].chars().next_back().is_some_and(char::is_alphabetic);
    let after = text[at + 'Σ'.len_utf8()..]
        .chars()
        .next()
        .is_some_and(char::is_alphabetic);
    before && !after
}

impl<'a> Folded<'a> {
    /// Folds `original`.
    pub fn new(original: &'a str) -> Self {
        let mut folded = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        for (at, c) in original.char_indices() {
            if c.is_whitespace() {
                // A run of whitespace is one space, even with dropped marks inside it.
                if !folded.ends_with(' ') {
                    folded.push(' ');
                    origin.push(at);
                }
                continue;
            }
            if c.is_ascii() {
                // Its own decomposition, no marks, one byte lower-cased: the common case, kept
                // off the Unicode tables (relevance folds up to 1,000 whole bodies a search).
                folded.push(c.to_ascii_lowercase());
                origin.push(at);
                continue;
            }
            let mut push = |l: char| {
                let before = folded.len();
                folded.push(l);
                origin.extend(std::iter::repeat_n(at, folded.len() - before));
            };
            match unaccent(c) {
                Some(plain) => plain.chars().flat_map(char::to_lowercase).for_each(&mut push),
                // Lower-cased in context, as the database's ICU does: a capital sigma ending a
                // word is a final sigma.
                None if c == 'Σ' && final_sigma(original, at) => push('ς'),
                None if not_lowered_by_the_database(c) => push(c),
                None => c.to_lowercase().for_each(&mut push),
            }
        }
        Folded {
            original,
            folded,
            origin,
        }
    }

    /// Every non-overlapping occurrence of `needle` (already folded), as folded byte ranges.
    pub fn find_all<'b>(&'b self, needle: &'b str) -> impl Iterator<Item = (usize, usize)> + 'b {
        let mut from = 0;
        std::iter::from_fn(move || {
            if needle.is_empty() {
                return None;
            }
            let at = from + self.folded[from..].find(needle)?;
            from = at + needle.len();
            Some((at, from))
        })
    }

    /// True when folded byte `at` starts a word.
    pub fn word_start(&self, at: usize) -> bool {
        !self.folded[..at].chars().next_back().is_some_and(char::is_alphanumeric)
    }

    /// True when folded byte `at` ends a word.
    pub fn word_end(&self, at: usize) -> bool {
        !self.folded[at..].chars().next().is_some_and(char::is_alphanumeric)
    }

    /// The original byte range of the folded range `start..end`.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        let from = self.origin[start];
        let last = self.origin[end - 1];
        let mut to = last + self.original[last..].chars().next().map_or(0, char::len_utf8);
        // With the marks that follow and fold to nothing (a decomposed "e\u{301}" is one letter).
        for c in self.original[to..].chars().take_while(|c| unaccent(*c) == Some("")) {
            to += c.len_utf8();
        }
        (from, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents_and_maps_back() {
        assert_eq!(Folded::new("a \u{301} b").folded, "a b");
        let f = Folded::new("Crème \n\t BRÛLÉE");
        assert_eq!(f.folded, "creme brulee");
        let (s, e) = f.find_all("brulee").next().unwrap();
        assert_eq!(
            &"Crème \n\t BRÛLÉE"[f.original_range(s, e).0..f.original_range(s, e).1],
            "BRÛLÉE"
        );
    }

    #[test]
    fn only_a_plain_bodys_folded_text_is_left_unstored() {
        for plain in ["Hello World 42!", "", "a-b_c/d?e=f https://x.org"] {
            assert_eq!(stored_folded(plain, &fold_str(plain), true), None, "{plain:?}");
            assert_eq!(
                stored_folded(plain, &fold_str(plain), false),
                Some(fold_str(plain).as_str())
            );
        }
        for not in ["Crème", "two  spaces", "tab\there", "line\nbreak", "emoji 🙂", " ẞ"] {
            assert_eq!(
                stored_folded(not, &fold_str(not), true),
                Some(fold_str(not).as_str()),
                "{not:?}"
            );
        }
    }
}
