//! The server's counters, written as Prometheus text at `GET /metrics`: requests by route and
//! status, errors, rows predicted by model, a request latency histogram and a histogram of
//! batch sizes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BOUNDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Upper bounds of the batch-size buckets, in rows.
const BATCH_BOUNDS: [f64; 12] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
];

/// A cumulative histogram over fixed bounds (plus `+Inf`).
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// The sum of observations, in millionths.
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((value * 1e6).round() as u64, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut total = 0;
        for (i, count) in self.counts.iter().enumerate() {
            total += count.load(Ordering::Relaxed);
            let bound = self
                .bounds
                .get(i)
                .map_or("+Inf".to_string(), f64::to_string);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {total}");
        }
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {total}");
    }
}

/// Everything counted since the server started.
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    rows: Mutex<BTreeMap<String, u64>>,
    errors: AtomicU64,
    latency: Histogram,
    batches: Histogram,
    predicting: AtomicUsize,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Mutex::default(),
            rows: Mutex::default(),
            errors: AtomicU64::new(0),
            latency: Histogram::new(&LATENCY_BOUNDS),
            batches: Histogram::new(&BATCH_BOUNDS),
            predicting: AtomicUsize::new(0),
        }
    }
}

impl Metrics {
    /// Counts a finished request to `route` with its status and how long it took.
    pub fn request(&self, route: &'static str, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((route, status))
            .or_default() += 1;
        if status >= 400 {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(took.as_secs_f64());
    }

    /// Counts `rows` rows predicted by `model`.
    pub fn rows(&self, model: &str, rows: usize) {
        let mut counts = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        match counts.get_mut(model) {
            Some(count) => *count += rows as u64,
            None => {
                counts.insert(model.to_string(), rows as u64);
            }
        }
    }

    /// Counts a batch of `rows` rows sent to the network.
    pub fn batch(&self, rows: usize) {
        self.batches.observe(rows as f64);
    }

    /// Marks a prediction request as started; the guard marks it finished when dropped.
    pub fn start_predicting(&self) -> Predicting<'_> {
        self.predicting.fetch_add(1, Ordering::SeqCst);
        Predicting(self)
    }

    /// Prediction requests being handled now.
    pub fn predicting(&self) -> usize {
        self.predicting.load(Ordering::SeqCst)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP backprop_requests_total HTTP requests answered, by route and status.\n\
             # TYPE backprop_requests_total counter\n",
        );
        for ((route, status), count) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "backprop_requests_total{{route=\"{route}\",code=\"{status}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP backprop_request_errors_total Requests answered with a 4xx or 5xx status.\n\
             # TYPE backprop_request_errors_total counter\n\
             backprop_request_errors_total {}",
            self.errors.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP backprop_rows_total Rows predicted, by model.\n\
             # TYPE backprop_rows_total counter\n",
        );
        for (model, count) in self.rows.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "backprop_rows_total{{model={model:?}}} {count}");
        }
        let _ = writeln!(
            out,
            "# HELP backprop_in_flight Prediction requests being handled.\n\
             # TYPE backprop_in_flight gauge\nbackprop_in_flight {}",
            self.predicting()
        );
        self.latency.write(
            &mut out,
            "backprop_request_duration_seconds",
            "Time from a request's arrival to its answer.",
        );
        self.batches.write(
            &mut out,
            "backprop_batch_rows",
            "Rows in each batch sent to the network.",
        );
        out
    }
}

/// A prediction request in progress (see [`Metrics::start_predicting`]).
pub struct Predicting<'m>(&'m Metrics);

impl Drop for Predicting<'_> {
    fn drop(&mut self) {
        self.0.predicting.fetch_sub(1, Ordering::SeqCst);
    }
}
