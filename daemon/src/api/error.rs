//! The one error shape every route returns: `{"error": {"code": ..., "message": ...}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
pub use sentiment_protocol::{ErrorBody, ErrorDetail};

/// An error as the API reports it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to put in `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn too_large(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    pub fn with_retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, code = self.code, "{}", self.message);
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<sentiment_data::store::StoreError> for ApiError {
    fn from(error: sentiment_data::store::StoreError) -> ApiError {
        use sentiment_data::store::StoreError;
        let message = format!("the store could not do that: {error}");
        // A full disk and a read-only data directory get their own codes (and 507 for
        // the full disk, as WebDAV defined it): a client or an operator's alerting can
        // tell them from a transient failure, and the message says what to fix.
        // Retry-After because both clear up once an operator acts, without a restart.
        match error {
            StoreError::DiskFull { .. } => {
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "disk_full", message)
                    .with_retry_after(30)
            }
            StoreError::ReadOnly { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "read_only", message)
                    .with_retry_after(30)
            }
            _ => ApiError::unavailable(message),
        }
    }
}
