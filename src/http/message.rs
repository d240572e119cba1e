//! A message as the API renders it: the stored message, plus a search hit's snippet.

use chrono::{DateTime, Utc};
use poem_openapi::{types::Example, Object};

use super::examples;
use crate::{model, search::Hit};

/// A message inside a chat.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct Message {
    /// The message's number inside its chat: 1, 2, 3… never reused.
    pub number: i64,
    /// The text of the message.
    pub body: String,
    /// When the message was created.
    pub created_at: DateTime<Utc>,
    /// When the message was last edited.
    pub updated_at: DateTime<Utc>,
    /// Who wrote it: the application's own id for its author, as given at creation (absent
    /// when none was given).
    #[oai(skip_serializing_if_is_none)]
    pub sender: Option<String>,
    /// Search results only: the part of the body around the first match, HTML-escaped, with
    /// every match wrapped in `<mark>…</mark>`.
    #[oai(skip_serializing_if_is_none)]
    pub snippet: Option<String>,
}

impl From<model::Message> for Message {
    fn from(m: model::Message) -> Self {
        Message {
            number: m.number,
            body: m.body,
            created_at: m.created_at,
            updated_at: m.updated_at,
            sender: m.sender,
            snippet: None,
        }
    }
}

impl From<Hit> for Message {
    fn from(hit: Hit) -> Self {
        Message {
            snippet: Some(hit.snippet),
            ..hit.message.into()
        }
    }
}

impl Example for Message {
    fn example() -> Self {
        let [first, _] = examples::messages();
        first.into()
    }
}
