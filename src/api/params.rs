//! Input rules shared by the operations: text fields and pagination.

use super::problem::ApiError;
pub use crate::model::Cursor;

/// Longest application name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Page size when `limit` is omitted.
pub const DEFAULT_LIMIT: i64 = 10;

/// Checks a text field: not blank, at most `max_chars` characters, no NUL (which PostgreSQL
/// cannot store).
pub fn text(field: &'static str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    let invalid = |detail: String| Err(ApiError::Invalid { field, detail });
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

/// The page a list request asks for: at most one of `page`, `after`, `before` (each already
/// range-checked by its validator), and the page size.
pub fn cursor(
    page: Option<i64>,
    after: Option<i64>,
    before: Option<i64>,
    limit: Option<i64>,
) -> Result<(Cursor, i64), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let cursor = match (page, after, before) {
        (page, None, None) => Cursor::Offset((page.unwrap_or(1) - 1) * limit),
        (None, Some(after), None) => Cursor::After(after),
        (None, None, Some(before)) => Cursor::Before(before),
        _ => {
            return Err(ApiError::BadRequest {
                field: "page",
                detail: "use only one of `page`, `after` and `before`".into(),
            })
        }
    };
    Ok((cursor, limit))
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
        assert_eq!(cursor(None, None, None, None).unwrap(), (Cursor::Offset(0), 10));
        assert_eq!(cursor(Some(3), None, None, Some(20)).unwrap(), (Cursor::Offset(40), 20));
        assert_eq!(cursor(None, Some(5), None, None).unwrap(), (Cursor::After(5), 10));
        assert_eq!(cursor(None, None, Some(5), Some(2)).unwrap(), (Cursor::Before(5), 2));
        assert!(cursor(Some(1), Some(5), None, None).is_err());
    }
}
