//! The word keys of a message and the dictionary lookups of a search term (migration V19). Pure:
//! the statements that store and read them are the write path's, `store::lexicon`'s and
//! `routes`'.
//!
//! A message's **words** are the maximal runs of letters and digits of its folded text (`fold`);
//! a word longer than `MAX_WORD` characters is stored as overlapping pieces of `MAX_WORD`
//! characters every `STEP`, so that every run of up to `STEP + 1` characters inside it lies
//! whole in one piece (a long token, such as a hash or a base64 blob, costs a few dictionary
//! entries, not one per character). Its **keys** are a 32-bit hash of each word, and a 16-bit
//! one of each **pair** (the last 3 characters of a whitespace-separated word of 3+ characters
//! and the first 3 of the next: what a phrase and the message share, wherever the phrase starts
//! and ends; V6 indexed the same pairs). The index leads with the application id and chat number,
//! so a search intersects its chat's entries with its keys' (V19); keys shared by every chat
//! have long posting lists, which compress.
//!
//! A term is found through its **anchors**: each run of letters and digits in the folded term,
//! with what the term says about where it lies in a word (a character that is not a letter or
//! digit before it: it starts a word; after it: it ends one; a 1–2 character term starts a word
//! by definition). An anchor is a `LIKE` pattern over the dictionary's words; the words it
//! matches, hashed, are keys one of which every hit has. Anchors that cannot be
//! looked up cheaply (1–2 characters not starting a word: no trigram) are left to the check on
//! the text that every candidate gets anyway.

/// The longest word stored whole; longer ones are stored as pieces of this length.
pub const MAX_WORD: usize = 40;
/// How far apart a long word's pieces start.
const STEP: usize = 20;

/// FNV-1a (32 bits) over `bytes`, from `h`.
fn fnv(mut h: u32, bytes: impl IntoIterator<Item = u8>) -> u32 {
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The start of a key: FNV-1a's offset basis, then a tag byte (`w` word, `p` pair). Stable:
/// stored keys are computed by earlier releases, and the search computes the same keys again.
fn seed(tag: u8) -> u32 {
    fnv(0x811c_9dc5, [tag])
}

/// The key of `word` (a dictionary word).
pub fn word_key(word: &str) -> i32 {
    fnv(seed(b'w'), word.bytes()) as i32
}

/// A pair's key, cut to 16 bits (V6's cut): each key then has enough messages for its posting
/// list to compress; a collision only adds candidates, which the check on the text drops.
fn pair_key(tail: &str, head: &str) -> i32 {
    (fnv(seed(b'p'), tail.bytes().chain([b' ']).chain(head.bytes())) & 0xffff) as i32
}

/// The words of `folded` (folded text) as the dictionary holds them: runs of letters and digits,
/// long ones as pieces. May repeat.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .flat_map(pieces)
}

/// A word's pieces: the word itself, or for a long one its pieces.
enum Pieces<'w> {
    One(Option<&'w str>),
    Many(std::vec::IntoIter<&'w str>),
}

impl<'w> Iterator for Pieces<'w> {
    type Item = &'w str;

    fn next(&mut self) -> Option<&'w str> {
        match self {
            Pieces::One(word) => word.take(),
            Pieces::Many(pieces) => pieces.next(),
        }
    }
}

/// `word` itself, or for a word of more than `MAX_WORD` characters its pieces.
fn pieces(word: &str) -> Pieces<'_> {
    if word.len() <= MAX_WORD {
        return Pieces::One(Some(word)); // no more bytes than the limit: no more characters either
    }
    Pieces::Many(long_pieces(word).into_iter())
}

/// The pieces of `word` when it has more than `MAX_WORD` characters (else the word).
fn long_pieces(word: &str) -> Vec<&str> {
    let starts: Vec<usize> = word.char_indices().map(|(at, _)| at).collect();
    if starts.len() <= MAX_WORD {
        return vec![word];
    }
    let mut out = Vec::new();
    let mut first = 0;
    loop {
        let last = first + MAX_WORD;
        let end = starts.get(last).copied().unwrap_or(word.len());
        out.push(&word[starts[first]..end]);
        if last >= starts.len() {
            return out;
        }
        first += STEP;
    }
}

/// The keys of the pairs of `folded` (see the module doc): for each two adjacent
/// whitespace-separated words of 3+ characters, the last 3 characters of the first, a space and
/// the first 3 of the second.
fn pairs(folded: &str) -> impl Iterator<Item = i32> + '_ {
    let mut tokens = folded.split(' ');
    let mut previous = tokens.next();
    tokens.filter_map(move |token| {
        let tail = previous.and_then(last3);
        previous = Some(token);
        let head = token.char_indices().nth(3).map_or(token, |(at, _)| &token[..at]);
        let (Some(tail), true) = (tail, head.chars().nth(2).is_some()) else {
            return None;
        };
        Some(pair_key(tail, head))
    })
}

/// The last 3 characters of `token`, if it has 3.
fn last3(token: &str) -> Option<&str> {
    token.char_indices().rev().nth(2).map(|(at, _)| &token[at..])
}

/// The keys of pairs every message holding the phrase `folded` has (none when it has no two
/// adjacent words of 3+ characters).
pub fn pair_keys(folded: &str) -> Vec<i32> {
    let mut keys: Vec<i32> = pairs(folded).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A message's keys (sorted, without repeats), from its folded text.
pub fn message_keys(folded: &str) -> Vec<i32> {
    let seed = seed(b'w');
    let mut keys: Vec<i32> = words(folded).map(|w| fnv(seed, w.bytes()) as i32).collect();
    keys.extend(pairs(folded));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Where a run of the term lies in a word of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    starts: bool,
    ends: bool,
}

/// The dictionary patterns of a folded term (`LIKE`, over words of letters and digits only, so
/// nothing needs escaping): one per run that can be looked up. `starts_word` for a term that
/// must start a word (1–2 characters). Every message matching the term has, for each pattern, a
/// word (or piece) matching it.
pub fn anchors(folded: &str, starts_word: bool) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if !chars[at].is_alphanumeric() {
            at += 1;
            continue;
        }
        let from = at;
        while at < chars.len() && chars[at].is_alphanumeric() {
            at += 1;
        }
        let bounds = Bounds {
            starts: from > 0 || starts_word,
            ends: at < chars.len(),
        };
        if let Some(pattern) = pattern(&chars[from..at], bounds) {
            out.push(pattern);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The pattern for one run, or `None` when the dictionary's indexes cannot narrow it (fewer than
/// 3 characters that do not start a word: every word would be read).
fn pattern(run: &[char], b: Bounds) -> Option<String> {
    let n = run.len();
    let text = |k: usize| run[..k].iter().collect::<String>();
    match (b.starts, b.ends) {
        (true, true) if n <= MAX_WORD => Some(text(n)),
        // A word starting with the run: its first piece starts with the run's first `STEP`.
        (true, _) => Some(format!("{}%", text(n.min(STEP)))),
        // The last piece of a long word has more than `STEP` characters.
        (false, true) if (3..=STEP).contains(&n) => Some(format!("%{}", text(n))),
        // Any run of up to `STEP + 1` characters lies whole in a piece.
        (false, _) if n >= 3 => Some(format!("%{}%", text(n.min(STEP)))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_pieces() {
        let w: Vec<&str> = words("hello, http://www.example.org/x-1 ünïcode").collect();
        assert_eq!(w, ["hello", "http", "www", "example", "org", "x", "1", "ünïcode"]);
        let long: String = ('a'..='z').chain('a'..='z').chain('a'..='j').collect(); // 62 chars
        let p: Vec<&str> = pieces(&long).collect();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].len(), 40);
        assert_eq!(p[1], &long[20..60]);
        assert_eq!(p[2], &long[40..]);
        // Every run of up to 21 characters lies whole in a piece.
        for s in 0..=long.len() - 21 {
            assert!(p.iter().any(|piece| piece.contains(&long[s..s + 21])), "{s}");
        }
    }

    #[test]
    fn anchors_follow_the_terms_bounds() {
        assert_eq!(anchors("ell", false), ["%ell%"]);
        assert_eq!(anchors("ht", true), ["ht%"]);
        assert_eq!(anchors("b.", true), ["b"]);
        assert_eq!(anchors("#1", true), ["1%"]);
        assert_eq!(anchors("--", false), Vec::<String>::new());
        assert_eq!(anchors("o.w", false), ["w%"]);
        assert_eq!(anchors("lo wor", false), ["wor%"]);
        assert_eq!(anchors("ello world", false), ["%ello", "world%"]);
        assert_eq!(anchors("say hello there", false), ["%say", "hello", "there%"]);
    }

    #[test]
    fn keys_are_stable() {
        // Stored keys outlive releases: the hash must never change.
        assert_eq!(word_key("hello"), -603_476_858);
        let keys = message_keys("hello world hello");
        assert_eq!(keys.len(), 4); // two words, two pairs
        assert!(pair_keys("lo wor").is_empty());
        assert_eq!(pair_keys("llo wor").len(), 1);
        assert!((0..65_536).contains(&pair_keys("llo wor")[0]));
        assert!(message_keys("hello world").contains(&pair_keys("hello world")[0]));
    }
}
