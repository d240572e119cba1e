//! Integration tests: every test gets its own database and a real server, and asserts what a
//! client observes over HTTP.

mod applications;
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
mod private_cluster;
mod queue;
mod search;
mod secrets;
mod stream;
