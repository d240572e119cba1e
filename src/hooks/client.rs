//! Sending one delivery: a POST with connect and total timeouts, no redirects followed, at most
//! 64 KiB of the answer read, to an address `target` allows.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use reqwest::{header::HeaderMap, redirect, StatusCode, Url};

use super::target::{self, Guard, Refused};
use crate::settings::webhooks::WebhookSettings;

/// Most bytes of an answer read (the rest is not waited for).
const MAX_ANSWER: usize = 64 * 1024;
/// Longest a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What one attempt gave.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// The answer's status, if one came.
    pub status: Option<u16>,
    /// From the first byte sent to the answer read (or the failure).
    pub latency: Duration,
    /// The answer's `Retry-After`, in seconds (a 429 or 503).
    pub retry_after: Option<Duration>,
    /// Why the attempt failed (a network error, a timeout, a refused address, a status).
    pub error: Option<String>,
}

impl Attempt {
    /// A 2xx answer.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Worth trying again: no answer (a timeout, a network error), a 5xx or a 429.
    pub fn retryable(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s >= 500 || s == 429,
        }
    }
}

/// The HTTP client of the delivery workers (cheap to clone).
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// A client following `settings`.
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<Self> {
        let guard = Guard {
            allow_private: settings.webhook_allow_private,
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(guard))
            .redirect(redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout()))
            .timeout(settings.timeout())
            .user_agent(concat!("chat-system-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender {
            client,
            allow_private: settings.webhook_allow_private,
        })
    }

    /// POSTs `body` to `url` with `headers`.
    pub async fn send(&self, url: &str, headers: HeaderMap, body: Vec<u8>) -> Attempt {
        let started = Instant::now();
        let mut attempt = match self.post(url, headers, body).await {
            Ok(attempt) => attempt,
            Err(error) => Attempt {
                error: Some(error),
                ..Attempt::default()
            },
        };
        attempt.latency = started.elapsed();
        attempt
    }

    async fn post(&self, url: &str, headers: HeaderMap, body: Vec<u8>) -> Result<Attempt, String> {
        let url = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
        // An address in the URL is not resolved: the resolver never sees it.
        if let Some(ip) = url.host_str().and_then(target::literal_ip) {
            if !self.allow_private && !target::is_public(ip) {
                return Err(Refused::new(&ip.to_string(), &[ip]).to_string());
            }
        }
        let response = self
            .client
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // Read at most MAX_ANSWER bytes, so a receiver cannot make us read without end.
        let mut stream = response.bytes_stream();
        let mut read = 0;
        while let Some(chunk) = stream.next().await {
            read += chunk.map_err(|e| describe(&e))?.len();
            if read >= MAX_ANSWER {
                break;
            }
        }
        let error = (!status.is_success()).then(|| answer_error(status));
        Ok(Attempt {
            status: Some(status.as_u16()),
            retry_after,
            error,
            ..Attempt::default()
        })
    }
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or_default())
}

fn answer_error(status: StatusCode) -> String {
    if status.is_redirection() {
        return format!("answered {status}: redirects are not followed");
    }
    format!("answered {status}")
}

/// A failed request in plain words, with its cause (a refused address, a timeout, a reset).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
