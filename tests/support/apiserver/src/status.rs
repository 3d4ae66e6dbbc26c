//! Error answers as `metav1.Status` objects, the shape kube-rs and kubectl parse.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kube_memstore::StoreError;
use serde_json::json;

/// A failed request: HTTP code, Kubernetes reason and a message for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason_for(code),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// Store errors; `creating` makes a 409 an `AlreadyExists` rather than a `Conflict`.
    pub fn from_store(error: StoreError, creating: bool) -> Self {
        match error {
            StoreError::NotFound(m) => Self::new(404, m),
            StoreError::Conflict(m) if creating => Self {
                code: 409,
                reason: "AlreadyExists",
                message: m,
            },
            StoreError::Conflict(m) => Self::new(409, m),
            StoreError::Invalid(m) => Self::new(422, m),
        }
    }
}

/// The reason Kubernetes gives with each code.
fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": code.as_u16(),
        });
        (code, Json(body)).into_response()
    }
}
