//! The text a benchmark's messages carry, chosen with `--text synthetic|real` (synthetic when
//! omitted): the synthetic vocabulary of `dataset` or the real sentences of `corpus`.

use anyhow::{bail, Result};

use crate::{
    corpus::{Corpus, DOCS, FORTUNES},
    dataset::{Rng, Vocabulary},
    lengths::{self, Summary},
};

pub enum Text {
    Synthetic(Vocabulary),
    Real(Box<Corpus>),
}

impl Text {
    /// The text `--text` names in `args`; `synthetic` makes the default one.
    pub fn choose(args: &[String], synthetic: impl FnOnce() -> Vocabulary) -> Result<Text> {
        let named = args.iter().position(|a| a == "--text").map(|i| args.get(i + 1));
        match named.map(|v| v.map(String::as_str)) {
            None | Some(Some("synthetic")) => Ok(Text::Synthetic(synthetic())),
            Some(Some("real")) => {
                let started = std::time::Instant::now();
                let corpus = Corpus::load()?;
                println!(
                    "real text: {} sentences from {} fortune files, {} from {} documentation files ({:.1} s)",
                    corpus.fortunes.len(),
                    corpus.fortunes.files,
                    corpus.docs.len(),
                    corpus.docs.files,
                    started.elapsed().as_secs_f64()
                );
                Ok(Text::Real(Box::new(corpus)))
            }
            _ => bail!("--text takes `synthetic` or `real`"),
        }
    }

    /// A message.
    pub fn message(&self, rng: &mut Rng) -> String {
        match self {
            Text::Synthetic(v) => v.message(rng),
            Text::Real(c) => c.message(rng),
        }
    }

    /// A word to search for.
    pub fn word(&self, rng: &mut Rng) -> String {
        match self {
            Text::Synthetic(v) => v.sample(rng).to_owned(),
            Text::Real(c) => c.word(rng),
        }
    }

    pub fn is_real(&self) -> bool {
        matches!(self, Text::Real(_))
    }

    /// What the command line adds for this text (for the reports' command lines).
    pub fn flag(&self) -> &'static str {
        if self.is_real() {
            " --text real"
        } else {
            ""
        }
    }

    /// The name of a database holding this text's dataset: `base` for the synthetic text, so
    /// that the datasets of both are kept side by side.
    pub fn database(&self, base: &str) -> String {
        if self.is_real() {
            format!("{base}_real")
        } else {
            base.to_owned()
        }
    }

    /// The length percentiles of 200,000 messages drawn with `seed`.
    pub fn sample_lengths(&self, seed: u64) -> Summary {
        let mut rng = Rng::new(seed);
        lengths::sample(200_000, || self.message(&mut rng))
    }

    /// One paragraph for the reports: where the real text comes from and how it is cut.
    pub fn describe(&self) -> String {
        match self {
            Text::Synthetic(_) => "synthetic text (a Zipf-distributed made-up vocabulary)".into(),
            Text::Real(c) => format!(
                "real text: sentences of Debian's `fortunes` and `fortunes-min` ({FORTUNES}, {} files, \
                 {} sentences; 40% of messages) and of the changelogs, NEWS, READMEs and FAQs under {DOCS} \
                 ({} files, {} sentences; 60%), each message one sentence or a run of the sentences \
                 that follow it, sized by a log-normal draw (median 40 characters), at most 2,000 characters",
                c.fortunes.files,
                c.fortunes.len(),
                c.docs.files,
                c.docs.len(),
            ),
        }
    }
}
