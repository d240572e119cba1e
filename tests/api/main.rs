//! Integration tests: every test gets its own database and a real server, and asserts what a
//! client observes over HTTP.

mod applications;
mod bad_input;
mod bounds;
mod broken_connections;
mod chats;
mod concurrency;
mod crash;
mod demo;
mod faults;
mod first_hour;
mod folding;
mod healthcheck;
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
mod proxy;
mod queue;
mod races;
mod search;
mod secrets;
mod shutdown;
mod startup;
mod stream;
mod tls;
mod unique_posts;
mod upgrade;
mod webhook_receiver;
mod webhooks;
