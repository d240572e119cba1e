//! What a handler refuses in its input before calling an operation: a malformed parameter
//! (400) or an unacceptable field (422), with the [`Answer`] each needs.

use super::{
    problem::Problem,
    respond::{problem, Answer, Declares},
};

/// 400 `invalid_parameter`: a request parameter is malformed or conflicts with another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    /// The parameter at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub detail: String,
}

impl BadRequest {
    /// The problem (also answered by the middleware, before any operation).
    pub fn problem(self) -> Problem {
        problem::<400>("invalid_parameter", self.detail).about(self.field)
    }
}

impl<R: Declares<400>> Answer<R> for BadRequest {
    fn answer(self) -> R {
        R::with(self.problem())
    }
}

/// 422 `invalid_field`: the body parsed but a field's value is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub detail: String,
}

impl<R: Declares<422>> Answer<R> for Invalid {
    fn answer(self) -> R {
        R::with(problem::<422>("invalid_field", self.detail).about(self.field))
    }
}
