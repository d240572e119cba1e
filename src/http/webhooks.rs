//! `/api/applications/{token}/webhooks`: register, list, read, change, rotate the secret of and
//! delete an application's webhook endpoints; list a webhook's deliveries and send one again.
//! The deliveries themselves are sent by `hooks`' workers.

use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    OpenApi,
};

use super::{
    params::{Before, Limit, Number, Token},
    respond::settle,
    schema::webhooks::*,
    ApiTags, State,
};
use crate::{
    hooks::registry::{self, Changes},
    ops::ReadError,
};

/// Operations on webhooks.
pub struct WebhooksApi(pub State);

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Register a webhook
    ///
    /// Registers an endpoint that receives the application's events as signed POSTs (Standard
    /// Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` headers). The answer
    /// shows the signing secret: keep it, it is not shown again (rotate it to get a new one).
    #[oai(
        path = "/applications/:token/webhooks",
        method = "post",
        operation_id = "create_webhook"
    )]
    async fn create(
        &self,
        /// The application's token.
        token: Path<Token>,
        body: Json<CreateWebhook>,
    ) -> CreateWebhookResponse {
        let result = async {
            let url = body.url.get(self.0.webhook_allow_private)?;
            let events = body.events.get()?;
            let created = registry::create(&self.0.db, token.get(), &url, &events).await;
            let webhook = created.map_err(ReadError::from)?.ok_or(TooManyWebhooks)?;
            let location = format!("/api/applications/{}/webhooks/{}", token.get(), webhook.id);
            Ok(CreateWebhookResponse::Created(Json(webhook), location))
        };
        settle(result.await)
    }

    /// List webhooks
    ///
    /// The application's webhooks, oldest first (at most 20), without their secrets.
    #[oai(
        path = "/applications/:token/webhooks",
        method = "get",
        operation_id = "list_webhooks"
    )]
    async fn list(
        &self,
        /// The application's token.
        token: Path<Token>,
    ) -> ListWebhooksResponse {
        match registry::list(&self.0.db, token.get()).await {
            Ok(data) => ListWebhooksResponse::Ok(Json(WebhookList { data })),
            Err(e) => ReadError::from(e).into(),
        }
    }

    /// Get a webhook
    ///
    /// The webhook, without its secret: whether it is paused and why, and since when its
    /// deliveries fail.
    #[oai(
        path = "/applications/:token/webhooks/:id",
        method = "get",
        operation_id = "get_webhook"
    )]
    async fn get(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The webhook's id.
        id: Path<Number>,
    ) -> WebhookResponse {
        let found = registry::get(&self.0.db, token.get(), id.get()).await;
        found.map_or_else(|e| ReadError::from(e).into(), |w| WebhookResponse::Ok(Json(w)))
    }

    /// Change a webhook
    ///
    /// Changes its URL or events, pauses it (no new events are queued for it and queued ones
    /// wait) or resumes it (queued ones are sent, in order, then new events).
    #[oai(
        path = "/applications/:token/webhooks/:id",
        method = "patch",
        operation_id = "update_webhook"
    )]
    async fn update(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The webhook's id.
        id: Path<Number>,
        body: Json<UpdateWebhook>,
    ) -> UpdateWebhookResponse {
        let result = async {
            let allow_private = self.0.webhook_allow_private;
            let changes = Changes {
                url: body.url.as_ref().map(|u| u.get(allow_private)).transpose()?,
                events: body.events.as_ref().map(|e| e.get()).transpose()?,
                paused: body.paused.get("paused")?,
            };
            let updated = registry::update(&self.0.db, token.get(), id.get(), &changes).await;
            Ok(UpdateWebhookResponse::Ok(Json(updated.map_err(ReadError::from)?)))
        };
        settle(result.await)
    }

    /// Delete a webhook
    ///
    /// Deletes the webhook and its deliveries; nothing more is sent to it.
    #[oai(
        path = "/applications/:token/webhooks/:id",
        method = "delete",
        operation_id = "delete_webhook"
    )]
    async fn delete(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The webhook's id.
        id: Path<Number>,
    ) -> DeleteWebhookResponse {
        let deleted = registry::delete(&self.0.db, token.get(), id.get()).await;
        deleted.map_or_else(|e| ReadError::from(e).into(), |()| DeleteWebhookResponse::Deleted)
    }

    /// Rotate a webhook's secret
    ///
    /// Gives the webhook a new signing secret, shown in this answer only. For 24 hours
    /// deliveries carry two signatures (the new secret's and the previous one's), so receivers
    /// can switch without rejecting any.
    #[oai(
        path = "/applications/:token/webhooks/:id/rotate-secret",
        method = "post",
        operation_id = "rotate_secret"
    )]
    async fn rotate(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The webhook's id.
        id: Path<Number>,
    ) -> WebhookResponse {
        let rotated = registry::rotate(&self.0.db, token.get(), id.get()).await;
        rotated.map_or_else(|e| ReadError::from(e).into(), |w| WebhookResponse::Ok(Json(w)))
    }

    /// List a webhook's deliveries
    ///
    /// The latest deliveries, newest first (kept a week once finished): each event's state,
    /// attempts, the latest attempt's status, latency and error, and when it is sent next.
    #[oai(
        path = "/applications/:token/webhooks/:id/deliveries",
        method = "get",
        operation_id = "list_deliveries"
    )]
    async fn deliveries(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The webhook's id.
        id: Path<Number>,
        /// Page size, 1–100 (default 10).
        limit: Query<Option<Limit>>,
        /// Only deliveries with an id below this (the next page).
        before: Query<Option<Before>>,
    ) -> ListDeliveriesResponse {
        let limit = limit.0.map_or(super::params::DEFAULT_LIMIT, |l| l.0);
        let before = before.0.map_or(i64::MAX, |b| b.0);
        match registry::deliveries(&self.0.db, token.get(), id.get(), limit, before).await {
            Ok(data) => {
                let next_before = (data.len() as i64 == limit)
                    .then(|| data.last().map(|d| d.id))
                    .flatten();
                ListDeliveriesResponse::Ok(Json(DeliveryList { data, next_before }))
            }
            Err(e) => ReadError::from(e).into(),
        }
    }

    /// Send a delivery again
    ///
    /// Makes the delivery due at once, whatever its state: it is sent again (once more, if its
    /// 24-hour retry window has passed).
    #[oai(
        path = "/applications/:token/webhooks/:id/deliveries/:delivery/retry",
        method = "post",
        operation_id = "retry_delivery"
    )]
    async fn retry(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The webhook's id.
        id: Path<Number>,
        /// The delivery's id.
        delivery: Path<Number>,
    ) -> RetryDeliveryResponse {
        let retried = registry::retry(&self.0.db, token.get(), id.get(), delivery.get()).await;
        retried.map_or_else(
            |e| ReadError::from(e).into(),
            |d| RetryDeliveryResponse::Accepted(Json(d)),
        )
    }
}
