//! The response enums declare what they document, and errors answer with their own status.

use poem::IntoResponse;
use poem_openapi::ApiResponse;

use crate::{
    http::{input::Invalid, problem::PROBLEM_JSON},
    ops::{Overload, ReadError, Trouble},
    store::{DbError, Missing},
};

crate::op_response! {
    /// An operation's result.
    pub enum TestResponse {
        /// Done.
        #[oai(status = 204)]
        Done,
    }
    errors {
        404 => NotFound: "Missing.",
        413 too_large,
        422 => Invalid: "Unacceptable.",
        429 rate_limited,
    }
    answers { ReadError, Invalid }
}

#[test]
fn declares_the_listed_statuses_then_500_and_503_all_as_problems() {
    let meta = TestResponse::meta();

    let statuses: Vec<_> = meta.responses.iter().map(|r| r.status.unwrap()).collect();
    assert_eq!(statuses, [204, 404, 413, 422, 429, 500, 503]);
    for response in &meta.responses[1..] {
        assert_eq!(response.content[0].content_type, PROBLEM_JSON);
    }
    let rate_limit_headers: Vec<_> = meta.responses[4].headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(rate_limit_headers, ["RETRY-AFTER", "RATELIMIT-POLICY", "RATELIMIT"]);
}

crate::op_response! {
    /// An operation whose 503 can mean more.
    pub enum BusyResponse {
        /// Done.
        #[oai(status = 204)]
        Done,
    }
    errors {
        404 => NotFound: "Missing.",
        503 => "`search_busy`: too many at once.",
    }
    answers {}
}

#[test]
fn an_operation_can_say_what_else_its_503_means() {
    let meta = BusyResponse::meta();
    let statuses: Vec<_> = meta.responses.iter().map(|r| r.status.unwrap()).collect();
    assert_eq!(statuses, [204, 404, 500, 503]);
    let unavailable = meta.responses[3].description;
    assert!(unavailable.starts_with("`service_unavailable`"), "{unavailable}");
    assert!(
        unavailable.ends_with("\n\n`search_busy`: too many at once."),
        "{unavailable}"
    );
    assert_eq!(
        TestResponse::meta().responses[6].description,
        BusyResponse::meta().responses[3]
            .description
            .split("\n\n")
            .next()
            .unwrap()
    );
}

/// Each error becomes the variant of its own status, whose body says the same status. (That
/// an error needing a status the operation does not declare cannot become its response is
/// checked by the compiler: see `op_response!`.)
#[test]
fn errors_answer_with_their_own_status() {
    let answer = |r: TestResponse| {
        let response = r.into_response();
        (response.status().as_u16(), response.content_type().map(str::to_owned))
    };
    let problem = Some(PROBLEM_JSON.to_owned());

    assert_eq!(
        answer(ReadError::NotFound(Missing::Chat).into()),
        (404, problem.clone())
    );
    let invalid = Invalid {
        field: "body",
        detail: "blank".into(),
    };
    assert_eq!(answer(invalid.into()), (422, problem.clone()));
    let down = ReadError::Trouble(Trouble::Unavailable(DbError::ShuttingDown));
    assert_eq!(answer(down.into()), (503, problem.clone()));
    let busy = ReadError::Trouble(Overload::Queue.into());
    assert_eq!(answer(busy.into()), (503, problem.clone()));
    let bug = ReadError::Trouble(Trouble::Internal(DbError::ClaimLost));
    assert_eq!(answer(bug.into()), (500, problem));
}
