//! Input rules shared by the operations: text fields and pagination.

use super::input::Invalid;
pub use crate::model::Cursor;

/// Longest application name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Page size when `limit` is omitted.
pub const DEFAULT_LIMIT: i64 = 10;

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
