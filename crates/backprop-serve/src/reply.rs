//! What every endpoint answers with: JSON bodies, and errors as `{"error": "..."}` with the
//! status that fits (400 for a bad request, 404 for an unknown model, 413 for a body over the
//! limit, 503 when the queue is full).

use axum::body::{to_bytes, Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use backprop_data::request::{Body as NumericBody, NumericReader, NumericRows};
use serde::Serialize;

use crate::app::{Rows, Served};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, naming the field and the row where that applies.
    pub message: String,
}

impl ApiError {
    /// A 400 answer.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// A 404 answer.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl From<backprop_data::Error> for ApiError {
    fn from(error: backprop_data::Error) -> Self {
        Self::bad_request(error.to_string())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json(&ErrorBody {
            error: &self.message,
        });
        *response.status_mut() = self.status;
        response
    }
}

/// A 200 answer with `value` as JSON.
pub fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the answer: {e}"),
        )
            .into_response(),
    }
}

/// The whole body, or a 413 answer once it passes `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|cause| cause.to_string().contains("length limit"));
        if too_large || e.to_string().contains("length limit") {
            ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: format!("the body is over the limit of {limit} bytes (--max-body)"),
            }
        } else {
            ApiError::bad_request(format!("cannot read the body: {e}"))
        }
    })
}

/// The body parsed as JSON, or a 400 answer saying where it is malformed.
pub fn parse_json(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not valid JSON: {e} (NaN and Infinity are not JSON: send null for a \
             missing value)"
        ))
    })
}

/// The body parsed as JSON, with its rows read straight into network inputs by `read` when the
/// model's features are all numeric and `read` can (see
/// [`backprop_data::request::NumericReader`]; the rows' field then holds `null` in the
/// value). Otherwise as [`parse_json`], errors included.
pub fn parse_with_rows(
    body: &[u8],
    served: &Served,
    read: impl FnOnce(&NumericReader, &[u8]) -> Option<NumericBody>,
) -> Result<(serde_json::Value, Option<NumericRows>), ApiError> {
    let fast = served.numeric.as_ref().and_then(|r| read(r, body));
    match fast {
        Some(NumericBody { fields, rows }) => Ok((serde_json::Value::Object(fields), rows)),
        None => Ok((parse_json(body)?, None)),
    }
}

/// The rows of field `field`: those [`parse_with_rows`] read, if they came from that field,
/// else a table made by `table` from its value.
pub fn rows_of(
    numeric: Option<NumericRows>,
    field: &str,
    table: impl FnOnce() -> Result<backprop_data::Table, backprop_data::Error>,
) -> Result<Rows, ApiError> {
    match numeric {
        Some(NumericRows {
            field: from,
            rows,
            x,
        }) if from == field => Ok(Rows::Encoded { rows, x }),
        _ => Ok(Rows::Table(table()?)),
    }
}
