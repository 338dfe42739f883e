//! The served models, the router, and the layer that counts and logs every request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use backprop_data::request::NumericReader;
use backprop_data::{predictions, request, Model, Table};

use crate::batch::{BatchConfig, Batcher, SubmitError};
use crate::metrics::Metrics;
use crate::reply::ApiError;
use crate::{mlflow, v1, v2};

/// One model being served.
pub struct Served {
    /// Its name in URLs.
    pub name: String,
    /// The model.
    pub model: Arc<Model>,
    /// The fast reader of rows of numbers, when every feature of the model is numeric.
    pub numeric: Option<NumericReader>,
    batcher: Batcher,
}

/// The rows of one request: a table, or network inputs read straight from the body.
pub enum Rows {
    /// A table, to be encoded.
    Table(Table),
    /// Network inputs, `rows × inputs` ([`NumericReader`]).
    Encoded {
        /// The number of rows.
        rows: usize,
        /// The inputs.
        x: Vec<f32>,
    },
}

/// A model's answers for the rows of one request.
pub struct Outputs {
    /// The number of rows.
    pub rows: usize,
    /// [`predictions::outputs`] for them: class probabilities or regression values.
    pub values: Vec<f32>,
}

impl Served {
    /// The class names, for a classifier.
    pub fn classes(&self) -> Option<&[String]> {
        self.model.metadata.preprocessing.target.classes()
    }

    /// Values per row in [`Outputs::values`].
    pub fn width(&self) -> usize {
        predictions::width(&self.model)
    }

    /// Encodes the rows of `table` and waits for their batch's answer.
    pub async fn predict(&self, table: &Table, app: &App) -> Result<Outputs, ApiError> {
        let x = request::encode(&self.model.metadata.preprocessing, table, app.strict)?;
        self.predict_encoded(x, table.rows, app).await
    }

    /// Encodes `rows` (when they are a table) and waits for their batch's answer.
    pub async fn predict_rows(&self, rows: Rows, app: &App) -> Result<Outputs, ApiError> {
        match rows {
            Rows::Table(table) => self.predict(&table, app).await,
            Rows::Encoded { rows, x } => self.predict_encoded(x, rows, app).await,
        }
    }

    /// Waits for the answer to `rows` rows of network inputs `x`.
    async fn predict_encoded(
        &self,
        x: Vec<f32>,
        rows: usize,
        app: &App,
    ) -> Result<Outputs, ApiError> {
        if let Some(answer) = self.batcher.alone(&x, rows) {
            let values = answer.map_err(|message| ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message,
            })?;
            app.metrics.rows(&self.name, rows);
            return Ok(Outputs { rows, values });
        }
        let answer = self.batcher.submit(x).map_err(|e| ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: match e {
                SubmitError::Busy => "the server is busy (its queue is full); retry later",
                SubmitError::Closed => "the server is stopping",
            }
            .to_string(),
        })?;
        let values = answer
            .await
            .map_err(|_| ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "the server is stopping".to_string(),
            })?
            .map_err(|message| ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message,
            })?;
        app.metrics.rows(&self.name, rows);
        Ok(Outputs { rows, values })
    }
}

/// Everything the handlers share.
pub struct App {
    /// The models by name.
    pub models: BTreeMap<String, Served>,
    /// The counters.
    pub metrics: Arc<Metrics>,
    /// The largest body read, in bytes.
    pub max_body: usize,
    /// Whether to log one line per request to standard error.
    pub log: bool,
    /// Refuse values the model never saw in training (see [`request::encode`]).
    pub strict: bool,
}

impl App {
    /// Starts the batch workers of every model on `pool`.
    pub fn new(
        models: Vec<(String, Model)>,
        batch: BatchConfig,
        max_body: usize,
        log: bool,
        strict: bool,
        pool: &rayon::ThreadPool,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let models = models
            .into_iter()
            .map(|(name, model)| {
                let model = Arc::new(model);
                let batcher = Batcher::start(Arc::clone(&model), batch, Arc::clone(&metrics), pool);
                let served = Served {
                    name: name.clone(),
                    numeric: NumericReader::new(&model.metadata.preprocessing),
                    model,
                    batcher,
                };
                (name, served)
            })
            .collect();
        Self {
            models,
            metrics,
            max_body,
            log,
            strict,
        }
    }

    /// The model called `name`, or a 404 answer listing those there are.
    pub fn model(&self, name: &str) -> Result<&Served, ApiError> {
        self.models.get(name).ok_or_else(|| {
            ApiError::not_found(format!(
                "there is no model \"{name}\" (the models are: {})",
                self.names()
            ))
        })
    }

    /// The models' names, comma separated.
    pub fn names(&self) -> String {
        self.models.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Every route of the server.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/ping", get(mlflow::ping))
        .route("/health", get(mlflow::ping))
        .route("/invocations", post(mlflow::invocations))
        .route("/v1/models/{spec}", get(v1::status).post(v1::predict))
        .route("/v2", get(v2::server))
        .route("/v2/health/live", get(v2::live))
        .route("/v2/health/ready", get(v2::ready))
        .route("/v2/models/{name}", get(v2::metadata))
        .route("/v2/models/{name}/ready", get(v2::model_ready))
        .route("/v2/models/{name}/infer", post(v2::infer))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&app), observe))
        .with_state(app)
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [("content-type", "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint {} {} (see /v2/health/ready, /invocations, /v1/models/NAME:predict, \
         /v2/models/NAME/infer, /metrics)",
        request.method(),
        request.uri().path()
    ))
}

/// Counts every request, and logs it when asked to.
async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = route_of(request.uri().path());
    let line = app
        .log
        .then(|| format!("{} {}", request.method(), request.uri()));
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    app.metrics.request(route, status, took);
    if let Some(line) = line {
        eprintln!("{line} {status} {}us", took.as_micros());
    }
    response
}

/// The route a path belongs to, for the request counter (not the path itself, so that
/// model names and typos do not make new series).
fn route_of(path: &str) -> &'static str {
    match path {
        "/ping" => "ping",
        "/health" => "health",
        "/invocations" => "invocations",
        "/metrics" => "metrics",
        "/v2" => "v2_server",
        p if p.starts_with("/v2/health/") => "v2_health",
        p if p.starts_with("/v2/models/") && p.ends_with("/infer") => "v2_infer",
        p if p.starts_with("/v2/models/") => "v2_model",
        p if p.starts_with("/v1/models/") && p.ends_with(":predict") => "v1_predict",
        p if p.starts_with("/v1/models/") => "v1_model",
        _ => "other",
    }
}
