//! A TCP proxy that breaks connections: each connection through it is reset (both sides, at once)
//! after a random lifetime, exponentially distributed around a mean, so statements and commits
//! are cut at every possible moment. Used between the service and PostgreSQL by the
//! broken-connection test and the fault benchmark (`examples/bench`).

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// A running proxy; stops when dropped.
pub struct BreakingProxy {
    /// Port it listens on (127.0.0.1).
    pub port: u16,
    /// Mean connection lifetime in microseconds; 0: connections are never cut.
    mean_micros: Arc<AtomicU64>,
    /// Connections cut so far.
    cuts: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl BreakingProxy {
    /// Starts a proxy to `target` that does not cut anything until `break_connections`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mean_micros = Arc::new(AtomicU64::new(0));
        let cuts = Arc::new(AtomicU64::new(0));
        let accept = tokio::spawn({
            let (mean_micros, cuts) = (mean_micros.clone(), cuts.clone());
            async move {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ u64::from(port));
                while let Ok((client, _)) = listener.accept().await {
                    let lifetime = match mean_micros.load(Ordering::Relaxed) {
                        0 => None,
                        mean => Some(Duration::from_micros(rng.exponential(mean))),
                    };
                    tokio::spawn(relay(client, target, lifetime, cuts.clone()));
                }
            }
        });
        BreakingProxy {
            port,
            mean_micros,
            cuts,
            accept,
        }
    }

    /// From now on, new connections are cut after a random lifetime around `mean`.
    pub fn break_connections(&self, mean: Duration) {
        self.mean_micros
            .store(mean.as_micros().max(1) as u64, Ordering::Relaxed);
    }

    /// New connections are left alone again (those already doomed still break).
    pub fn calm(&self) {
        self.mean_micros.store(0, Ordering::Relaxed);
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> u64 {
        self.cuts.load(Ordering::Relaxed)
    }
}

impl Drop for BreakingProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Relays bytes both ways until either side closes or the lifetime ends; then resets both.
async fn relay(mut client: TcpStream, target: SocketAddr, lifetime: Option<Duration>, cuts: Arc<AtomicU64>) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
    match lifetime {
        None => {
            let _ = copy.await;
        }
        Some(lifetime) => {
            tokio::select! {
                _ = copy => {}
                _ = tokio::time::sleep(lifetime) => {
                    // A reset, not a polite close: neither side gets to finish what it was saying.
                    let _ = (client.set_zero_linger(), server.set_zero_linger());
                    cuts.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// xorshift64*: enough randomness for lifetimes, and no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// An exponentially distributed value with this mean.
    fn exponential(&mut self, mean: u64) -> u64 {
        let uniform = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (-(1.0 - uniform).ln() * mean as f64) as u64
    }
}
