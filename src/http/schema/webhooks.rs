//! The schema of `/api/applications/{token}/webhooks`: the bodies, the lists and each
//! operation's response.

use poem_openapi::{payload::Json, types::Example, Object};

use crate::{
    hooks::{Delivery, EventType, Webhook},
    http::{
        hook_fields::{EventList, Flag, HookUrl},
        input::{BadRequest, Invalid},
        respond::{reply, Answer, Declares},
    },
    op_response,
    ops::ReadError,
};

/// Body of `POST .../webhooks`.
#[derive(Debug, Object)]
#[oai(example)]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: an absolute `http` or `https` URL, at most 2,048
    /// characters, without user name or password. Its host must not be (or, when sent to,
    /// resolve only to) a loopback, private, link-local or reserved address, unless the server
    /// sets `WEBHOOK_ALLOW_PRIVATE`.
    pub url: HookUrl,
    /// The events it receives (at least one).
    pub events: EventList,
}

impl Example for CreateWebhook {
    fn example() -> Self {
        CreateWebhook {
            url: HookUrl::new("https://example.com/hooks/chat"),
            events: EventList::new(&[EventType::MessageCreated, EventType::ChatDeleted]),
        }
    }
}

/// Body of `PATCH .../webhooks/{id}`: what to change (absent fields are left as they are).
#[derive(Debug, Object)]
#[oai(example)]
pub struct UpdateWebhook {
    /// A new URL (same rules as on registration).
    #[oai(skip_serializing_if_is_none)]
    pub url: Option<HookUrl>,
    /// New event types.
    #[oai(skip_serializing_if_is_none)]
    pub events: Option<EventList>,
    /// `true` pauses it (no new events are queued for it, queued ones wait); `false` resumes
    /// it (clearing the pause's reason and the failure streak).
    pub paused: Flag,
}

impl Example for UpdateWebhook {
    fn example() -> Self {
        UpdateWebhook {
            url: None,
            events: None,
            paused: Flag::new(false),
        }
    }
}

/// The application's webhooks.
#[derive(Debug, Object)]
#[oai(example)]
pub struct WebhookList {
    /// Oldest first.
    pub data: Vec<Webhook>,
}

/// A page of an endpoint's deliveries.
#[derive(Debug, Object)]
#[oai(example)]
pub struct DeliveryList {
    /// Newest first.
    pub data: Vec<Delivery>,
    /// The id of the last delivery on this page: pass it as `before` for older ones.
    #[oai(skip_serializing_if_is_none)]
    pub next_before: Option<i64>,
}

impl Example for WebhookList {
    fn example() -> Self {
        let webhook = Webhook {
            secret: None,
            ..Webhook::example()
        };
        WebhookList { data: vec![webhook] }
    }
}

impl Example for DeliveryList {
    fn example() -> Self {
        DeliveryList {
            data: vec![Delivery::example()],
            next_before: None,
        }
    }
}

/// 409 `too_many_webhooks`: the application has as many webhooks as it may.
#[derive(Debug)]
pub struct TooManyWebhooks;

impl<R: Declares<409>> Answer<R> for TooManyWebhooks {
    fn answer(self) -> R {
        let detail = format!(
            "the application has {} webhooks, the most it may have; delete one first",
            crate::hooks::registry::MAX_WEBHOOKS
        );
        reply::<409, R>("too_many_webhooks", detail)
    }
}

op_response! {
    /// Result of registering a webhook.
    pub enum CreateWebhookResponse {
        /// The webhook, with its signing secret (shown this once); `Location` is its URL.
        #[oai(status = 201)]
        Created(
            Json<Webhook>,
            /// The new webhook's URL.
            #[oai(header = "Location")]
            String,
        ),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field`: `token`): the token is not a UUID; `bad_request`: the body is not valid JSON, or not a JSON object.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        408 slow_body,
        409 => Conflict: "`too_many_webhooks`: the application has 20 webhooks already.",
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field` (`field`: `url` or `events`): the URL is missing, not an absolute http(s) URL, too long, holds credentials or names a private address; the events are missing, empty or name an unknown event type.",
        429 rate_limited,
    }
    answers { BadRequest, Invalid, TooManyWebhooks, ReadError }
}

op_response! {
    /// Result of listing webhooks.
    pub enum ListWebhooksResponse {
        /// The application's webhooks (secrets not shown).
        #[oai(status = 200)]
        Ok(Json<WebhookList>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field`: `token`): the token is not a UUID.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of reading, rotating the secret of, or sending a delivery of, a webhook.
    pub enum WebhookResponse {
        /// The webhook (with its new secret, shown this once, after a rotation).
        #[oai(status = 200)]
        Ok(Json<Webhook>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the id is not a whole number from 1 to 9223372036854775807.",
        404 => NotFound: "`application_not_found`: no application has this token; `webhook_not_found`: it has no webhook with this id.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of changing a webhook.
    pub enum UpdateWebhookResponse {
        /// The webhook as changed.
        #[oai(status = 200)]
        Ok(Json<Webhook>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the id is not a whole number from 1 to 9223372036854775807; `bad_request`: the body is not valid JSON, or not a JSON object.",
        404 => NotFound: "`application_not_found`: no application has this token; `webhook_not_found`: it has no webhook with this id.",
        408 slow_body,
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field` (`field`: `url`, `events` or `paused`): the URL or events as on registration; `paused` is not true or false.",
        429 rate_limited,
    }
    answers { Invalid, ReadError }
}

op_response! {
    /// Result of deleting a webhook.
    pub enum DeleteWebhookResponse {
        /// Deleted, with its deliveries.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the id is not a whole number from 1 to 9223372036854775807.",
        404 => NotFound: "`application_not_found`: no application has this token; `webhook_not_found`: it has no webhook with this id.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of listing a webhook's deliveries.
    pub enum ListDeliveriesResponse {
        /// The latest deliveries.
        #[oai(status = 200)]
        Ok(Json<DeliveryList>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the id is not a whole number from 1 to 9223372036854775807, or `limit` (1 to 100) or `before` (1 or more) is not a whole number in its range.",
        404 => NotFound: "`application_not_found`: no application has this token; `webhook_not_found`: it has no webhook with this id.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of sending a delivery again.
    pub enum RetryDeliveryResponse {
        /// The delivery, due at once.
        #[oai(status = 202)]
        Accepted(Json<Delivery>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the id or the delivery is not a whole number from 1 to 9223372036854775807.",
        404 => NotFound: "`application_not_found`: no application has this token; `webhook_not_found`: it has no webhook with this id; `delivery_not_found`: the webhook has no delivery with this id.",
        429 rate_limited,
    }
    answers { ReadError }
}
