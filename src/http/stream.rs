//! `/api/applications/{token}/chats/{chat}/messages/stream`: a chat's messages live, as
//! Server-Sent Events, resumable from a message number.

use futures::{stream::BoxStream, StreamExt};
use poem::web::sse::Event;
use poem_openapi::{
    param::{Header, Path, Query},
    payload::{EventStream, Payload},
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{Example, ToJSON, Type},
    Enum, Object, OpenApi,
};

use super::{
    answer::TooManyStreams,
    examples,
    message::Message,
    params::{After, Number, Token},
    ApiTags, State,
};
use crate::{live::LiveEvent, op_response, ops::ReadError};

/// What happened in the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MessageEventType {
    /// A new message.
    #[oai(rename = "message.created")]
    Created,
    /// A message's body was edited.
    #[oai(rename = "message.updated")]
    Updated,
    /// A message was deleted.
    #[oai(rename = "message.deleted")]
    Deleted,
    /// The chat (or its application) was deleted; the stream ends after this event.
    #[oai(rename = "chat.deleted")]
    ChatDeleted,
}

/// One event of a chat's live stream: the `data` of a Server-Sent Event whose `event` field is
/// the same as `type`, which says what happened. `message` is the message as it is now
/// (`message.created`, `message.updated`).
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct MessageEvent {
    // No doc comments on the two fields below: they would wrap the referenced schemas.
    #[oai(rename = "type")]
    pub kind: MessageEventType,
    /// The message concerned (absent for `chat.deleted`).
    #[oai(skip_serializing_if_is_none)]
    pub number: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub message: Option<Message>,
    /// The SSE `id`: the highest message number delivered so far.
    #[oai(skip)]
    pub cursor: i64,
}

impl Example for MessageEvent {
    fn example() -> Self {
        let [_, second] = examples::messages();
        MessageEvent {
            kind: MessageEventType::Created,
            number: Some(second.number),
            message: Some(second.into()),
            cursor: 2,
        }
    }
}

impl MessageEvent {
    fn new((event, cursor): (LiveEvent, i64)) -> Self {
        let (kind, number, message) = match event {
            LiveEvent::Created(m) => (
                MessageEventType::Created,
                Some(m.number),
                Some(Message::from((*m).clone())),
            ),
            LiveEvent::Updated(m) => (
                MessageEventType::Updated,
                Some(m.number),
                Some(Message::from((*m).clone())),
            ),
            LiveEvent::Deleted(n) => (MessageEventType::Deleted, Some(n), None),
            LiveEvent::Gone => (MessageEventType::ChatDeleted, None, None),
        };
        MessageEvent {
            kind,
            number,
            message,
            cursor,
        }
    }

    fn into_sse(self) -> Event {
        let name = match self.kind {
            MessageEventType::Created => "message.created",
            MessageEventType::Updated => "message.updated",
            MessageEventType::Deleted => "message.deleted",
            MessageEventType::ChatDeleted => "chat.deleted",
        };
        let id = self.cursor.to_string();
        Event::message(self.to_json_string()).event_type(name).id(id)
    }
}

/// The body of a live stream. Documented per event, the way Server-Sent Events are in OpenAPI
/// (3.2's `itemSchema`; 3.0 tools read `schema` as the schema of each event): an object with the
/// event's `event`, `id` and `data` fields, `data` holding a `MessageEvent` as JSON text.
pub struct MessageEvents(EventStream<BoxStream<'static, MessageEvent>>);

impl Payload for MessageEvents {
    const CONTENT_TYPE: &'static str = "text/event-stream";

    fn schema_ref() -> MetaSchemaRef {
        let field = |ty: &'static str, description: &'static str| {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                description: Some(description),
                ..MetaSchema::new(ty)
            }))
        };
        let mut event = MetaSchema {
            description: Some("The event type: the same as `type` in `data`."),
            ..MetaSchema::new("string")
        };
        event.enum_items = ["message.created", "message.updated", "message.deleted", "chat.deleted"]
            .map(serde_json::Value::from)
            .to_vec();
        let example = MessageEvent::example();
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("One Server-Sent Event (comment lines, sent as keep-alives, carry no event)."),
            required: vec!["event", "id", "data"],
            properties: vec![
                ("event", MetaSchemaRef::Inline(Box::new(event))),
                (
                    "id",
                    field(
                        "string",
                        "The highest message number sent so far: resume from it with `Last-Event-ID`.",
                    ),
                ),
                ("data", field("string", "A `MessageEvent` (see Schemas) as JSON text.")),
            ],
            example: Some(serde_json::json!({
                "event": "message.created",
                "id": example.cursor.to_string(),
                "data": example.to_json_string(),
            })),
            ..MetaSchema::new("object")
        }))
    }

    fn register(registry: &mut Registry) {
        MessageEvent::register(registry);
    }
}

impl poem::IntoResponse for MessageEvents {
    fn into_response(self) -> poem::Response {
        self.0.into_response()
    }
}

op_response! {
    /// Result of opening a chat's live stream.
    pub enum StreamResponse {
        /// The stream: `text/event-stream`, one event per change, keep-alive comments in between.
        #[oai(status = 200)]
        Ok(MessageEvents),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the chat number is not a whole number from 1 to 9223372036854775807, or `after` or `Last-Event-ID` is not a whole number, 0 or more.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        429 rate_limited,
    }
    answers { ReadError, TooManyStreams }
}

/// Live delivery of messages.
pub struct StreamApi(pub State);

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Messages")]
impl StreamApi {
    /// Stream a chat's messages live
    ///
    /// Server-Sent Events (`text/event-stream`): every message created in the chat, and every
    /// edit and delete of one already sent, as it happens, whichever server instance accepted
    /// it. Event types: `message.created`, `message.updated`, `message.deleted`, and
    /// `chat.deleted` (then the stream ends). Each event's `id` is the highest message number
    /// sent so far: to resume after a disconnect without gaps or repeats, reconnect with it in
    /// `Last-Event-ID` (browsers' `EventSource` does this on its own) or in `after`. The
    /// messages numbered above it are sent first, in order, then live ones. Without either, the
    /// stream starts with the next new message. Edits and deletes that happened while
    /// disconnected are not replayed (the messages are sent as they are now). An edit is sent
    /// with the body the message has when the stream reads it, so edits in quick succession may
    /// arrive as several `message.updated` events with the latest body; an edit of a message
    /// deleted before the stream read it is not sent, its `message.deleted` is. A comment line is
    /// sent every 15 seconds (by default) to keep the connection open. At the process's limit of open streams
    /// (`MAX_STREAMS`) the answer is `503` `too_many_streams`, with `Retry-After`.
    #[oai(
        path = "/applications/:token/chats/:chat/messages/stream",
        method = "get",
        operation_id = "stream_messages"
    )]
    async fn stream(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The chat's number.
        chat: Path<Number>,
        /// Send the messages numbered above this first (ignored when `Last-Event-ID` is set).
        after: Query<Option<After>>,
        /// The `id` of the last event received: resume after it.
        #[oai(name = "Last-Event-ID")]
        last_event_id: Header<Option<After>>,
    ) -> StreamResponse {
        let from = last_event_id.0.or(after.0).map(|n| n.0);
        match self.0.hub.subscribe(token.get(), chat.get(), from).await {
            Ok(Some(subscription)) => {
                let events = subscription.into_stream().map(MessageEvent::new).boxed();
                StreamResponse::Ok(MessageEvents(
                    EventStream::new(events)
                        .keep_alive(self.0.hub.keep_alive())
                        .to_event(MessageEvent::into_sse),
                ))
            }
            Ok(None) => TooManyStreams.into(),
            Err(e) => ReadError::from(e).into(),
        }
    }
}
