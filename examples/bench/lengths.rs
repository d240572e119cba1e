//! Message-length percentiles of a dataset: characters (p50, p90, p99, max) and words (p50, p90),
//! counted as the messages are generated (exact histograms; no sample).

/// Longest length counted in its own bucket; longer ones share the last bucket (the maximum is
/// kept exactly).
const BUCKETS: usize = 1 << 16;

/// Histograms of message lengths.
pub struct Lengths {
    chars: Vec<u64>,
    words: Vec<u64>,
    max: usize,
}

impl Default for Lengths {
    fn default() -> Self {
        Lengths {
            chars: vec![0; BUCKETS],
            words: vec![0; BUCKETS],
            max: 0,
        }
    }
}

/// The percentiles, as reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub messages: u64,
    /// Characters: p50, p90, p99, max.
    pub chars: [usize; 4],
    /// Words (whitespace-separated): p50, p90.
    pub words: [usize; 2],
}

impl Lengths {
    /// Counts one message.
    pub fn add(&mut self, body: &str) {
        let chars = body.chars().count();
        self.chars[chars.min(BUCKETS - 1)] += 1;
        self.words[body.split_whitespace().count().min(BUCKETS - 1)] += 1;
        self.max = self.max.max(chars);
    }

    /// Adds another's counts to these.
    pub fn merge(&mut self, other: &Lengths) {
        for (a, b) in self.chars.iter_mut().zip(&other.chars) {
            *a += b;
        }
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a += b;
        }
        self.max = self.max.max(other.max);
    }

    pub fn summary(&self) -> Summary {
        let c = |p| percentile(&self.chars, p);
        let w = |p| percentile(&self.words, p);
        Summary {
            messages: self.chars.iter().sum(),
            chars: [c(50.0), c(90.0), c(99.0), self.max],
            words: [w(50.0), w(90.0)],
        }
    }
}

/// The smallest length at or below which `p` percent of the counts fall.
fn percentile(histogram: &[u64], p: f64) -> usize {
    let total: u64 = histogram.iter().sum();
    let wanted = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (len, n) in histogram.iter().enumerate() {
        seen += n;
        if seen >= wanted {
            return len;
        }
    }
    0
}

impl Summary {
    /// The line the reports print.
    pub fn line(&self) -> String {
        let [c50, c90, c99, max] = self.chars;
        let [w50, w90] = self.words;
        format!(
            "message length in characters p50 {c50} / p90 {c90} / p99 {c99} / max {max}, \
             in words p50 {w50} / p90 {w90} ({} messages)",
            self.messages
        )
    }

    /// Kept with a dataset (`bench_meta`), so a later run reports it without reading the table.
    pub fn encode(&self) -> String {
        let [a, b, c, d] = self.chars;
        let [e, f] = self.words;
        format!("{},{a},{b},{c},{d},{e},{f}", self.messages)
    }

    pub fn decode(text: &str) -> Option<Summary> {
        let v: Vec<u64> = text.split(',').map(|s| s.parse().ok()).collect::<Option<_>>()?;
        let n = |i: usize| v[i] as usize;
        (v.len() == 7).then(|| Summary {
            messages: v[0],
            chars: [n(1), n(2), n(3), n(4)],
            words: [n(5), n(6)],
        })
    }
}

/// The length percentiles of `n` messages drawn by `draw`.
pub fn sample(n: usize, mut draw: impl FnMut() -> String) -> Summary {
    let mut lengths = Lengths::default();
    for _ in 0..n {
        lengths.add(&draw());
    }
    lengths.summary()
}
