//! Live delivery of a chat's messages (`.../messages/stream`): what changed is published as
//! compact lines in the payload of the NOTIFYs the announcer sends on the channel (the same
//! NOTIFYs wake every instance's workers); the process's one LISTEN connection hands them to the
//! [`Hub`], which fans them out to the subscribers of each chat. Events name applications by
//! their id, never by their token: any database role allowed to LISTEN on the channel reads the
//! payloads.
//!
//! - [`event`]: the event lines and their packing into payloads.
//! - [`outbox`] and [`announcer`]: publishing, and the task that sends the NOTIFYs.
//! - [`listener`]: the LISTEN connection (wakes the workers, feeds the hub).
//! - [`hub`], [`topic`], [`subscription`]: the fan-out to each chat's subscribers.

pub mod announcer;
pub mod event;
pub mod hub;
pub mod listener;
mod outbox;
mod subscription;
mod topic;

pub use announcer::Announcer;
pub use event::{pack, ChatEvent, CHANNEL, MAX_PAYLOAD};
pub use hub::Hub;
pub use listener::listen;
pub use subscription::Subscription;
pub use topic::LiveEvent;
