//! The Open Inference Protocol (KServe V2, Triton) over REST: `GET /v2`,
//! `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2/models/NAME`,
//! `GET /v2/models/NAME/ready` and `POST /v2/models/NAME/infer`.
//!
//! An inference request's `inputs` are one tensor per feature column (named by the column,
//! shape `[N]` or `[N, 1]`, `FP32`/`FP64`/`INT*` for numbers, `BYTES` for text, `BOOL`), or one
//! tensor `[N, F]` of the `F` feature columns in training order (see
//! [`backprop_data::request::tensors`]). The outputs are named as in the model exported to
//! ONNX: a classifier's `label` (`BYTES`, `[N]`) and `probabilities` (`FP32`, `[N, C]`), a
//! regressor's `variable` (`FP32`, `[N, outputs]`); the request's `outputs` may pick some.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use backprop_data::request::Layout;
use backprop_data::{predictions, request, Encoding};
use serde::Serialize;
use serde_json::{json, Value};

use crate::app::{App, Served};
use crate::reply::{self, parse_with_rows, read_body, rows_of, ApiError};

/// `GET /v2`: the server's metadata.
pub async fn server() -> Response {
    reply::json(&json!({
        "name": "backprop",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": []
    }))
}

/// `GET /v2/health/live`.
pub async fn live() -> Response {
    reply::json(&json!({"live": true}))
}

/// `GET /v2/health/ready`: the models are loaded before the server listens, so it is ready
/// as soon as it answers.
pub async fn ready() -> Response {
    reply::json(&json!({"ready": true}))
}

/// `GET /v2/models/NAME/ready`.
pub async fn model_ready(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    app.model(&name)?;
    Ok(reply::json(&json!({"name": name, "ready": true})))
}

#[derive(Serialize)]
struct TensorInfo {
    name: String,
    datatype: &'static str,
    shape: Vec<i64>,
}

/// `GET /v2/models/NAME`: the model's inputs and outputs.
pub async fn metadata(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let served = app.model(&name)?;
    let pre = &served.model.metadata.preprocessing;
    let inputs: Vec<TensorInfo> = pre
        .features
        .iter()
        .map(|f| TensorInfo {
            name: f.name.clone(),
            datatype: match f.encoding {
                Encoding::Numeric { .. } => "FP32",
                Encoding::Boolean { .. } => "BOOL",
                _ => "BYTES",
            },
            shape: vec![-1, 1],
        })
        .collect();
    let width = served.width() as i64;
    let outputs = match served.classes() {
        Some(_) => vec![
            TensorInfo {
                name: "label".into(),
                datatype: "BYTES",
                shape: vec![-1],
            },
            TensorInfo {
                name: "probabilities".into(),
                datatype: "FP32",
                shape: vec![-1, width],
            },
        ],
        None => vec![TensorInfo {
            name: "variable".into(),
            datatype: "FP32",
            shape: vec![-1, width],
        }],
    };
    Ok(reply::json(&json!({
        "name": name,
        "versions": ["1"],
        "platform": "backprop",
        "inputs": inputs,
        "outputs": outputs,
    })))
}

#[derive(Serialize)]
#[serde(untagged)]
enum Data<'a> {
    Labels(Vec<&'a str>),
    Numbers(&'a [f32]),
}

#[derive(Serialize)]
struct OutputTensor<'a> {
    name: &'static str,
    datatype: &'static str,
    shape: Vec<usize>,
    data: Data<'a>,
}

#[derive(Serialize)]
struct InferResponse<'a> {
    model_name: &'a str,
    model_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    outputs: Vec<OutputTensor<'a>>,
}

/// `POST /v2/models/NAME/infer`.
pub async fn infer(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let _predicting = app.metrics.start_predicting();
    let served = app.model(&name)?;
    let body = read_body(body, app.max_body).await?;
    // One tensor [N, F] of numbers may be read straight into the network's inputs.
    let (value, numeric) = parse_with_rows(&body, served, |reader, body| {
        reader.read(body, &[("inputs", Layout::Tensor)])
    })?;
    let Value::Object(object) = &value else {
        return Err(ApiError::bad_request(format!(
            "the body must be a JSON object with \"inputs\", not {}",
            request::kind(&value)
        )));
    };
    for key in object.keys() {
        if !["id", "parameters", "inputs", "outputs"].contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown field \"{key}\" (expected id, parameters, inputs and outputs)"
            )));
        }
    }
    let wanted = requested_outputs(object.get("outputs"), served)?;
    let inputs = object
        .get("inputs")
        .ok_or_else(|| ApiError::bad_request("the body has no \"inputs\""))?;
    let pre = &served.model.metadata.preprocessing;
    let rows = rows_of(numeric, "inputs", || request::tensors(inputs, pre))?;
    let outputs = served.predict_rows(rows, &app).await?;
    let width = served.width();
    let mut tensors = Vec::new();
    for name in wanted {
        tensors.push(match (name, served.classes()) {
            ("label", Some(classes)) => OutputTensor {
                name: "label",
                datatype: "BYTES",
                shape: vec![outputs.rows],
                data: Data::Labels(predictions::labels(classes, &outputs.values)),
            },
            (name, _) => OutputTensor {
                name,
                datatype: "FP32",
                shape: vec![outputs.rows, width],
                data: Data::Numbers(&outputs.values),
            },
        });
    }
    Ok(reply::json(&InferResponse {
        model_name: &served.name,
        model_version: "1",
        id: object.get("id"),
        outputs: tensors,
    }))
}

/// The names of the outputs to answer with: those the request asks for, or all.
fn requested_outputs(
    asked: Option<&Value>,
    served: &Served,
) -> Result<Vec<&'static str>, ApiError> {
    let known: &[&'static str] = match served.classes() {
        Some(_) => &["label", "probabilities"],
        None => &["variable"],
    };
    let Some(asked) = asked else {
        return Ok(known.to_vec());
    };
    let Value::Array(asked) = asked else {
        return Err(ApiError::bad_request(format!(
            "outputs must be an array of {{\"name\": ...}}, not {}",
            request::kind(asked)
        )));
    };
    asked
        .iter()
        .enumerate()
        .map(|(i, output)| {
            let name = output.get("name").and_then(Value::as_str).ok_or_else(|| {
                ApiError::bad_request(format!("outputs[{i}]: \"name\" (a string) is missing"))
            })?;
            known.iter().find(|k| **k == name).copied().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "outputs[{i}]: the model has no output \"{name}\" (it has: {})",
                    known.join(", ")
                ))
            })
        })
        .collect()
}
