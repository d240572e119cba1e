//! Integration tests: every test gets its own database and a real server, and asserts what a
//! client observes over HTTP.

mod applications;
mod bounds;
mod chats;
mod concurrency;
mod demo;
mod faults;
mod helpers;
mod idempotency;
mod input;
mod isolation;
mod limits;
mod messages;
mod observe;
mod openapi;
mod pool;
mod queue;
mod search;
mod stream;
