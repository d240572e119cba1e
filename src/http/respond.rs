//! The response enum of every operation (`op_response!`), and the two traits that make its
//! errors checked by the compiler: a response [`Declares`] each status it documents, and an
//! error type [`Answer`]s any response that declares the statuses it needs. A handler can thus
//! answer only statuses its operation documents. For example, a read can fail with
//! `ReadError::NotFound`, a 404, so an operation answering `ReadError` must declare 404:
//!
//! ```
//! use chat_system::{op_response, ops::ReadError};
//!
//! op_response! {
//!     /// Result of reading something.
//!     pub enum ReadResponse {
//!         /// Found.
//!         #[oai(status = 204)]
//!         Found,
//!     }
//!     errors {
//!         404 => NotFound: "Not there.",
//!     }
//!     answers { ReadError }
//! }
//! ```
//!
//! Without its 404 it does not compile (`Declares<404>` is not implemented):
//!
//! ```compile_fail,E0277
//! use chat_system::{op_response, ops::ReadError};
//!
//! op_response! {
//!     /// Result of reading something.
//!     pub enum ReadResponse {
//!         /// Found.
//!         #[oai(status = 204)]
//!         Found,
//!     }
//!     errors {}
//!     answers { ReadError }
//! }
//! ```

use super::problem::Problem;

/// A response enum that documents status `STATUS` with a problem+json body.
pub trait Declares<const STATUS: u16>: Sized {
    /// The variant answering `STATUS`, carrying `problem`.
    fn with(problem: Problem) -> Self;
}

/// An error that can become response `R`: implemented for every `R` that declares the statuses
/// the error needs (see `answer`).
pub trait Answer<R> {
    /// The response for this error.
    fn answer(self) -> R;
}

/// The variant of `R` for status `S`, carrying `problem` (whose status is `S`: checked in
/// debug builds).
pub fn answer_as<const S: u16, R: Declares<S>>(problem: Problem) -> R {
    debug_assert_eq!(problem.status, S, "a problem answered under another status");
    R::with(problem)
}

/// The variant of `R` for status `S`, with problem `code` and `detail` (its status is `S`, so the
/// body cannot say another status than the answer).
pub fn reply<const S: u16, R: Declares<S>>(code: &str, detail: impl Into<String>) -> R {
    R::with(problem::<S>(code, detail))
}

/// A handler's answer, whichever way it went (its errors already became the response through
/// `From`, with `?`).
pub fn settle<R>(result: Result<R, R>) -> R {
    result.unwrap_or_else(|e| e)
}

/// Problem `code` with status `S`.
pub fn problem<const S: u16>(code: &str, detail: impl Into<String>) -> Problem {
    let status = poem::http::StatusCode::from_u16(S).expect("a declared status is valid");
    Problem::new(status, code, detail)
}

/// Declares an operation's response enum: its success variants as written, then one
/// problem+json variant per listed error status, then 500 and 503 (which every operation can
/// return, 503 with `Retry-After` when the server is busy); [`Declares`] for each status the
/// handler can answer, and `From` for each error type listed under `answers`.
///
/// The `errors` list names every error status the operation can answer, in status order, each
/// item followed by a comma. `400 => BadRequest: "doc",` is a status the handler itself returns
/// (and possibly poem too): the enum `Declares<400>`. The bare forms are answered before the
/// handler runs, so they are documented but declare nothing a handler could build: `408
/// slow_body,` and `413 too_large,` (the body read by `limits::guard`), `415 not_json,`
/// (poem-openapi's JSON body extractor), `429 rate_limited,` (`limits::guard`, for paths under
/// an application token). `503 => "doc",` adds what else the operation's 503 can mean to its
/// description.
///
/// `answers { E, F }` lists the error types the handler returns: each becomes the enum through
/// its [`Answer`] impl, whose bounds name the statuses it needs. An error type whose statuses
/// the operation does not declare does not compile: `answers { CreateError }` on an operation
/// without `409` fails with "the trait `Declares<409>` is not implemented".
#[macro_export]
macro_rules! op_response {
    // Each `@item` arm moves the first item of the error list into variants (and, for statuses
    // the handler returns, into `(status variant)` pairs for `Declares`); the last one writes the
    // enum, and `@declares` what it declares.
    (@item $vars:tt $arms:tt [408 slow_body, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@before $vars $arms [$($rest)*] $head 408 RequestTimeout
            "`request_timeout`: the request body did not arrive within the request deadline.");
    };
    (@item $vars:tt $arms:tt [413 too_large, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@before $vars $arms [$($rest)*] $head 413 PayloadTooLarge
            "`payload_too_large`: the request body is over the server's limit (256 KiB unless\nconfigured otherwise).");
    };
    (@item $vars:tt $arms:tt [415 not_json, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@before $vars $arms [$($rest)*] $head 415 UnsupportedMediaType
            "`unsupported_media_type`: the request has no `Content-Type` header, or it is not\n`application/json`.");
    };
    // A status answered before the handler runs: a variant, and nothing the handler can build.
    (@before [$($vars:tt)*] $arms:tt $rest:tt $head:tt $status:literal $variant:ident $doc:literal) => {
        $crate::op_response!(@item [$($vars)*
            #[doc = $doc]
            #[oai(status = $status, content_type = "application/problem+json")]
            $variant(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] $arms $rest $head);
    };
    (@item [$($vars:tt)*] $arms:tt [429 rate_limited, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@item [$($vars)*
            /// `rate_limited`: the application's requests for the current minute are used up
            /// (only when the server sets `RATE_LIMIT_PER_MINUTE`). Retry after `Retry-After`
            /// seconds.
            #[oai(
                status = 429,
                content_type = "application/problem+json",
                header(name = "Retry-After", ty = "u32", description = "Seconds until the next window opens."),
                header(name = "RateLimit-Policy", ty = "String", description = "The limit, e.g. `\"per-application\";q=600;w=60`."),
                header(name = "RateLimit", ty = "String", description = "What is left of it, e.g. `\"per-application\";r=0;t=42`."),
            )]
            RateLimited(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] $arms [$($rest)*] $head);
    };
    // `503 => "doc",`: what else this operation's 503 can mean, added to its description.
    (@item $vars:tt $arms:tt [503 => $doc:literal, $($rest:tt)*] { $enum:tt () $answers:tt }) => {
        $crate::op_response!(@item $vars $arms [$($rest)*] { $enum ($doc) $answers });
    };
    (@item [$($vars:tt)*] [$($arms:tt)*]
        [$status:literal => $variant:ident: $doc:literal, $($rest:tt)*] $head:tt) => {
        $crate::op_response!(@item [$($vars)*
            #[doc = $doc]
            #[oai(status = $status, content_type = "application/problem+json")]
            $variant(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        ] [$($arms)* ($status $variant)] [$($rest)*] $head);
    };
    (@item [$($vars:tt)*] [$(($status:literal $variant:ident))*] []
        { { $(#[$meta:meta])* pub enum $name:ident { $($ok:tt)* } } ($($busy:literal)?) [$($answer:ty),*] }) => {
        $(#[$meta])*
        #[derive(::poem_openapi::ApiResponse)]
        pub enum $name {
            $($ok)*
            $($vars)*
            /// `internal_error`: a server error; the body carries an `error_id` to quote when
            /// reporting it.
            #[oai(status = 500, content_type = "application/problem+json")]
            Internal(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
            /// `service_unavailable`: the database is unavailable or overloaded; `server_busy`:
            /// the server is at its limit of requests in flight or of queued creations (nothing
            /// was done); `request_timeout`: the answer took longer than the request deadline (a
            /// creation may still complete: retry with the same `Idempotency-Key` to learn its
            /// outcome). Retry shortly.
            $(#[doc = ""] #[doc = $busy])?
            #[oai(
                status = 503,
                content_type = "application/problem+json",
                header(name = "Retry-After", ty = "Option<u32>", description = "Seconds to wait before retrying (when the server is busy)."),
            )]
            Unavailable(::poem_openapi::payload::Json<$crate::http::problem::Problem>),
        }

        $crate::op_response!(@declares $name $(($status $variant))* (500 Internal) (503 Unavailable));
        $(
            impl From<$answer> for $name {
                fn from(e: $answer) -> Self {
                    $crate::http::respond::Answer::answer(e)
                }
            }
        )*
    };

    (@declares $name:ident $(($status:literal $variant:ident))*) => {
        $(
            impl $crate::http::respond::Declares<$status> for $name {
                fn with(problem: $crate::http::problem::Problem) -> Self {
                    Self::$variant(::poem_openapi::payload::Json(problem))
                }
            }
        )*
    };

    // The public form.
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($ok:tt)*
        }
        errors { $($errors:tt)* }
        answers { $($answer:ty),* $(,)? }
    ) => {
        $crate::op_response!(@item [] [] [$($errors)*] {
            { $(#[$meta])* pub enum $name { $($ok)* } } () [$($answer),*]
        });
    };
}

#[cfg(test)]
mod tests;
