//! Webhooks: an application's endpoints, and the delivery of its chats' and messages' changes
//! to them, signed as the Standard Webhooks specification says.
//!
//! The deliveries are rows of an outbox table (`webhook_deliveries`), inserted by the
//! transaction that made the change (`write::worker`'s batches for creations, the edit and
//! delete statements of `store::messages`, `store::webhook_outbox` for chat deletes), so none is lost and none is sent for a change
//! that rolled back. This module sends them:
//!
//! - [`registry`]: the endpoints and the deliveries as the API shows them ([`model`]);
//! - `deliver`: the dispatcher and one task per endpoint (claim with a lease, send, record;
//!   retries with backoff; endpoints failing for the whole window paused);
//! - `client` (timeouts, no redirects, a bounded answer) and `target` (which addresses);
//! - `payload` (the body and headers) and `secret` (secrets and signatures).

mod client;
mod deliver;
mod expire;
pub mod model;
mod payload;
pub mod registry;
pub mod secret;
pub mod target;

pub use deliver::run;
pub use model::{Delivery, DeliveryState, EventType, Webhook};
