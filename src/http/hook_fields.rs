//! The body fields of the webhook operations, taken as sent and checked by the handler (as
//! `text` does): a URL, a list of event types, a flag. A wrong value is a 422 `invalid_field`
//! naming the field and saying what it accepts.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use super::{
    input::Invalid,
    text::{field_type, kind},
};
use crate::hooks::{target, EventType};

/// Most characters in an endpoint's URL.
pub const MAX_URL_CHARS: usize = 2048;

/// An endpoint's URL, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookUrl(Option<Value>);

/// The event types an endpoint receives, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventList(Option<Value>);

/// A true/false field, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag(Option<Value>);

fn invalid<T>(field: &'static str, fault: String, accepts: &str) -> Result<T, Invalid> {
    let detail = format!("`{field}` {fault}: it must be {accepts}");
    Err(Invalid { field, detail })
}

impl HookUrl {
    /// A URL field holding `url` (the examples').
    pub fn new(url: &str) -> Self {
        HookUrl(Some(Value::from(url)))
    }

    /// The URL, or 422 naming `url`. A URL naming a private address is refused unless
    /// `allow_private`; host names are checked when sending, after resolution.
    pub fn get(&self, allow_private: bool) -> Result<String, Invalid> {
        let accepts = format!("an absolute http or https URL of at most {MAX_URL_CHARS} characters, without user name or password, whose host is not a loopback, private or link-local address");
        let url = match &self.0 {
            Some(Value::String(url)) => url,
            None | Some(Value::Null) => return invalid("url", "is missing".into(), &accepts),
            Some(other) => return invalid("url", format!("is {}", kind(other)), &accepts),
        };
        if url.chars().count() > MAX_URL_CHARS {
            return invalid("url", format!("has {} characters", url.chars().count()), &accepts);
        }
        match target::check_url(url, allow_private) {
            Ok(()) => Ok(url.clone()),
            Err(fault) => invalid("url", fault, &accepts),
        }
    }
}

impl EventList {
    /// An event list holding `events` (the examples').
    pub fn new(events: &[EventType]) -> Self {
        EventList(Some(events.iter().map(|e| e.as_str()).collect()))
    }

    /// The event types, each once, or 422 naming `events`.
    pub fn get(&self) -> Result<Vec<EventType>, Invalid> {
        let names: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        let accepts = format!("a non-empty array of event types among {}", names.join(", "));
        let list = match &self.0 {
            Some(Value::Array(list)) if !list.is_empty() => list,
            Some(Value::Array(_)) => return invalid("events", "is empty".into(), &accepts),
            None | Some(Value::Null) => return invalid("events", "is missing".into(), &accepts),
            Some(other) => return invalid("events", format!("is {}", kind(other)), &accepts),
        };
        let mut events = Vec::new();
        for item in list {
            let Some(event) = item.as_str().and_then(EventType::parse) else {
                let shown = item.to_string().chars().take(60).collect::<String>();
                return invalid("events", format!("holds {shown}, which is not an event type"), &accepts);
            };
            if !events.contains(&event) {
                events.push(event);
            }
        }
        Ok(events)
    }
}

impl Flag {
    /// A flag holding `flag` (the examples').
    pub fn new(flag: bool) -> Self {
        Flag(Some(Value::Bool(flag)))
    }

    /// The flag (`None` when not sent), or 422 naming `field`.
    pub fn get(&self, field: &'static str) -> Result<Option<bool>, Invalid> {
        match &self.0 {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => invalid(field, format!("is {}", kind(other)), "true or false"),
        }
    }
}

field_type!(
    [] HookUrl,
    true,
    MetaSchema {
        max_length: Some(MAX_URL_CHARS),
        ..MetaSchema::new_with_format("string", "uri")
    }
);

field_type!(
    [] EventList,
    true,
    MetaSchema {
        min_items: Some(1),
        unique_items: Some(true),
        items: Some(Box::new(EventType::schema_ref())),
        ..MetaSchema::new("array")
    }
);

field_type!([] Flag, false, MetaSchema::new("boolean"));
