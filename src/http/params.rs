//! Input rules shared by the operations: the path parameters ([`Token`], [`Number`]), text
//! fields and pagination.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};
use uuid::Uuid;

use super::{examples, input::Invalid};
pub use crate::model::Cursor;

/// Longest application name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Page size when `limit` is omitted.
pub const DEFAULT_LIMIT: i64 = 10;

/// An application's token in a path: a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(pub Uuid);

/// A chat's or message's number in a path: a whole number from 1 to `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number(pub i64);

impl Token {
    /// The UUID.
    pub fn get(self) -> Uuid {
        self.0
    }
}

impl Number {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Makes `$ty` a path parameter type for poem-openapi, named `$name`, whose schema is `$schema`
/// (the example the spec shows included, since the rule and the example live here, not at each
/// parameter).
macro_rules! parameter_type {
    ($ty:ty, $name:literal, $schema:expr) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $name.into()
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
    };
}

parameter_type!(
    Token,
    "token",
    MetaSchema {
        example: Some(examples::token().to_string().into()),
        ..MetaSchema::new_with_format("string", "uuid")
    }
);

parameter_type!(
    Number,
    "number",
    MetaSchema {
        example: Some(examples::number().into()),
        minimum: Some(1.0),
        ..MetaSchema::new_with_format("integer", "int64")
    }
);

impl ParseFromParameter for Token {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        value.parse().map(Token).map_err(|_| {
            let example = examples::token();
            ParseError::custom(format!("must be an application token: a UUID such as {example}"))
        })
    }
}

impl ParseFromParameter for Number {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        match value.parse() {
            Ok(n) if n >= 1 => Ok(Number(n)),
            _ => Err(ParseError::custom(format!(
                "must be a whole number from 1 to {}",
                i64::MAX
            ))),
        }
    }
}

/// Checks a text field: not blank, at most `max_chars` characters, no NUL (which PostgreSQL
/// cannot store).
pub fn text(field: &'static str, value: &str, max_chars: usize) -> Result<(), Invalid> {
    let invalid = |detail: String| Err(Invalid { field, detail });
    if value.trim().is_empty() {
        return invalid(format!("`{field}` must not be empty or blank"));
    }
    if value.chars().count() > max_chars {
        return invalid(format!("`{field}` must be at most {max_chars} characters"));
    }
    if value.contains('\0') {
        return invalid(format!("`{field}` must not contain NUL characters"));
    }
    Ok(())
}

/// The page a list request asks for (each parameter already range-checked by its validator):
/// numbers between `after` and `before`, the `page`-th page of `limit` items, counted from
/// `before` downwards when only `before` bounds it.
pub fn cursor(page: Option<i64>, after: Option<i64>, before: Option<i64>, limit: Option<i64>) -> (Cursor, i64) {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let cursor = Cursor {
        after: after.unwrap_or(0),
        before: before.unwrap_or(i64::MAX),
        offset: (page.unwrap_or(1) - 1) * limit,
        backwards: before.is_some() && after.is_none(),
    };
    (cursor, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(text("body", "hi 👋 你好", 10).is_ok());
        assert!(text("body", "   ", 10).is_err());
        assert!(text("body", "a\0b", 10).is_err());
        assert!(text("body", &"é".repeat(11), 10).is_err());
        assert!(text("body", &"é".repeat(10), 10).is_ok());
    }

    #[test]
    fn path_parameters_say_what_they_accept() {
        let token = examples::token().to_string();
        assert_eq!(Token::parse_from_parameter(&token).unwrap(), Token(examples::token()));
        assert_eq!(Number::parse_from_parameter("1").unwrap(), Number(1));
        let max = i64::MAX.to_string();
        assert_eq!(Number::parse_from_parameter(&max).unwrap(), Number(i64::MAX));
        for bad in ["0", "-1", "1.5", "abc", "", "9223372036854775808"] {
            let message = Number::parse_from_parameter(bad).unwrap_err().into_message();
            assert!(
                message.ends_with("must be a whole number from 1 to 9223372036854775807"),
                "{message}"
            );
        }
        let message = Token::parse_from_parameter("not-a-token").unwrap_err().into_message();
        assert!(
            message.contains("must be an application token: a UUID such as 3f1c2a9e-"),
            "{message}"
        );
    }

    #[test]
    fn cursors() {
        let c = |after, before, offset, backwards| Cursor {
            after,
            before,
            offset,
            backwards,
        };
        assert_eq!(cursor(None, None, None, None), (c(0, i64::MAX, 0, false), 10));
        assert_eq!(cursor(Some(3), None, None, Some(20)), (c(0, i64::MAX, 40, false), 20));
        assert_eq!(cursor(None, Some(5), None, None), (c(5, i64::MAX, 0, false), 10));
        assert_eq!(cursor(None, None, Some(5), Some(2)), (c(0, 5, 0, true), 2));
        assert_eq!(cursor(Some(2), Some(5), Some(50), None), (c(5, 50, 10, false), 10));
    }
}
