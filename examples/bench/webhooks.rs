//! Webhook deliveries under creation load (issue 17): messages created at a fixed rate into an
//! application with one webhook whose endpoint is a local receiver; the lag from each 201 to
//! its `message.created` delivery, the deliveries per second, and the creations' latency beside
//! the same load into an application without webhooks (the outbox is on the write path).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Result;
use poem::{listener::TcpAcceptor, Request, Server};
use serde_json::{json, Value};

use crate::{
    env::{free_port, Env, Service},
    load::{fixed_rate, Call, Outcome},
    stats::{machine, report, Samples},
    throughput::create,
};

/// Chats the messages are spread over.
const CHATS: i64 = 50;

type Times = Arc<Mutex<HashMap<(i64, i64), Instant>>>;

/// What one run measured.
struct Figures {
    creations: Outcome,
    lag: Samples,
    delivered: usize,
    per_second: f64,
}

pub async fn run(args: &[String]) -> Result<()> {
    let rate: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let env = Env::start()?;
    let without = scenario(&env, "bench_hooks_off", rate, secs, false).await?;
    let with = scenario(&env, "bench_hooks_on", rate, secs, true).await?;
    let row = |name: &str, o: &Outcome| {
        let l = &o.latencies;
        format!(
            "| {name} | {:.0} | {} | {:.2} | {:.2} | {:.2} |\n",
            o.throughput(),
            o.errors,
            l.pct(50.0),
            l.pct(99.0),
            l.pct(100.0)
        )
    };
    report(&format!(
        "\n## Webhooks under creation load\n\nCommand: `cargo run --release --example bench -- webhooks {rate} {secs}` ({})\n\n\
         {rate} message creations per second for {secs} s over {CHATS} chats (64 connections), into an\n\
         application without webhooks, then into one with a webhook (all events) whose endpoint is a\n\
         local receiver answering 204.\n\n\
         | Creations | per second | errors | p50 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|---|---|\n{}{}\n\
         | Deliveries | delivered | per second | 201 → delivery p50 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|---|---|\n\
         | message.created | {} | {:.0} | {:.1} | {:.1} | {:.1} |\n",
        machine(),
        row("without webhooks", &without.creations),
        row("with a webhook", &with.creations),
        with.delivered,
        with.per_second,
        with.lag.pct(50.0),
        with.lag.pct(99.0),
        with.lag.pct(100.0),
    ))
}

async fn scenario(env: &Env, name: &str, rate: u64, secs: u64, hooked: bool) -> Result<Figures> {
    env.fresh_database(name).await?;
    let port = free_port();
    let _service = Service::start(&env.url(name), port, &[("WEBHOOK_ALLOW_PRIVATE", "true")]).await?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let app: Value = http
        .post(format!("{base}/api/applications"))
        .json(&json!({"name": name}))
        .send()
        .await?
        .json()
        .await?;
    let token = app["token"].as_str().unwrap().to_owned();
    let arrived: Times = Arc::default();
    if hooked {
        let url = receiver(arrived.clone()).await?;
        let events = ["message.created", "chat.created"];
        let hook = json!({"url": url, "events": events});
        let r = http
            .post(format!("{base}/api/applications/{token}/webhooks"))
            .json(&hook)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "registering the webhook: {}", r.text().await?);
    }
    for _ in 0..CHATS {
        http.post(format!("{base}/api/applications/{token}/chats"))
            .send()
            .await?;
    }
    let acked: Times = Arc::default();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let make = move |_: usize, seq: u64| create(&token, 1 + seq as i64 % CHATS, "a webhook benchmark message");
    let seen = {
        let acked = acked.clone();
        move |call: &Call, answer: &crate::load::Answer, at: Instant| {
            let number = serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|v| v["number"].as_i64());
            let chat = call.path.split('/').nth(5).and_then(|c| c.parse().ok());
            if let (Some(chat), Some(number)) = (chat, number) {
                acked.lock().unwrap().insert((chat, number), at);
            }
        }
    };
    let creations = fixed_rate(addr, 64, rate, Duration::from_secs(secs), make, seen).await?;
    let acked = acked.lock().unwrap().clone();
    if !hooked {
        return Ok(Figures {
            creations,
            lag: Samples::default(),
            delivered: 0,
            per_second: 0.0,
        });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrived.lock().unwrap().len() < acked.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let arrived = arrived.lock().unwrap().clone();
    let mut lag = Samples::default();
    for (key, at) in &acked {
        if let Some(got) = arrived.get(key) {
            lag.push(got.saturating_duration_since(*at));
        }
    }
    let (first, last) = (arrived.values().min().copied(), arrived.values().max().copied());
    let span = first.zip(last).map_or(0.0, |(f, l)| (l - f).as_secs_f64());
    Ok(Figures {
        creations,
        delivered: arrived.len(),
        per_second: arrived.len() as f64 / span.max(1e-9),
        lag,
    })
}

/// A receiver on 127.0.0.1 recording when each message's `message.created` first arrived.
async fn receiver(arrived: Times) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    let endpoint = poem::endpoint::make(move |req: Request| {
        let arrived = arrived.clone();
        async move {
            let body = req.into_body().into_vec().await.unwrap_or_default();
            let event: Value = serde_json::from_slice(&body).unwrap_or_default();
            if let (Some(chat), Some(number)) = (event["chat"].as_i64(), event["number"].as_i64()) {
                arrived
                    .lock()
                    .unwrap()
                    .entry((chat, number))
                    .or_insert_with(Instant::now);
            }
            poem::http::StatusCode::NO_CONTENT
        }
    });
    tokio::spawn(Server::new_with_acceptor(TcpAcceptor::from_tokio(listener)?).run(endpoint));
    Ok(url)
}
