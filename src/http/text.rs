//! `Text`: a JSON string field that accepts only JSON strings with something visible in them.
//! poem-openapi's `String` also accepts numbers and booleans (turning `5` into `"5"`); a client
//! sending the wrong type should hear about it instead. The "something visible, no NUL" rule is
//! in the schema as a pattern, but checked here in plain Rust: poem-openapi's `pattern`
//! validator compiles its regular expression on every check, which profiling showed as a large
//! share of the service's CPU per message.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;

/// The schema's statement of the rule `parse_from_json` checks: not blank, no NUL.
pub const VISIBLE: &str = r"^[^\x00]*[^\x00\s][^\x00]*$";

/// The check of `VISIBLE` without a regex, as a field validator
/// (`#[oai(validator(custom = "Visible"))]`): regex `\s` and `char::is_whitespace` are both
/// Unicode's White_Space.
pub struct Visible;

impl std::fmt::Display for Visible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pattern(\"{VISIBLE}\")")
    }
}

impl<T: AsRef<str>> poem_openapi::validation::Validator<T> for Visible {
    fn check(&self, value: &T) -> bool {
        let s = value.as_ref();
        !s.contains('\0') && !s.trim().is_empty()
    }
}

/// A string that was a JSON string in the request (its schema states the `Visible` rule, which
/// fields check with that validator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Type for Text {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(VISIBLE.to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Ok(Text(s)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_matches_its_pattern() {
        let pattern = regex::Regex::new(VISIBLE).unwrap();
        for s in [
            "hi",
            " a ",
            "\u{3000}x",
            "é",
            "\n\tb",
            "",
            " ",
            "\u{3000}",
            "\u{85}",
            "a\0b",
            "\0",
            "\u{200B}",
        ] {
            let checked = poem_openapi::validation::Validator::check(&Visible, &s);
            assert_eq!(checked, pattern.is_match(s), "{s:?}");
        }
        assert!(Text::parse_from_json(Some(Value::from(5))).is_err());
    }
}
