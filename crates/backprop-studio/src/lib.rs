//! `backprop studio`: watch and steer training in the browser.
//!
//! One page, its assets embedded in the binary (no CDN, nothing fetched at run time), served
//! by the same axum stack as `backprop serve`. This first version is the playground: the
//! built-in 2-D datasets (xor, moons, circles, spirals, regression), input features of the
//! plane (x, y, x², y², xy, sines, cosines), layers, activation, optimizer, learning rate,
//! batch size, L2 and dropout; start, pause, step, reset; the decision boundary as a live
//! heatmap under the points and the training and validation loss curves; the whole state in
//! the page's URL, so a link reproduces a run bit for bit.
//!
//! The HTTP interface the page uses:
//!
//! - `GET /api/run?SETTINGS` ([`settings::Settings`], the page's own query string): a
//!   Server-Sent Events stream of one run, trained on a thread of its own (see [`run`]):
//!   `start` (the run's id, the points, the grid's geometry), `progress` (new epochs'
//!   `[epoch, train loss, validation loss]` and, when due, the grid's shades), then `done`
//!   (`stop_reason`) or `error` (`message`, for bad settings too). Closing the stream stops
//!   the run.
//! - `POST /api/runs/ID/pause`, `resume`, `step` (one more epoch, then paused), `stop`.

pub mod neurons;
pub mod run;
pub mod settings;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use run::RunControl;
use settings::Settings;

/// The page.
const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The page's script (plain ES2017, no build step).
const STUDIO_JS: &str = include_str!("../assets/studio.js");
/// The page's style sheet.
const STUDIO_CSS: &str = include_str!("../assets/studio.css");

/// Where to listen.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address (loopback by default: the studio runs whatever a page asks).
    pub host: String,
    /// The port (0: any free one; the address is passed to `ready`).
    pub port: u16,
    /// The most runs at once ([`MAX_RUNS`] in `backprop studio`).
    pub max_runs: usize,
}

/// The most runs at once by default (one per open page); a page past it is told so.
pub const MAX_RUNS: usize = 8;

/// The runs in progress, by id.
struct Studio {
    max_runs: usize,
    next_id: AtomicU64,
    runs: Mutex<HashMap<u64, Arc<RunControl>>>,
}

/// Serves the studio until SIGTERM or Ctrl-C; `ready` is called with the bound address once
/// it accepts connections.
///
/// # Errors
/// If the address cannot be bound or the runtime cannot start.
pub fn serve(config: &Config, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listen = backprop_serve::Listen {
        host: &config.host,
        port: config.port,
        thread_name: "backprop-studio-http",
        worker_threads: Some(2),
    };
    backprop_serve::serve_until_stopped(&listen, || router(config.max_runs), ready)
}

/// The studio's routes, for at most `max_runs` runs at once.
pub fn router(max_runs: usize) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/studio.js",
            get(|| async { asset("text/javascript; charset=utf-8", STUDIO_JS) }),
        )
        .route(
            "/studio.css",
            get(|| async { asset("text/css; charset=utf-8", STUDIO_CSS) }),
        )
        .route("/api/run", get(start_run))
        .route("/api/runs/{id}/{action}", post(control_run))
        .with_state(Arc::new(Studio {
            max_runs,
            next_id: AtomicU64::new(0),
            runs: Mutex::default(),
        }))
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Forgets a run and stops it when its stream is dropped (the page closed it or went away).
struct Forget {
    studio: Arc<Studio>,
    id: u64,
    control: Arc<RunControl>,
}

impl Drop for Forget {
    fn drop(&mut self) {
        self.control.stop();
        self.studio
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

async fn start_run(State(studio): State<Arc<Studio>>, RawQuery(query): RawQuery) -> Response {
    let (reports, receiver) = tokio::sync::mpsc::channel::<run::Report>(16);
    let running = studio.runs.lock().unwrap_or_else(|e| e.into_inner()).len();
    let plan = serde_urlencoded::from_str::<Settings>(query.as_deref().unwrap_or(""))
        .map_err(|e| format!("invalid settings: {e}"))
        .and_then(|s| s.plan())
        .and_then(|plan| {
            if running >= studio.max_runs {
                Err(format!(
                    "{running} runs are in progress, the most at once: close another page or \
                     stop its run first"
                ))
            } else {
                Ok(plan)
            }
        });
    let forget = match plan {
        Ok(plan) => {
            let id = studio.next_id.fetch_add(1, Ordering::Relaxed) + 1;
            let control = Arc::new(RunControl::default());
            studio
                .runs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, control.clone());
            run::start(plan, id, control.clone(), reports);
            Some(Forget {
                studio,
                id,
                control,
            })
        }
        Err(message) => {
            // Told as the stream's only event: an EventSource cannot read an error's body.
            let _ = reports.try_send(("error", json!({ "message": message }).to_string()));
            None
        }
    };
    let stream = futures_util::stream::unfold((receiver, forget), |state| async move {
        let (mut receiver, forget) = state;
        let (name, data) = receiver.recv().await?;
        Some((
            Ok::<_, Infallible>(Event::default().event(name).data(data)),
            (receiver, forget),
        ))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn control_run(
    State(studio): State<Arc<Studio>>,
    Path((id, action)): Path<(u64, String)>,
) -> Response {
    let control = studio
        .runs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned();
    let Some(control) = control else {
        return json_error(StatusCode::NOT_FOUND, format!("no run {id} in progress"));
    };
    match action.as_str() {
        "pause" => control.pause(),
        "resume" => control.resume(),
        "step" => control.step(),
        "stop" => control.stop(),
        other => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("unknown action {other:?} (pause, resume, step, stop)"),
            );
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `{"error": message}` with `status`.
fn json_error(status: StatusCode, message: String) -> Response {
    let body = json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
