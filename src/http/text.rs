//! The fields of request bodies, taken as sent and checked by the handler: [`Text`] (a name, a
//! message's body), [`OptionalText`] (a message's sender) and [`BodyToken`] (the token the previous system's rename body carried).
//! Their schemas state the rules (length, a visible character, no NUL, a UUID), but parsing the
//! body accepts any JSON value, or none, in them: poem-openapi would refuse a missing, null,
//! wrong-typed, blank or too long value with a 400 in its own words (a regex, its type names),
//! where the API answers 422 `invalid_field` naming the field and saying what it accepts. The
//! checks are plain Rust: a regex compiled on every check (poem-openapi's `pattern` validator)
//! showed as a large share of the service's CPU per message.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;
use uuid::Uuid;

use super::input::Invalid;

/// The schema's statement of the rule `Text::get` checks: not blank, no NUL. White space is
/// listed (Unicode's White_Space, which `char::is_whitespace` checks) rather than written `\s`,
/// whose meaning differs between regex dialects (Python's includes U+001C–U+001F,
/// ECMAScript's U+FEFF): a client validating with any of them agrees with the server.
pub const VISIBLE: &str = r"^[^\x00]*[^\x00\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$";

/// A text field of 1 to `MAX` characters, at least one of them visible (not white space) and
/// none NUL (which PostgreSQL cannot store), as the request sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(Option<Value>);

impl<const MAX: usize> Text<MAX> {
    /// A text field holding `text` (the examples' values).
    pub fn new(text: impl Into<String>) -> Self {
        Text(Some(Value::String(text.into())))
    }

    /// What the field accepts, in plain words.
    pub fn accepts() -> String {
        format!("a string of 1–{MAX} characters, not only white space, without NUL characters")
    }

    /// The text, or 422 `invalid_field` naming `field` and saying what it accepts.
    pub fn get(&self, field: &'static str) -> Result<&str, Invalid> {
        checked::<MAX>(&self.0, field)
    }
}

/// An optional text field: absent or null, or else as [`Text`] (the same rule, the same answers).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionalText<const MAX: usize>(Option<Value>);

impl<const MAX: usize> OptionalText<MAX> {
    /// A field holding `text` (the examples' values).
    pub fn new(text: impl Into<String>) -> Self {
        OptionalText(Some(Value::String(text.into())))
    }

    /// The text if one was sent, or 422 `invalid_field` as [`Text::get`] answers.
    pub fn get(&self, field: &'static str) -> Result<Option<&str>, Invalid> {
        match &self.0 {
            None | Some(Value::Null) => Ok(None),
            value => checked::<MAX>(value, field).map(Some),
        }
    }
}

/// `value` as a text of 1 to `MAX` characters with a visible one and no NUL, or 422
/// `invalid_field` naming `field` and saying what it accepts.
fn checked<'v, const MAX: usize>(value: &'v Option<Value>, field: &'static str) -> Result<&'v str, Invalid> {
    let invalid = |fault: String| {
        let detail = format!("`{field}` {fault}: it must be {}", Text::<MAX>::accepts());
        Err(Invalid { field, detail })
    };
    let text = match value {
        Some(Value::String(text)) => text,
        None | Some(Value::Null) => return invalid("is missing".into()),
        Some(other) => return invalid(format!("is {}", kind(other))),
    };
    match fault::<MAX>(text) {
        Some(fault) => invalid(fault),
        None => Ok(text),
    }
}

/// What is wrong with `text` as a text of 1 to `MAX` characters with a visible one and no NUL
/// ("is blank", "has 201 characters"), or None when it is acceptable. The body fields' rule, also
/// checked on parameters that name the same things (a reader in a path or a query string).
pub(super) fn fault<const MAX: usize>(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return Some(if text.is_empty() { "is empty" } else { "is blank" }.into());
    }
    let chars = text.chars().count();
    if chars > MAX {
        return Some(format!("has {chars} characters"));
    }
    text.contains('\0').then(|| "contains a NUL character".into())
}

/// The `token` of the previous system's rename body: absent, or the application's token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyToken(Option<Value>);

impl BodyToken {
    /// The token the body names, if it names one; 422 `invalid_field` when it is not a UUID.
    pub fn get(&self) -> Result<Option<Uuid>, Invalid> {
        let invalid = |fault: String| {
            let detail = format!("`token` {fault}: when sent, it must be the application's token (a UUID string)");
            Err(Invalid { field: "token", detail })
        };
        match &self.0 {
            None => Ok(None),
            Some(Value::String(s)) => s.parse().map(Some).or_else(|_| invalid("is not a UUID".into())),
            Some(other) => invalid(format!("is {}", kind(other))),
        }
    }
}

/// What a JSON value is, for a client that sent the wrong kind.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Makes `$ty` a body field type whose schema is `$schema` and which takes any JSON value.
macro_rules! field_type {
    ([$($gen:tt)*] $ty:ty, $required:literal, $schema:expr) => {
        impl<$($gen)*> Type for $ty {
            const IS_REQUIRED: bool = $required;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl<$($gen)*> ParseFromJSON for $ty {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                Ok(Self(value))
            }
        }

        impl<$($gen)*> ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                self.0.clone()
            }
        }
    };
}

field_type!(
    [const MAX: usize] Text<MAX>,
    true,
    MetaSchema {
        min_length: Some(1),
        max_length: Some(MAX),
        pattern: Some(VISIBLE.to_owned()),
        ..MetaSchema::new("string")
    }
);

field_type!(
    [const MAX: usize] OptionalText<MAX>,
    false,
    MetaSchema {
        nullable: true,
        min_length: Some(1),
        max_length: Some(MAX),
        pattern: Some(VISIBLE.to_owned()),
        ..MetaSchema::new("string")
    }
);

field_type!([] BodyToken, false, MetaSchema::new_with_format("string", "uuid"));

// The webhooks' body fields (`hook_fields`) are made the same way.
pub(super) use field_type;

#[cfg(test)]
mod tests {
    use super::*;

    fn text<const MAX: usize>(value: Value) -> Result<String, Invalid> {
        Text::<MAX>(Some(value)).get("body").map(str::to_owned)
    }

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
            "\u{1C}",
            "\u{FEFF}",
            "\u{2028}\u{205F}",
            "\u{180E}",
        ] {
            assert_eq!(text::<10>(s.into()).is_ok(), pattern.is_match(s), "{s:?}");
        }
    }

    #[test]
    fn each_fault_names_the_field_and_what_it_accepts() {
        assert_eq!(text::<10>("hi 👋 你好".into()).unwrap(), "hi 👋 你好");
        assert!(text::<10>("é".repeat(10).into()).is_ok());
        for (value, fault) in [
            (Value::from("é".repeat(11)), "has 11 characters"),
            (Value::from("   "), "is blank"),
            (Value::from(""), "is empty"),
            (Value::from("a\0b"), "contains a NUL character"),
            (Value::from(5), "is a number"),
            (Value::Null, "is missing"),
        ] {
            let invalid = text::<10>(value).unwrap_err();
            assert_eq!(invalid.field, "body");
            let expected = "it must be a string of 1–10 characters, not only white space, without NUL characters";
            assert!(
                invalid.detail.starts_with(&format!("`body` {fault}: {expected}")),
                "{invalid:?}"
            );
        }
        assert!(Text::<10>(None).get("body").is_err());
    }

    #[test]
    fn a_body_token_is_absent_or_a_uuid() {
        let token = Uuid::new_v4();
        assert_eq!(BodyToken(None).get().unwrap(), None);
        assert_eq!(BodyToken(Some(token.to_string().into())).get().unwrap(), Some(token));
        for bad in [Value::Null, Value::from("x"), Value::from(1)] {
            assert_eq!(BodyToken(Some(bad)).get().unwrap_err().field, "token");
        }
    }
}
