//! # backprop-serve
//!
//! The HTTP layer of backprop (axum on tokio): a prediction server for one or more model
//! files, speaking the protocols clients already speak:
//!
//! - the MLflow scoring protocol ([`mlflow`]): `GET /ping`, `GET /health`,
//!   `POST /invocations`;
//! - TF Serving's REST API / KServe V1 ([`v1`]): `GET /v1/models/NAME`,
//!   `POST /v1/models/NAME:predict`;
//! - the Open Inference Protocol, KServe V2 / Triton ([`v2`]): `GET /v2/health/live`,
//!   `/v2/health/ready`, `GET /v2/models/NAME`, `POST /v2/models/NAME/infer`;
//! - `GET /metrics` in Prometheus text ([`metrics`]).
//!
//! Request bodies become tables and network inputs in `backprop-data`
//! ([`backprop_data::request`]), exactly as `backprop predict` reads a file (rows of numbers
//! for an all-numeric model straight into network inputs, with the same bits); the rows of
//! concurrent requests are batched ([`batch`]) and run on a pool of compute threads, never on
//! the async reactor. Errors are `{"error": "..."}` ([`reply`]).
//!
//! ```no_run
//! use backprop_serve::{serve, BatchConfig, Config};
//! use std::time::Duration;
//!
//! let model = backprop_data::Model::load("iris.safetensors".as_ref())?;
//! let config = Config {
//!     host: "127.0.0.1".into(),
//!     port: 8080,
//!     batch: BatchConfig { max_batch: 256, max_wait: Duration::from_micros(500), threads: 2 },
//!     max_body: 16 << 20,
//!     log: false,
//!     strict: false,
//! };
//! serve(vec![("iris".into(), model)], &config, |addr| println!("listening on {addr}"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod app;
pub mod batch;
pub mod listen;
pub mod metrics;
pub mod mlflow;
pub mod reply;
pub mod v1;
pub mod v2;

use std::net::SocketAddr;
use std::sync::Arc;

use backprop_data::Model;
pub use batch::BatchConfig;
pub use listen::{serve_until_stopped, stop_signal, Listen};

/// How to serve.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address to listen on.
    pub host: String,
    /// The port (0: any free one; the address is passed to `ready`).
    pub port: u16,
    /// How requests are batched.
    pub batch: BatchConfig,
    /// The largest request body, in bytes (413 above it).
    pub max_body: usize,
    /// One line per request on standard error.
    pub log: bool,
    /// Refuse values the model never saw in training, as `backprop predict --strict` does.
    pub strict: bool,
}

/// Serves `models` (name, model) until SIGTERM or Ctrl-C, then stops accepting connections,
/// finishes the requests in flight and returns. `ready` is called with the bound address
/// once the server accepts connections.
///
/// # Errors
/// If the address cannot be bound, or the runtime or the thread pool cannot start.
pub fn serve(
    models: Vec<(String, Model)>,
    config: &Config,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let threads = config.batch.threads.max(1) * models.len().max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("backprop-compute-{i}"))
        .build()
        .map_err(std::io::Error::other)?;
    let listen = Listen {
        host: &config.host,
        port: config.port,
        thread_name: "backprop-http",
        worker_threads: None,
    };
    let app = || {
        app::router(Arc::new(app::App::new(
            models,
            config.batch,
            config.max_body,
            config.log,
            config.strict,
            &pool,
        )))
    };
    serve_until_stopped(&listen, app, ready)
}
