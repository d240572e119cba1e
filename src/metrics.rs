//! Process metrics in the Prometheus text format (`GET /metrics`): counters and histograms kept
//! in memory with atomics, plus gauges read when scraped (queue, pool, streams).

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::Duration,
};

/// Upper bounds (seconds) of the latency histograms' buckets.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds of the batch-size histograms' buckets.
const SIZE_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// One histogram: cumulative buckets, a sum and a count.
struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    /// The sum, in millionths of the unit.
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros
            .fetch_add((value * 1e6).round() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// A family of histograms told apart by their label set.
struct Family {
    bounds: &'static [f64],
    members: Mutex<BTreeMap<String, Arc<Histogram>>>,
}

impl Family {
    fn new(bounds: &'static [f64]) -> Self {
        Family {
            bounds,
            members: Mutex::default(),
        }
    }

    fn observe(&self, labels: String, value: f64) {
        let histogram = self
            .members
            .lock()
            .unwrap()
            .entry(labels)
            .or_insert_with(|| Arc::new(Histogram::new(self.bounds)))
            .clone();
        histogram.observe(value);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (labels, histogram) in self.members.lock().unwrap().iter() {
            histogram.render(out, name, labels);
        }
    }
}

/// A family of counters told apart by their label set.
#[derive(Default)]
struct Counters(Mutex<BTreeMap<String, u64>>);

impl Counters {
    fn add(&self, labels: String) {
        *self.0.lock().unwrap().entry(labels).or_default() += 1;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (labels, n) in self.0.lock().unwrap().iter() {
            let _ = writeln!(out, "{name}{{{labels}}} {n}");
        }
    }
}

/// Everything the process counts.
pub struct Metrics {
    requests: Counters,
    request_seconds: Family,
    search_seconds: Family,
    search_routes: Counters,
    worker_batch_jobs: Family,
    worker_batch_seconds: Family,
    intake_batch_requests: Family,
    intake_resolutions: std::sync::atomic::AtomicU64,
}

/// Values read at scrape time.
pub struct Gauges {
    /// Jobs waiting in the queue, and the age of the oldest in seconds.
    pub queue: Option<(i64, f64)>,
    /// Queued jobs that failed at least `JOB_MAX_ATTEMPTS` times (still retried).
    pub stuck_jobs: Option<i64>,
    /// Pooled connections in use and idle.
    pub pool: (usize, usize),
    /// Live streams open in this process.
    pub streams: usize,
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics {
        requests: Counters::default(),
        request_seconds: Family::new(&LATENCY_BUCKETS),
        search_seconds: Family::new(&LATENCY_BUCKETS),
        search_routes: Counters::default(),
        worker_batch_jobs: Family::new(&SIZE_BUCKETS),
        worker_batch_seconds: Family::new(&LATENCY_BUCKETS),
        intake_batch_requests: Family::new(&SIZE_BUCKETS),
        intake_resolutions: Default::default(),
    })
}

impl Metrics {
    /// One answered request: `operation` is the OpenAPI operationId (`none` outside them).
    pub fn request(&self, operation: &str, method: &str, status: u16, took: Duration) {
        let labels = format!("operation=\"{operation}\",method=\"{method}\",status=\"{status}\"");
        self.requests.add(labels);
        self.request_seconds
            .observe(format!("operation=\"{operation}\""), took.as_secs_f64());
    }

    /// One search, by the kind of ordering.
    pub fn search(&self, order: &str, took: Duration) {
        self.search_seconds
            .observe(format!("order=\"{order}\""), took.as_secs_f64());
    }

    /// One search answered by `route`: `walk` (the first walk), `second_walk`, `index`, or
    /// `long_walk` (the rest of the chat, for terms the index cannot narrow).
    pub fn search_route(&self, route: &'static str) {
        self.search_routes.add(format!("route=\"{route}\""));
    }

    /// One worker batch that claimed `jobs` jobs.
    pub fn worker_batch(&self, jobs: usize, took: Duration) {
        self.worker_batch_jobs.observe(String::new(), jobs as f64);
        self.worker_batch_seconds.observe(String::new(), took.as_secs_f64());
    }

    /// One group-commit batch of `requests` creations of `kind` (`chat`, `message`).
    pub fn intake_batch(&self, kind: &str, requests: usize) {
        self.intake_batch_requests
            .observe(format!("kind=\"{kind}\""), requests as f64);
    }

    /// One creation statement whose answer was lost with its connection, and whose outcome was
    /// resolved.
    pub fn intake_resolution(&self) {
        self.intake_resolutions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The text exposition of everything, with the scrape-time gauges.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(16 * 1024);
        self.requests.render(
            &mut out,
            "chat_http_requests_total",
            "HTTP requests answered, by operation, method and status.",
        );
        self.request_seconds.render(
            &mut out,
            "chat_http_request_duration_seconds",
            "Time to answer a request (until its response head), by operation.",
        );
        self.search_seconds.render(
            &mut out,
            "chat_search_duration_seconds",
            "Time to run a message search, by order.",
        );
        self.search_routes.render(
            &mut out,
            "chat_search_route_total",
            "Searches by the last step they needed: walk, second_walk, index, long_walk.",
        );
        self.worker_batch_jobs.render(
            &mut out,
            "chat_worker_batch_jobs",
            "Jobs claimed per worker batch (empty polls not counted).",
        );
        self.worker_batch_seconds.render(
            &mut out,
            "chat_worker_batch_duration_seconds",
            "Time of a worker batch that claimed jobs.",
        );
        self.intake_batch_requests.render(
            &mut out,
            "chat_intake_batch_requests",
            "Creations coalesced per group-commit transaction, by kind.",
        );
        let _ = writeln!(
            out,
            "# HELP chat_intake_resolutions_total Creation statements whose answer was lost with their connection and whose outcome was resolved.\n\
             # TYPE chat_intake_resolutions_total counter\nchat_intake_resolutions_total {}",
            self.intake_resolutions.load(std::sync::atomic::Ordering::Relaxed)
        );
        render_gauges(&mut out, gauges);
        out
    }
}

/// The scrape-time gauges, in the text exposition format.
fn render_gauges(out: &mut String, gauges: &Gauges) {
    let mut gauge = |name: &str, help: &str, value: Option<String>| {
        if let Some(value) = value {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
    };
    let (depth, age) = gauges.queue.unzip();
    gauge(
        "chat_queue_depth",
        "Jobs waiting in the queue (all instances).",
        depth.map(|d| d.to_string()),
    );
    gauge(
        "chat_queue_oldest_job_age_seconds",
        "Age of the oldest queued job (0 when empty).",
        age.map(|a| a.to_string()),
    );
    gauge(
        "chat_jobs_stuck",
        "Queued jobs that failed JOB_MAX_ATTEMPTS times or more and are still retried (all instances): worth an alert.",
        gauges.stuck_jobs.map(|d| d.to_string()),
    );
    gauge(
        "chat_db_pool_connections_in_use",
        "Pooled database connections in use.",
        Some(gauges.pool.0.to_string()),
    );
    gauge(
        "chat_db_pool_connections_idle",
        "Pooled database connections idle.",
        Some(gauges.pool.1.to_string()),
    );
    gauge(
        "chat_live_streams",
        "Live message streams open in this process.",
        Some(gauges.streams.to_string()),
    );
}

#[cfg(test)]
mod tests;
