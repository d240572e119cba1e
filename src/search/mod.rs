//! Message search. Each file has one job, and dependencies run one way:
//!
//! | file | job | knows the database |
//! |---|---|---|
//! | `parse` | what the user typed, split into `Term`s | no |
//! | `fold` | case and accent folding, the same as the database's `chat_search_text` (the stored folded text is the service's since V19, NULL for a plain body since V20) | no |
//! | `keys` | a message's words and search keys, a term's dictionary patterns (V19) | no |
//! | `rank` | relevance scores and highlighted snippets | no |
//! | `plan` | builds the dynamic statements (the fixed ones are in `sql/`) | statements only |
//! | `tuning` | the routing's tuned figures, with their measurements | no |
//! | `budget` | a search's time budget in the database | yes |
//! | `expand` | a query's terms to conditions on the search keys, through the application's dictionary | yes |
//! | `routes` | the route: first walk, walk on, or the index path | yes |
//! | `fetch` | one search's snapshot: scope, route, ranking, the page's bodies | yes |
//! | `caps` | the caps on searches running at once | no |
//! | `run` | a search as the service answers it: caps, timeout, snippets, metrics | through `fetch` |
//!
//! Matching happens in PostgreSQL; relevance and snippets are computed here, for the page only.

mod budget;
mod caps;
mod error;
mod expand;
mod fetch;
mod fold;
pub mod keys;
mod parse;
mod plan;
mod rank;
mod routes;
mod run;
mod tuning;

pub use caps::{SearchPermit, Searches};
pub use error::SearchError;
pub use fetch::{fetch, Wanted};
pub use fold::{fold_str, stored_folded, Folded};
pub use parse::{parse, QueryError, Term, MAX_TERMS};
pub use rank::{relevance, snippet};
pub use run::{search, Hit, SearchOrder, SearchPage, SearchRequest, MAX_OFFSET, RELEVANCE_CANDIDATES, SNIPPET_CHARS};
