//! Synthetic but realistic chat text: a 50,000-word vocabulary of words spelled with English
//! letter frequencies (some accented), words drawn from a Zipf distribution, lengths from 1 to ~60 words, occasional
//! punctuation and emoji. Deterministic for a given seed.

pub use chat_system::demo::Rng;

/// Letters with their frequency in English text (per 1000), for words with a realistic spread
/// of trigrams.
const LETTERS: &[(char, u32)] = &[
    ('e', 127),
    ('t', 91),
    ('a', 82),
    ('o', 75),
    ('i', 70),
    ('n', 67),
    ('s', 63),
    ('h', 61),
    ('r', 60),
    ('d', 43),
    ('l', 40),
    ('c', 28),
    ('u', 28),
    ('m', 24),
    ('w', 24),
    ('f', 22),
    ('g', 20),
    ('y', 20),
    ('p', 19),
    ('b', 15),
    ('v', 10),
    ('k', 8),
    ('j', 2),
    ('x', 2),
    ('q', 1),
    ('z', 1),
];
const ACCENTS: &[(char, char)] = &[
    ('e', 'é'),
    ('e', 'è'),
    ('a', 'à'),
    ('o', 'ö'),
    ('u', 'ü'),
    ('i', 'ï'),
    ('n', 'ñ'),
    ('c', 'ç'),
];
const EMOJI: &[&str] = &["😀", "👍", "🎉", "❤️", "🔥", "🙏", "😂", "🚀", "✅", "👀", "🤔", "😅"];

fn letter(rng: &mut Rng) -> char {
    let mut roll = rng.below(1000) as u32;
    for (c, weight) in LETTERS {
        if roll < *weight {
            return *c;
        }
        roll -= weight;
    }
    'e'
}

/// The vocabulary, most frequent first, and a Zipf sampler over it.
pub struct Vocabulary {
    pub words: Vec<String>,
    cdf: Vec<f64>,
}

impl Vocabulary {
    pub fn new(size: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(size);
        while words.len() < size {
            let len = [2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12][rng.below(20)];
            let mut w: String = (0..len).map(|_| letter(&mut rng)).collect();
            if rng.below(25) == 0 {
                let (plain, accented) = ACCENTS[rng.below(ACCENTS.len())];
                if let Some(i) = w.find(plain) {
                    w.replace_range(i..i + 1, &accented.to_string());
                }
            }
            if w.chars().count() >= 2 && seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let weights: Vec<f64> = (1..=size).map(|r| 1.0 / (r as f64).powf(1.05)).collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cdf = weights.iter().map(|w| {
            acc += w / total;
            acc
        });
        Vocabulary {
            words,
            cdf: cdf.collect(),
        }
    }

    /// A word drawn from the Zipf distribution.
    pub fn sample<'a>(&'a self, rng: &mut Rng) -> &'a str {
        let u = rng.f64();
        let i = self.cdf.partition_point(|c| *c < u).min(self.words.len() - 1);
        &self.words[i]
    }

    /// A chat message: 1 to ~60 words (most short), with the odd capital, punctuation, emoji.
    pub fn message(&self, rng: &mut Rng) -> String {
        let len = match rng.below(10) {
            0..=5 => 1 + rng.below(8),
            6..=8 => 6 + rng.below(20),
            _ => 20 + rng.below(40),
        };
        let mut out = String::with_capacity(len * 7);
        for i in 0..len {
            if i > 0 {
                out.push(' ');
            }
            let w = self.sample(rng);
            if i == 0 && rng.below(3) == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    out.extend(f.to_uppercase());
                    out.push_str(c.as_str());
                }
            } else {
                out.push_str(w);
            }
            match rng.below(40) {
                0 => out.push(','),
                1 => out.push('.'),
                2 => out.push('?'),
                3 => out.push('!'),
                4 => {
                    out.push(' ');
                    out.push_str(EMOJI[rng.below(EMOJI.len())]);
                }
                _ => {}
            }
        }
        out
    }
}
