//! Extractors whose every failure is an [`ApiError`] with the right status and a
//! specific code: for JSON bodies 415 for a missing or wrong content type, 413 for a
//! body over the limit (stating it), 400 for anything that is not the JSON object the
//! route expects (syntax, nesting, encoding, types, a bare array); 400 for bad path
//! and query parameters.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

/// The body limit in force (`limits.max_body_bytes`), put in every request's
/// extensions by the router so that a 413 can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(request.headers()) {
            return Err(unsupported_media_type());
        }
        let limit = request.extensions().get::<BodyLimit>().map(|l| l.0);
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                body_too_large(limit)
            } else {
                ApiError::new(e.status(), "unreadable_body", e.body_text())
            }
        })?;
        // Every body of this API is a JSON object. serde would read a struct from an
        // array of its fields in order (`["text"]`), which no client means to send.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') && serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
            return Err(ApiError::bad_request(
                "invalid_request",
                "the body is a JSON array; send a JSON object such as {\"text\": \"...\"} \
                 (see /openapi.json for this route's body)",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json` or any `+json` type, as axum's own `Json` extractor accepts.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with the header Content-Type: application/json",
    )
}

/// 413 for a body over the limit, naming the limit when it is known.
pub fn body_too_large(limit: Option<usize>) -> ApiError {
    let message = match limit {
        Some(bytes) => format!(
            "the request body is larger than this server accepts: at most {bytes} bytes \
             (limits.max_body_bytes); send less, e.g. split a batch"
        ),
        None => "the request body is larger than this server accepts (limits.max_body_bytes); \
                 send less, e.g. split a batch"
            .to_string(),
    };
    ApiError::too_large("body_too_large", message)
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "invalid_json",
            format!("the body is not valid JSON: {}", source_text(&e)),
        ),
        JsonRejection::JsonDataError(e) => ApiError::bad_request(
            "invalid_request",
            format!(
                "the JSON does not match what this route expects: {}",
                source_text(&e)
            ),
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            body_too_large(None)
        }
        other => ApiError::new(other.status(), "invalid_body", other.body_text()),
    }
}

/// serde's message without axum's prefix ("Failed to deserialize the JSON body into
/// the target type: ...").
fn source_text(error: &dyn std::error::Error) -> String {
    let mut current: &dyn std::error::Error = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// A query-string extractor that reports bad parameters as a 400 [`ApiError`].
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid_query",
                    format!(
                        "bad query parameters: {}; see /openapi.json for the ones this route takes",
                        source_text(&e)
                    ),
                )
            })
    }
}

/// A path-parameter extractor that reports a bad value (`/admin/queue/abc`) as a 400
/// [`ApiError`] with code `invalid_path` and what was expected.
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid_path",
                    format!(
                        "{path}: {}; ids in paths are whole numbers, as the listings show them",
                        source_text(&e)
                    ),
                )
            })
    }
}
