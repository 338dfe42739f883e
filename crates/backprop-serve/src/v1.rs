//! TF Serving's REST API and KServe's V1 protocol: `GET /v1/models/NAME` (the model's status)
//! and `POST /v1/models/NAME:predict` with `{"instances": [...]}` (rows: objects of column
//! values, or arrays of the feature columns in training order) or TF Serving's columnar
//! `{"inputs": {"column": [...]}}`, answered with `{"predictions": [...]}` as
//! [`crate::mlflow`] answers (`?proba=true` or `"params": {"proba": true}` adds the
//! probabilities).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use backprop_data::request::{self, Layout};
use serde_json::{json, Value};

use crate::app::App;
use crate::mlflow::{answer, flag};
use crate::reply::{self, parse_with_rows, read_body, rows_of, ApiError};

/// `GET /v1/models/NAME`: TF Serving's model status.
pub async fn status(
    State(app): State<Arc<App>>,
    Path(spec): Path<String>,
) -> Result<Response, ApiError> {
    if spec.contains(':') {
        return Err(ApiError::not_found(format!(
            "GET /v1/models/{spec}: use POST for :predict"
        )));
    }
    app.model(&spec)?;
    Ok(reply::json(&json!({
        "model_version_status": [{
            "version": "1",
            "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""}
        }]
    })))
}

/// `POST /v1/models/NAME:predict`.
pub async fn predict(
    State(app): State<Arc<App>>,
    Path(spec): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Result<Response, ApiError> {
    let _predicting = app.metrics.start_predicting();
    let Some(name) = spec.strip_suffix(":predict") else {
        return Err(ApiError::not_found(format!(
            "POST /v1/models/{spec}: the verb is NAME:predict"
        )));
    };
    let served = app.model(name)?;
    let mut proba = flag(&query, "proba")?;
    let body = read_body(body, app.max_body).await?;
    let (value, numeric) = parse_with_rows(&body, served, |reader, body| {
        reader.read(
            body,
            &[("instances", Layout::Rows), ("inputs", Layout::Rows)],
        )
    })?;
    let Value::Object(object) = &value else {
        return Err(ApiError::bad_request(format!(
            "the body must be a JSON object with \"instances\", not {}",
            request::kind(&value)
        )));
    };
    for key in object.keys() {
        if !["instances", "inputs", "signature_name", "params"].contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown field \"{key}\" (expected \"instances\" or \"inputs\")"
            )));
        }
    }
    if let Some(Value::Object(params)) = object.get("params") {
        proba |= params.get("proba") == Some(&Value::Bool(true));
    }
    let pre = &served.model.metadata.preprocessing;
    let rows = match (object.get("instances"), object.get("inputs")) {
        (Some(rows), None) => rows_of(numeric, "instances", || {
            request::instances(rows, "instances", pre)
        })?,
        (None, Some(columns)) => rows_of(numeric, "inputs", || {
            request::instances(columns, "inputs", pre)
        })?,
        _ => {
            return Err(ApiError::bad_request(
                "the body must have exactly one of \"instances\" and \"inputs\"",
            ))
        }
    };
    let outputs = served.predict_rows(rows, &app).await?;
    answer(served, &outputs, proba)
}
