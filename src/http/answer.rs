//! Which problem answers which error, and which statuses each error needs the operation to
//! declare (the bounds of its [`Answer`] impl). The errors are the operations' own (`ops`) and
//! the few the handlers find themselves: a missing operator key, the live streams' limit (and,
//! in `input`, a malformed parameter or an unacceptable field).

use super::{
    idempotency::HEADER,
    input::BadRequest,
    problem::{Chain, Problem},
    respond::{answer_as, problem, reply, Answer, Declares},
};
use crate::{
    ops::{CreateAppError, CreateError, KeyConflict, Overload, ReadError, SearchFailure, Trouble},
    search::MAX_OFFSET,
    store::Missing,
};

/// 401: the operator key is missing or wrong.
#[derive(Debug)]
pub struct Unauthorized;

impl<R: Declares<401>> Answer<R> for Unauthorized {
    fn answer(self) -> R {
        reply::<401, R>(
            "unauthorized",
            "a valid operator key is required in the X-Operator-Key header",
        )
    }
}

/// 403: operator actions are disabled (no key configured); says which.
#[derive(Debug)]
pub struct Forbidden(pub &'static str);

impl<R: Declares<403>> Answer<R> for Forbidden {
    fn answer(self) -> R {
        reply::<403, R>("forbidden", self.0)
    }
}

/// 503 `too_many_streams`: the process has as many live streams open as it allows.
#[derive(Debug)]
pub struct TooManyStreams;

impl<R: Declares<503>> Answer<R> for TooManyStreams {
    fn answer(self) -> R {
        answer_as::<503, R>(Problem::overloaded(
            "too_many_streams",
            "the server is at its limit of live streams; retry shortly",
        ))
    }
}

impl<R: Declares<500> + Declares<503>> Answer<R> for Trouble {
    fn answer(self) -> R {
        match self {
            Trouble::Unavailable(cause) => answer_as::<503, R>(Problem::unavailable(Chain(&cause))),
            Trouble::Overloaded(overload) => answer_as::<503, R>(overloaded(overload)),
            Trouble::Internal(cause) => answer_as::<500, R>(Problem::internal(Chain(&cause))),
        }
    }
}

fn overloaded(overload: Overload) -> Problem {
    let (code, detail) = match overload {
        Overload::Queue => (
            "server_busy",
            "the server has as many creations queued as it accepts; nothing was created; retry shortly",
        ),
        Overload::OutcomeUnknown => (
            "request_timeout",
            "the database connection broke while the creation was committing and its outcome could not be learned: it may have completed; retry with the same Idempotency-Key to learn its outcome",
        ),
        Overload::Expired => (
            "request_timeout",
            "the request's deadline passed before its creation could be sent; nothing was created; retry shortly",
        ),
    };
    Problem::overloaded(code, detail)
}

fn not_found<R: Declares<404>>(missing: Missing) -> R {
    let (code, detail) = match missing {
        Missing::Application => ("application_not_found", "no application has this token"),
        Missing::Chat => ("chat_not_found", "the application has no chat with this number"),
        Missing::Message => ("message_not_found", "the chat has no message with this number"),
        Missing::Webhook => ("webhook_not_found", "the application has no webhook with this id"),
        Missing::Delivery => ("delivery_not_found", "the webhook has no delivery with this id"),
    };
    reply::<404, R>(code, detail)
}

impl<R: Declares<404> + Declares<500> + Declares<503>> Answer<R> for ReadError {
    fn answer(self) -> R {
        match self {
            ReadError::NotFound(missing) => not_found(missing),
            ReadError::Trouble(trouble) => trouble.answer(),
        }
    }
}

impl<R: Declares<409> + Declares<422>> Answer<R> for KeyConflict {
    fn answer(self) -> R {
        let field = HEADER;
        match self {
            KeyConflict::InUse => answer_as::<409, R>(
                problem::<409>(
                    "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still in progress; retry shortly",
                )
                .about(field),
            ),
            KeyConflict::Reused => answer_as::<422, R>(
                problem::<422>(
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for a different request",
                )
                .about(field),
            ),
        }
    }
}

impl<R> Answer<R> for CreateError
where
    R: Declares<404> + Declares<409> + Declares<422> + Declares<500> + Declares<503>,
{
    fn answer(self) -> R {
        match self {
            CreateError::NotFound(missing) => not_found(missing),
            CreateError::Key(conflict) => conflict.answer(),
            CreateError::Trouble(trouble) => trouble.answer(),
        }
    }
}

impl<R: Declares<409> + Declares<422> + Declares<500> + Declares<503>> Answer<R> for CreateAppError {
    fn answer(self) -> R {
        match self {
            CreateAppError::Key(conflict) => conflict.answer(),
            CreateAppError::Trouble(trouble) => trouble.answer(),
        }
    }
}

impl<R: Declares<400> + Declares<404> + Declares<500> + Declares<503>> Answer<R> for SearchFailure {
    fn answer(self) -> R {
        let busy = |detail: &str| answer_as::<503, R>(Problem::overloaded("search_busy", detail));
        match self {
            SearchFailure::BadQuery(why) => BadRequest {
                field: "query",
                detail: why.to_string(),
            }
            .answer(),
            SearchFailure::TooDeep => BadRequest {
                field: "page",
                detail: format!(
                    "search pages by `page` reach the first {MAX_OFFSET} hits only ((page - 1) × limit must be below {MAX_OFFSET}); \
                     for older hits pass the last page's `next_before` as `before` (newest-first order), or \
                     narrow the search with `before`"
                ),
            }
            .answer(),
            SearchFailure::Busy { everyone: true } => busy(
                "the server is running as many searches as it allows at once; retry after Retry-After seconds",
            ),
            SearchFailure::Busy { everyone: false } => busy(
                "this application is running as many searches as it is allowed at once; retry after Retry-After seconds",
            ),
            SearchFailure::TimedOut => answer_as::<503, R>(Problem::overloaded(
                "search_timeout",
                "the search took longer than the server allows and was stopped; narrow it (more or longer words, an `after`/`before` range) or retry later",
            )),
            SearchFailure::Read(e) => e.answer(),
        }
    }
}
