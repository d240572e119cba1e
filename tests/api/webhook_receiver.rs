//! A webhook receiver in the test process: a real HTTP server on 127.0.0.1 that records every
//! delivery, answers as the test's rule says (a status, `Retry-After`, or no answer at all) and
//! verifies Standard Webhooks signatures the way a receiver would.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use poem::{http::StatusCode, listener::TcpAcceptor, Request, Response, Server};
use serde_json::Value;
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub raw: Vec<u8>,
    pub body: Value,
    pub at: Instant,
}

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// 429 with `Retry-After` seconds.
    RetryAfter(u64),
    /// Never answers.
    Hang,
}

type Rule = Box<dyn FnMut(&Value) -> Reply + Send>;

/// The receiver: its URL, what it got, and its rule.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub port: u16,
    log: Arc<Mutex<Vec<Received>>>,
    rule: Arc<Mutex<Rule>>,
}

impl Receiver {
    /// Starts a receiver answering 204 to everything.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let receiver = Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            port,
            log: Arc::default(),
            rule: Arc::new(Mutex::new(Box::new(|_: &Value| Reply::Status(204)))),
        };
        let (log, rule) = (receiver.log.clone(), receiver.rule.clone());
        let endpoint = poem::endpoint::make(move |req: Request| {
            let (log, rule) = (log.clone(), rule.clone());
            async move { answer(req, log, rule).await }
        });
        let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(Server::new_with_acceptor(acceptor).run(endpoint));
        receiver
    }

    /// Answers by `rule` from now on.
    pub fn answer_with(&self, rule: impl FnMut(&Value) -> Reply + Send + 'static) {
        *self.rule.lock().unwrap() = Box::new(rule);
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to `secs`) until `check` holds for what was received.
    pub async fn wait(&self, what: &str, secs: u64, check: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if check(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for: {what}; got {:#?}",
                bodies(&got)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn answer(req: Request, log: Arc<Mutex<Vec<Received>>>, rule: Arc<Mutex<Rule>>) -> Response {
    let header = |name: &str| req.header(name).unwrap_or_default().to_owned();
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let raw = req.into_body().into_vec().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let reply = (rule.lock().unwrap())(&body);
    log.lock().unwrap().push(Received {
        id,
        timestamp,
        signature,
        raw,
        body,
        at: Instant::now(),
    });
    match reply {
        Reply::Status(status) => Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .finish(),
        Reply::RetryAfter(secs) => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("Retry-After", secs.to_string())
            .finish(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::builder().finish()
        }
    }
}

/// The bodies received (for failure messages).
pub fn bodies(got: &[Received]) -> Vec<&Value> {
    got.iter().map(|r| &r.body).collect()
}

/// True when `secret` (`whsec_…`) signed `received`: one of the space-separated `v1,`
/// signatures is the base64 HMAC-SHA256 of `id.timestamp.body` keyed with the secret's bytes.
pub fn signed_by(received: &Received, secret: &str) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", received.id, received.timestamp).as_bytes());
    mac.update(&received.raw);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|s| s == expected)
}
