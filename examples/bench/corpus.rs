//! Real text for the benchmarks (`--text real`): sentences that Debian packages ship, turned into
//! chat-like messages.
//!
//! Two sources, read once at start: the quotes, jokes and dialogues of Debian's `fortunes` and
//! `fortunes-min` packages (`/usr/share/games/fortunes`), and, for volume and a technical
//! vocabulary (versions, e-mail addresses, URLs, paths, bug numbers), the changelogs, NEWS,
//! READMEs and FAQs under `/usr/share/doc` (gzip-compressed; read with `gzip -dc`). Each is split
//! into passages (a fortune; a paragraph or a changelog entry), passages into sentences, with
//! whitespace normalised and control characters dropped.
//!
//! A message is one sentence, or a run of the sentences that follow it in its passage, sized by a
//! log-normal length draw (most messages under 100 characters, a long tail); a sentence far longer
//! than its draw is cut at a clause or word boundary, and nothing exceeds 2,000 characters. Any
//! number of messages can be drawn; for a seed they are the same wherever the same packages are
//! installed (the files are read in sorted order, within fixed caps).

use std::{path::Path, process::Command};

use anyhow::{bail, Context, Result};

use crate::dataset::Rng;

pub const FORTUNES: &str = "/usr/share/games/fortunes";
pub const DOCS: &str = "/usr/share/doc";
/// The fortunes that are drawings, not text.
const DRAWINGS: &[&str] = &["art", "ascii-art"];
/// Text read from one documentation file, and from all of them (bytes).
const DOC_FILE_CAP: usize = 256 << 10;
const DOC_TOTAL_CAP: usize = 40 << 20;
/// Less than this much documentation text means the documentation was stripped from the system.
const DOC_MINIMUM: usize = 2 << 20;
/// The longest message, in characters.
pub const MAX_CHARS: usize = 2000;
/// The share of messages drawn from the fortunes (the rest from the documentation).
pub const FORTUNE_SHARE: f64 = 0.4;

/// The sentences of one source, in reading order, with their passages.
pub struct Source {
    text: String,
    /// Byte range of each sentence in `text`.
    units: Vec<(u32, u32)>,
    /// For each sentence, the index one past the last sentence of its passage.
    ends: Vec<u32>,
    /// Files read.
    pub files: usize,
}

impl Source {
    fn new() -> Self {
        Source {
            text: String::new(),
            units: Vec::new(),
            ends: Vec::new(),
            files: 0,
        }
    }

    /// How many sentences.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Sentence `i`.
    pub fn unit(&self, i: usize) -> &str {
        let (start, end) = self.units[i];
        &self.text[start as usize..end as usize]
    }

    /// Adds a passage (any whitespace, control characters dropped) as its sentences.
    fn passage(&mut self, raw: &str) {
        let clean: String = raw
            .split_whitespace()
            .flat_map(|w| std::iter::once(' ').chain(w.chars().filter(|c| !c.is_control())))
            .skip(1)
            .collect();
        if !clean.chars().any(char::is_alphabetic) {
            return;
        }
        let first = self.units.len();
        for sentence in sentences(&clean) {
            let start = self.text.len() as u32;
            self.text.push_str(sentence);
            self.units.push((start, self.text.len() as u32));
        }
        let end = self.units.len() as u32;
        self.ends.extend(std::iter::repeat_n(end, self.units.len() - first));
    }
}

/// `text` (single-spaced) split after `.`, `!` or `?` (and any closing quote or bracket) where a
/// space and then a capital, a digit or an opening quote or bracket follow.
fn sentences(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut cuts = vec![0];
    for i in 1..b.len().saturating_sub(1) {
        let closed = matches!(b[i - 1], b'.' | b'!' | b'?')
            || (matches!(b[i - 1], b'"' | b'\'' | b')' | b']') && i >= 2 && matches!(b[i - 2], b'.' | b'!' | b'?'));
        if b[i] != b' ' || !closed {
            continue;
        }
        let next = text[i + 1..].chars().next().unwrap_or(' ');
        if next.is_uppercase() || next.is_ascii_digit() || "\"'([".contains(next) {
            cuts.push(i);
        }
    }
    cuts.push(b.len());
    cuts.windows(2)
        .map(move |w| text[w[0]..w[1]].trim())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The real-text corpus.
pub struct Corpus {
    pub fortunes: Source,
    pub docs: Source,
}

impl Corpus {
    /// Reads both sources, or says which package to install.
    pub fn load() -> Result<Self> {
        let fortunes = read_fortunes()?;
        let docs = read_docs()?;
        Ok(Corpus { fortunes, docs })
    }

    /// A chat-like message.
    pub fn message(&self, rng: &mut Rng) -> String {
        let target = target_chars(rng);
        let source = if rng.f64() < FORTUNE_SHARE {
            &self.fortunes
        } else {
            &self.docs
        };
        let mut i = rng.below(source.len());
        let mut out = source.unit(i).to_owned();
        while out.len() < target && i + 1 < source.ends[i] as usize {
            i += 1;
            out.push(' ');
            out.push_str(source.unit(i));
        }
        clip(out, (target * 2).clamp(24, MAX_CHARS))
    }

    /// A word of a message, for searches under load.
    pub fn word(&self, rng: &mut Rng) -> String {
        loop {
            let message = self.message(rng);
            let words: Vec<&str> = message
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .collect();
            if !words.is_empty() {
                return words[rng.below(words.len())].to_lowercase();
            }
        }
    }
}

/// A length to aim at: log-normal, median 40 characters (σ = 1.1: p90 ≈ 160, p99 ≈ 520).
fn target_chars(rng: &mut Rng) -> usize {
    let (u, v) = (rng.f64().max(1e-12), rng.f64());
    let normal = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
    (40.0 * (1.1 * normal).exp()).clamp(2.0, MAX_CHARS as f64) as usize
}

/// `text` cut to about `limit` characters as a chat message would be: at its last clause
/// boundary before `limit` (a sentence's first clause), else whole up to `MAX_CHARS`, else at the
/// last space before that.
fn clip(text: String, limit: usize) -> String {
    let Some((cut, _)) = text.char_indices().nth(limit) else {
        return text;
    };
    let head = &text[..cut];
    let clause = [", ", "; ", ": ", " -- ", " ("]
        .iter()
        .filter_map(|sep| head.rfind(sep))
        .max()
        .filter(|at| *at >= 12);
    let end = match (clause, text.char_indices().nth(MAX_CHARS)) {
        (Some(at), _) => at,
        (None, None) => return text,
        (None, Some((max, _))) => text[..max].rfind(' ').unwrap_or(max),
    };
    text[..end].trim_end().to_owned()
}

fn read_fortunes() -> Result<Source> {
    let dir = Path::new(FORTUNES);
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| !n.contains('.') && !DRAWINGS.contains(&n.as_str()))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    let mut source = Source::new();
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).with_context(|| format!("reading {FORTUNES}/{name}"))?;
        for fortune in String::from_utf8_lossy(&bytes).split("\n%\n") {
            source.passage(fortune);
        }
        source.files += 1;
    }
    if source.len() < 10_000 {
        bail!(
            "--text real needs Debian's fortunes in {FORTUNES} (found {} sentences); install them with \
             `apt-get update && apt-get install -y fortunes fortunes-min`",
            source.len()
        );
    }
    Ok(source)
}

/// The documentation files read, in sorted order: changelogs, NEWS, READMEs, FAQs, TODOs and
/// `.txt`, gzip-compressed (symbolic links are not followed: no file is read twice).
fn doc_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for path in paths {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_lowercase();
        if meta.is_dir() {
            doc_files(&path, out);
        } else if meta.is_file()
            && name.ends_with(".gz")
            && !name.contains(".htm")
            && (["changelog", "news", "readme", "faq", "todo"]
                .iter()
                .any(|p| name.starts_with(p))
                || name.ends_with(".txt.gz"))
        {
            out.push(path);
        }
    }
}

fn read_docs() -> Result<Source> {
    let mut files = Vec::new();
    doc_files(Path::new(DOCS), &mut files);
    let mut source = Source::new();
    let mut read = 0;
    for path in files {
        let Ok(out) = Command::new("gzip").arg("-dc").arg(&path).output() else {
            bail!("--text real reads {DOCS} with `gzip -dc`: is gzip installed?");
        };
        let mut bytes = out.stdout;
        if bytes.len() > DOC_FILE_CAP {
            let cut = bytes[..DOC_FILE_CAP]
                .iter()
                .rposition(|b| *b == b'\n')
                .unwrap_or(DOC_FILE_CAP);
            bytes.truncate(cut);
        }
        read += bytes.len();
        doc_passages(&String::from_utf8_lossy(&bytes), &mut source);
        source.files += 1;
        if read >= DOC_TOTAL_CAP {
            break;
        }
    }
    if read < DOC_MINIMUM {
        bail!(
            "--text real needs Debian's documentation in {DOCS} (found {read} bytes of changelogs, NEWS and \
             READMEs): this system's packages were installed without it (a dpkg path-exclude, as in slim \
             container images); reinstall them with it"
        );
    }
    Ok(source)
}

/// Passages of a documentation file: paragraphs, and within them each bullet (`*`, `-`, `+`),
/// changelog section (`[ name ]`) or signature (`-- name`) starts a passage of its own.
fn doc_passages(text: &str, source: &mut Source) {
    let mut passage = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        let bullet = ["* ", "- ", "+ "].iter().find(|p| t.starts_with(*p));
        if t.is_empty() || bullet.is_some() || t.starts_with("[ ") || t.starts_with("-- ") {
            source.passage(&passage);
            passage.clear();
        }
        passage.push_str(&t[bullet.map_or(0, |b| b.len())..]);
        passage.push('\n');
    }
    source.passage(&passage);
}
