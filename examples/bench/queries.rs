//! The search benchmark's queries for real text, chosen from the corpus's own vocabulary: how
//! often each word, word start, infix fragment and word pair is expected per message (each source
//! sentence weighted by the chance that a message starts with it), then each shape's queries by
//! rank. Deterministic for a corpus.

use std::collections::{HashMap, HashSet};

use anyhow::Result;

use crate::{
    corpus::{Corpus, Source, FORTUNE_SHARE},
    dataset::{Rng, Vocabulary},
    text::Text,
};

/// A search benchmark's query shape and its variants.
pub struct Shape {
    pub name: &'static str,
    pub queries: Vec<String>,
}

/// Expected occurrences per message, per word, word start and word pair.
#[derive(Default)]
struct Rates {
    words: HashMap<String, f64>,
    starts: HashMap<String, f64>,
    pairs: HashMap<String, f64>,
    /// How many sentences hold each word (to leave out one-off typos).
    seen: HashMap<String, u32>,
}

impl Rates {
    fn add(&mut self, source: &Source, share: f64) {
        let weight = share / source.len() as f64;
        for i in 0..source.len() {
            let unit = source.unit(i).to_lowercase();
            let mut distinct = HashSet::new();
            for word in unit.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                if word.chars().count() >= 3 {
                    let start: String = word.chars().take(2).collect();
                    *self.starts.entry(start).or_default() += weight;
                }
                distinct.insert(word);
            }
            for word in distinct {
                *self.words.entry(word.to_owned()).or_default() += weight;
                *self.seen.entry(word.to_owned()).or_default() += 1;
            }
            let raw: Vec<&str> = unit.split(' ').collect();
            for pair in raw.windows(2) {
                if pair
                    .iter()
                    .all(|w| w.chars().count() >= 3 && w.chars().all(char::is_alphabetic))
                {
                    *self.pairs.entry(pair.join(" ")).or_default() += weight;
                }
            }
        }
    }
}

/// Keys by rate, most frequent first (ties in alphabetical order).
fn ranked(rates: &HashMap<String, f64>, keep: impl Fn(&str) -> bool) -> Vec<(&str, f64)> {
    let mut v: Vec<(&str, f64)> = rates
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, r)| (k.as_str(), *r))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

/// Fragments of 3 and 4 letters strictly inside words (neither first nor last), by how many
/// distinct words (seen in two sentences or more) contain them.
fn fragments(rates: &Rates, len: usize) -> Vec<String> {
    let mut inside: HashMap<String, u32> = HashMap::new();
    for (word, n) in &rates.seen {
        let chars: Vec<char> = word.chars().collect();
        if *n < 2 || chars.len() < len + 2 || !chars.iter().all(|c| c.is_alphabetic()) {
            continue;
        }
        let distinct: HashSet<String> = (1..chars.len() - len)
            .map(|i| chars[i..i + len].iter().collect())
            .collect();
        for f in distinct {
            *inside.entry(f).or_default() += 1;
        }
    }
    let mut v: Vec<(String, u32)> = inside.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|(f, _)| f).collect()
}

/// FNV-1a of `word`, as a number in [0, 1): an arbitrary but fixed order.
fn fnv(word: &str) -> f64 {
    let hash = word.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// The six shapes, 10 queries each, for a dataset whose big chat holds `big` messages.
pub fn shapes(corpus: &Corpus, big: i64) -> Vec<Shape> {
    let mut rates = Rates::default();
    rates.add(&corpus.fortunes, FORTUNE_SHARE);
    rates.add(&corpus.docs, 1.0 - FORTUNE_SHARE);
    let alphabetic = |min: usize| move |w: &str| w.chars().count() >= min && w.chars().all(char::is_alphabetic);
    let words = ranked(&rates.words, alphabetic(3));
    let top: HashSet<&str> = words.iter().take(100).map(|w| w.0).collect();
    // Rare: words of 6+ letters seen in 2+ sentences, expected ~20 times in the big chat.
    // Rare: words of 6+ letters seen in 2+ sentences, expected 10 to 40 times in the big chat,
    // in an order of their own (a hash) rather than the alphabet's.
    let mut rare: Vec<(&str, f64)> = ranked(&rates.words, alphabetic(6))
        .into_iter()
        .filter(|(w, r)| rates.seen[*w] >= 2 && (10.0..=40.0).contains(&(r * big as f64)))
        .map(|(w, _)| (w, fnv(w)))
        .collect();
    rare.sort_by(|a, b| a.1.total_cmp(&b.1));
    if rare.is_empty() {
        rare = words.iter().rev().take(10).copied().collect();
    }
    // Infix: by how many words hold them, 4 and 3 letters in turn, none inside another.
    let (four, three) = (fragments(&rates, 4), fragments(&rates, 3));
    let mut infix: Vec<&String> = Vec::new();
    for f in four.iter().zip(&three).flat_map(|(a, b)| [a, b]) {
        if !top.contains(f.as_str()) && !infix.iter().any(|g| g.contains(f.as_str()) || f.contains(g.as_str())) {
            infix.push(f);
        }
    }
    let starts = ranked(&rates.starts, |s| s.chars().all(char::is_alphanumeric));
    let pairs = ranked(&rates.pairs, |_| true);
    let take = |f: &dyn Fn(usize) -> String| (0..10).map(f).collect::<Vec<_>>();
    let at = |v: &[(&str, f64)], i: usize| v[i.min(v.len() - 1)].0.to_owned();
    vec![
        Shape {
            name: "rare term",
            queries: take(&|i| at(&rare, i)),
        },
        Shape {
            name: "common term",
            queries: take(&|i| at(&words, i % 5)),
        },
        Shape {
            name: "infix fragment",
            queries: take(&|i| infix[i].clone()),
        },
        Shape {
            name: "2-char prefix",
            queries: take(&|i| at(&starts, i)),
        },
        Shape {
            name: "two-term AND",
            queries: take(&|i| format!("{} {}", at(&words, 50 + i), at(&words, 200 + i))),
        },
        Shape {
            name: "phrase",
            queries: take(&|i| format!("\"{}\"", at(&pairs, 2 * i))),
        },
    ]
}

/// `bench -- texts [--text real]`: the text's message-length percentiles (200,000 messages) and,
/// for the real text, the search benchmark's queries drawn from it.
pub async fn show(args: &[String]) -> Result<()> {
    let text = Text::choose(args, || Vocabulary::new(50_000, 42))?;
    println!("{}", text.describe());
    println!("{}", text.sample_lengths(1).line());
    let mut rng = Rng::new(3);
    for _ in 0..12 {
        println!("  | {}", text.message(&mut rng));
    }
    if let Text::Real(corpus) = &text {
        for shape in shapes(corpus, 1_000_000) {
            println!("{:16} {}", shape.name, shape.queries.join(" · "));
        }
    }
    Ok(())
}
