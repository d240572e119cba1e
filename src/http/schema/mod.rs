//! The HTTP schema of each resource: request and response bodies (with their examples) and each
//! operation's response enum (`op_response!`: the statuses it documents and the errors it
//! answers). The handlers (`http::applications`, `chats`, `messages`, `webhooks`) use them; so does nothing
//! else they use, which keeps the examples out of an import cycle.

pub mod applications;
pub mod chats;
pub mod messages;
pub mod readers;
pub mod webhooks;
