//! Case and accent folding in the service, mirroring the database's `chat_search_text` closely
//! enough to place highlights: NFD, drop combining marks, lower-case, every run of whitespace one
//! space; with a map back to the original text.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

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
            for d in std::iter::once(c).nfd().filter(|d| !is_combining_mark(*d)) {
                for l in d.to_lowercase() {
                    let before = folded.len();
                    folded.push(l);
                    origin.extend(std::iter::repeat_n(at, folded.len() - before));
                }
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
        let to = last + self.original[last..].chars().next().map_or(0, char::len_utf8);
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
}
