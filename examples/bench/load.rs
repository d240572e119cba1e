//! A lean HTTP/1.1 load generator: one keep-alive connection per client on hyper's low-level
//! client (no pooling layer), closed-loop or at a fixed rate, bounded in time.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{client::conn::http1::SendRequest, Method, Request};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpStream, sync::Mutex};

use crate::stats::Samples;

/// One request to send.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<String>,
}

/// What came back.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// A keep-alive connection.
pub struct Conn(SendRequest<Full<Bytes>>);

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Conn(sender))
    }

    pub async fn send(&mut self, call: &Call) -> anyhow::Result<Answer> {
        let mut req = Request::builder()
            .method(call.method.clone())
            .uri(&call.path)
            .header("host", "127.0.0.1");
        if call.body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let body = Full::new(Bytes::from(call.body.clone().unwrap_or_default()));
        self.0.ready().await?;
        let resp = self.0.send_request(req.body(body)?).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }
}

/// Results of one scenario.
#[derive(Default)]
pub struct Outcome {
    pub latencies: Samples,
    pub errors: u64,
    pub elapsed: Duration,
    /// Fixed rate: calls still waiting for a connection when the run's grace period ended
    /// (`FIXED_RATE_GRACE`), never sent (each would have waited longer than that).
    pub unsent: u64,
}

/// How long after its last scheduled call a fixed-rate run goes on sending the calls queued
/// behind slow answers. A server far slower than the rate would otherwise keep the run going for
/// the whole backlog (at 12 answers/s, 15 s of 1,000 calls/s take 20 minutes).
pub const FIXED_RATE_GRACE: Duration = Duration::from_secs(10);

impl Outcome {
    pub fn throughput(&self) -> f64 {
        self.latencies.0.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `clients` connections back to back for `duration`. `make(client, seq)` builds each call;
/// `seen(call, answer, acked_at)` is told about each answer.
pub async fn closed_loop<M, S>(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
    make: M,
    seen: S,
) -> anyhow::Result<Outcome>
where
    M: Fn(usize, u64) -> Call + Send + Sync + 'static,
    S: Fn(&Call, &Answer, Instant) + Send + Sync + 'static,
{
    let (make, seen) = (Arc::new(make), Arc::new(seen));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (make, seen) = (make.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut out = Outcome::default();
            let mut seq = 0u64;
            while Instant::now() < deadline {
                let call = make(client, seq);
                seq += 1;
                let t0 = Instant::now();
                let answer = conn.send(&call).await?;
                let acked = Instant::now();
                out.latencies.push(acked - t0);
                if answer.status >= 400 {
                    out.errors += 1;
                }
                seen(&call, &answer, acked);
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut total = Outcome::default();
    for task in tasks {
        let out = task.await??;
        total.latencies.0.extend(out.latencies.0);
        total.errors += out.errors;
        total.unsent += out.unsent;
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Sends `rate` calls per second for `duration` over `clients` connections; each latency counts
/// from the call's scheduled time, so a slow answer cannot hide the calls queued behind it.
/// Calls still queued `FIXED_RATE_GRACE` after the last one's time are not sent (`unsent`).
pub async fn fixed_rate<M, S>(
    addr: SocketAddr,
    clients: usize,
    rate: u64,
    duration: Duration,
    make: M,
    seen: S,
) -> anyhow::Result<Outcome>
where
    M: Fn(usize, u64) -> Call + Send + Sync + 'static,
    S: Fn(&Call, &Answer, Instant) + Send + Sync + 'static,
{
    let (make, seen) = (Arc::new(make), Arc::new(seen));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let rx = Arc::new(Mutex::new(rx));
    let started = Instant::now();
    let give_up = started + duration + FIXED_RATE_GRACE;
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (make, seen, rx) = (make.clone(), seen.clone(), rx.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut out = Outcome::default();
            loop {
                let next = rx.lock().await.recv().await;
                let Some((seq, scheduled)) = next else { break };
                if Instant::now() > give_up {
                    out.unsent += 1;
                    continue;
                }
                let call = make(client, seq);
                let answer = conn.send(&call).await?;
                let acked = Instant::now();
                out.latencies.push(acked - scheduled);
                if answer.status >= 400 {
                    out.errors += 1;
                }
                seen(&call, &answer, acked);
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let total_calls = (duration.as_secs_f64() * rate as f64) as u64;
    for seq in 0..total_calls {
        let at = started + interval * seq as u32;
        tokio::time::sleep_until(at.into()).await;
        let _ = tx.send((seq, at));
    }
    drop(tx);
    let mut total = Outcome::default();
    for task in tasks {
        let out = task.await??;
        total.latencies.0.extend(out.latencies.0);
        total.errors += out.errors;
        total.unsent += out.unsent;
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
