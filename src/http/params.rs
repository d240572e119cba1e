//! Input rules shared by the operations: the parameter types ([`Token`], [`Number`] in paths,
//! [`Whole`] and [`ShortText`] in query strings and headers), whose schemas state what they
//! accept and whose parse errors say it in plain words (poem-openapi's validators would answer
//! with their own names, e.g. `maximum(100)`), and pagination.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};
use uuid::Uuid;

use super::examples;
pub use crate::model::Cursor;

/// Longest application name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest sender (the application's id for a message's author), in characters.
pub const MAX_SENDER_CHARS: usize = 200;
/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
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

/// A whole number from `MIN` to `MAX` in a query string or header (`page`, `limit`, `after`,
/// `before`, `Last-Event-ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole<const MIN: i64, const MAX: i64>(pub i64);

/// `page`: a page number.
pub type Page = Whole<1, 1_000_000>;
/// `limit`: a page size.
pub type Limit = Whole<1, 100>;
/// `after` (and `Last-Event-ID`): a number to start above.
pub type After = Whole<0, { i64::MAX }>;
/// `before`: a number to stop below.
pub type Before = Whole<1, { i64::MAX }>;

/// A query string's text of at most `MAX` characters (`query`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText<const MAX: usize>(pub String);

/// Makes `$ty` (generic over `$gen`) a parameter type for poem-openapi, named `$name`, whose
/// schema is `$schema` (the example the spec shows included, since the rule and the example live
/// here, not at each parameter).
macro_rules! parameter_type {
    ([$($gen:tt)*] $ty:ty, $name:literal, $schema:expr) => {
        impl<$($gen)*> Type for $ty {
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

pub(super) use parameter_type;

parameter_type!(
    []
    Token,
    "token",
    MetaSchema {
        example: Some(examples::token().to_string().into()),
        ..MetaSchema::new_with_format("string", "uuid")
    }
);

parameter_type!(
    []
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

parameter_type!(
    [const MIN: i64, const MAX: i64]
    Whole<MIN, MAX>,
    "integer",
    MetaSchema {
        minimum: Some(MIN as f64),
        // (i64::MAX is the type's own bound, and not exact as a float.)
        maximum: (MAX < i64::MAX).then_some(MAX as f64),
        ..MetaSchema::new_with_format("integer", "int64")
    }
);

parameter_type!(
    [const MAX: usize]
    ShortText<MAX>,
    "string",
    MetaSchema {
        max_length: Some(MAX),
        ..MetaSchema::new("string")
    }
);

/// `value` as a whole number from `min` to `max`, or an error saying so.
fn whole<T: Type>(value: &str, min: i64, max: i64) -> Result<i64, ParseError<T>> {
    match value.parse() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ParseError::custom(format!(
            "must be a whole number from {min} to {max}"
        ))),
    }
}

impl ParseFromParameter for Number {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        whole(value, 1, i64::MAX).map(Number)
    }
}

impl<const MIN: i64, const MAX: i64> ParseFromParameter for Whole<MIN, MAX> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        whole(value, MIN, MAX).map(Whole)
    }
}

impl<const MAX: usize> ParseFromParameter for ShortText<MAX> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if value.chars().count() > MAX {
            return Err(ParseError::custom(format!("must be at most {MAX} characters")));
        }
        Ok(ShortText(value.to_owned()))
    }
}

/// The page a list request asks for (each parameter already range-checked by its type):
/// numbers between `after` and `before`, the `page`-th page of `limit` items, counted from
/// `before` downwards when only `before` bounds it.
pub fn cursor(page: Option<Page>, after: Option<After>, before: Option<Before>, limit: Option<Limit>) -> (Cursor, i64) {
    let (page, after, before) = (page.map(|n| n.0), after.map(|n| n.0), before.map(|n| n.0));
    let limit = limit.map_or(DEFAULT_LIMIT, |n| n.0);
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
    fn query_parameters_say_what_they_accept() {
        assert_eq!(Whole::<1, 100>::parse_from_parameter("100").unwrap(), Whole(100));
        for bad in ["0", "101", "-1", "x", "", "99999999999999999999"] {
            let message = Whole::<1, 100>::parse_from_parameter(bad).unwrap_err().into_message();
            assert!(message.ends_with(": must be a whole number from 1 to 100"), "{message}");
        }
        assert!(ShortText::<3>::parse_from_parameter("été").is_ok());
        let message = ShortText::<3>::parse_from_parameter("abcd").unwrap_err().into_message();
        assert!(message.ends_with(": must be at most 3 characters"), "{message}");
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
        fn w<const MIN: i64, const MAX: i64>(n: i64) -> Option<Whole<MIN, MAX>> {
            Some(Whole(n))
        }
        assert_eq!(cursor(None, None, None, None), (c(0, i64::MAX, 0, false), 10));
        assert_eq!(cursor(w(3), None, None, w(20)), (c(0, i64::MAX, 40, false), 20));
        assert_eq!(cursor(None, w(5), None, None), (c(5, i64::MAX, 0, false), 10));
        assert_eq!(cursor(None, None, w(5), w(2)), (c(0, 5, 0, true), 2));
        assert_eq!(cursor(w(2), w(5), w(50), None), (c(5, 50, 10, false), 10));
    }
}
