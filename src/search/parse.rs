//! What the user typed, split into terms. Pure: knows nothing of the database or of ranking.

/// Most terms (words and phrases) one query may have.
pub const MAX_TERMS: usize = 256;

/// One thing every hit must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// 3+ characters: anywhere in the body.
    Infix(String),
    /// 1–2 characters with a letter or digit: where a word starts (at the start of the text or
    /// after any character that is not a letter or digit), as typed, punctuation included.
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
    // Short terms match where a word starts; a short term with no letter or
    // digit has no word to start, so it is matched as a substring instead.
    if w.chars().count() >= 3 || !w.chars().any(char::is_alphanumeric) {
        Term::Infix(w.to_owned())
    } else {
        Term::Prefix(w.to_owned())
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
}
