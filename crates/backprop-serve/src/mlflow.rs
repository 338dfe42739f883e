//! The MLflow scoring protocol: `GET /ping`, `GET /health` and `POST /invocations`.
//!
//! The body is JSON with exactly one of `dataframe_split`, `dataframe_records`, `instances` or
//! `inputs` (and optionally `"params": {"proba": true}`), or CSV with a header row
//! (`Content-Type: text/csv`). With several models, `?model=NAME` picks one. The answer is
//! `{"predictions": [...]}`: class labels for a classifier (with `?proba=true` or the
//! `proba` param also `"classes"` and `"probabilities"`, one row per input row), values for
//! a regressor (one array per row when it has several outputs).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use backprop_data::request::{Layout, NumericRows};
use backprop_data::{predictions, request};
use serde::Serialize;
use serde_json::Value;

use crate::app::{App, Outputs, Rows, Served};
use crate::reply::{json, parse_with_rows, read_body, rows_of, ApiError};

/// The keys of an MLflow request that hold its rows.
const ROW_KEYS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

/// The row fields read straight into network inputs when they hold numbers and the model's
/// features are all numeric.
const MLFLOW_ROWS: &[(&str, Layout)] = &[
    ("instances", Layout::Rows),
    ("inputs", Layout::Rows),
    ("dataframe_split", Layout::Split),
];

/// `GET /ping`, `GET /health`: 200 while the server runs.
pub async fn ping() -> &'static str {
    "\n"
}

/// `POST /invocations`.
pub async fn invocations(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let _predicting = app.metrics.start_predicting();
    let served = pick(&app, query.get("model").map(String::as_str))?;
    let mut proba = flag(&query, "proba")?;
    let body = read_body(body, app.max_body).await?;
    let pre = &served.model.metadata.preprocessing;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    // Anything but CSV is read as JSON (curl's -d sends a form content type).
    let rows = if content_type.starts_with("text/csv") {
        Rows::Table(request::csv(&body, pre)?)
    } else {
        // Rows of numbers may be read straight into the network's inputs.
        let (value, numeric) =
            parse_with_rows(&body, served, |reader, body| reader.read(body, MLFLOW_ROWS))?;
        let (rows, asked) = read_json(&value, numeric, served)?;
        proba |= asked;
        rows
    };
    let outputs = served.predict_rows(rows, &app).await?;
    answer(served, &outputs, proba)
}

/// The model a request without a model name in its URL is for.
fn pick<'a>(app: &'a App, name: Option<&str>) -> Result<&'a Served, ApiError> {
    match name {
        Some(name) => app.model(name),
        None if app.models.len() == 1 => Ok(app.models.values().next().expect("one model")),
        None => Err(ApiError::bad_request(format!(
            "several models are served: name one with ?model=NAME (the models are: {})",
            app.names()
        ))),
    }
}

/// A boolean query parameter (`true`/`false`, `1`/`0`), false when absent.
pub fn flag(query: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "query parameter {name}={other}: expected true or false"
        ))),
    }
}

/// The rows of an MLflow JSON body (those of `numeric` if it read them), and whether its
/// params ask for probabilities.
fn read_json(
    value: &Value,
    numeric: Option<NumericRows>,
    served: &Served,
) -> Result<(Rows, bool), ApiError> {
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(format!(
            "the body must be a JSON object with one of {}, not {}",
            ROW_KEYS.join(", "),
            request::kind(value)
        )));
    };
    for key in object.keys() {
        if key != "params" && !ROW_KEYS.contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown field \"{key}\" (expected one of {}, and optionally params)",
                ROW_KEYS.join(", ")
            )));
        }
    }
    let present: Vec<&str> = ROW_KEYS
        .into_iter()
        .filter(|k| object.contains_key(*k))
        .collect();
    let [key] = present.as_slice() else {
        return Err(ApiError::bad_request(format!(
            "the body must have exactly one of {}; it has {}",
            ROW_KEYS.join(", "),
            if present.is_empty() {
                "none".to_string()
            } else {
                present.join(", ")
            }
        )));
    };
    let proba = match object.get("params") {
        None => false,
        Some(Value::Object(params)) => match params.get("proba") {
            None | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "params.proba must be true or false, not {}",
                    request::kind(other)
                )))
            }
        },
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "params must be an object, not {}",
                request::kind(other)
            )))
        }
    };
    let pre = &served.model.metadata.preprocessing;
    let rows = &object[*key];
    let rows = rows_of(numeric, key, || match *key {
        "dataframe_split" => request::split(rows, key, pre),
        "dataframe_records" => request::records(rows, key, pre),
        _ => request::instances(rows, key, pre),
    })?;
    Ok((rows, proba))
}

#[derive(Serialize)]
#[serde(untagged)]
enum Predictions<'a> {
    Labels(Vec<&'a str>),
    Values(&'a [f32]),
    Rows(Vec<&'a [f32]>),
}

#[derive(Serialize)]
struct Answer<'a> {
    predictions: Predictions<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<Vec<&'a [f32]>>,
}

/// `{"predictions": [...]}` for `outputs`, with the probabilities when `proba` is set.
pub fn answer(served: &Served, outputs: &Outputs, proba: bool) -> Result<Response, ApiError> {
    let width = served.width();
    let rows = || outputs.values.chunks_exact(width).collect::<Vec<_>>();
    let body = match served.classes() {
        Some(classes) => Answer {
            predictions: Predictions::Labels(predictions::labels(classes, &outputs.values)),
            classes: proba.then_some(classes),
            probabilities: proba.then(rows),
        },
        None if proba => {
            return Err(ApiError::bad_request(format!(
                "proba: the model \"{}\" is a regressor; it has no class probabilities",
                served.name
            )))
        }
        None if width == 1 => Answer {
            predictions: Predictions::Values(&outputs.values),
            classes: None,
            probabilities: None,
        },
        None => Answer {
            predictions: Predictions::Rows(rows()),
            classes: None,
            probabilities: None,
        },
    };
    debug_assert_eq!(outputs.values.len(), outputs.rows * width);
    Ok(json(&body))
}
