//! One HTTP/1.1 request at a time over the daemon's Unix socket.
//!
//! Each request opens its own connection: a local socket connect costs microseconds,
//! and it means a daemon restart can never leave the console holding a dead pooled
//! connection.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::ErrorBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::UnixStream;

/// How long a snapshot or action may take before the console gives up on it. The
/// daemon answers these in milliseconds; this only bounds a wedged daemon.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the daemon at {path}: {source} (is `sentimentd serve` running?)")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the daemon does not offer {0} (an older daemon?)")]
    NotAvailable(String),
    #[error("{code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("unexpected reply: {0}")]
    Decode(String),
}

impl ApiError {
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
}

impl Client {
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Client {
            socket: socket.into(),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Sends a request and returns the response with its body unread (for `/events`).
    pub async fn open(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response<Incoming>, ApiError> {
        let stream =
            UnixStream::connect(&self.socket)
                .await
                .map_err(|source| ApiError::Connect {
                    path: self.socket.clone(),
                    source,
                })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ApiError::Http(e.to_string()))?;
        // The connection future drives the socket; it ends when the response is done.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "sentimentd")
            .header(hyper::header::ACCEPT, "application/json");
        if body.is_some() {
            req = req.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ApiError::Http(e.to_string()))?;
        sender
            .send_request(req)
            .await
            .map_err(|e| ApiError::Http(e.to_string()))
    }

    /// A whole request: status checked, JSON body decoded, bounded by a timeout.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ApiError> {
        let work = async {
            let resp = self.open(method, path, body).await?;
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| ApiError::Http(e.to_string()))?
                .to_bytes();
            decode(path, status, &bytes)
        };
        tokio::time::timeout(REQUEST_TIMEOUT, work)
            .await
            .map_err(|_| ApiError::Timeout(REQUEST_TIMEOUT))?
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        let body = serde_json::to_vec(body).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.call(Method::POST, path, Some(body)).await
    }
}

fn decode<T: DeserializeOwned>(
    path: &str,
    status: StatusCode,
    bytes: &[u8],
) -> Result<T, ApiError> {
    if status.is_success() {
        return serde_json::from_slice(bytes).map_err(|e| ApiError::Decode(format!("{path}: {e}")));
    }
    let error = serde_json::from_slice::<ErrorBody>(bytes)
        .ok()
        .map(|b| b.error);
    let code = error
        .as_ref()
        .map_or_else(|| status.as_str().to_owned(), |e| e.code.clone());
    // A 404 for a route (not for an item) means this daemon predates the feature.
    if status == StatusCode::NOT_FOUND && code == "not_found" {
        let route = path.split('?').next().unwrap_or(path);
        return Err(ApiError::NotAvailable(route.to_owned()));
    }
    Err(ApiError::Api {
        status: status.as_u16(),
        message: error.map_or_else(
            || String::from_utf8_lossy(bytes).into_owned(),
            |e| e.message,
        ),
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_daemons_code_and_route_404s_read_as_not_available() {
        let e = decode::<serde_json::Value>(
            "/admin/retrain",
            StatusCode::NOT_FOUND,
            br#"{"error":{"code":"not_found","message":"no route"}}"#,
        )
        .unwrap_err();
        assert!(matches!(e, ApiError::NotAvailable(ref r) if r == "/admin/retrain"));
        let e = decode::<serde_json::Value>(
            "/admin/retrain",
            StatusCode::CONFLICT,
            br#"{"error":{"code":"already_running","message":"a retrain is running"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), Some("already_running"));
        assert_eq!(e.to_string(), "already_running: a retrain is running");
    }
}
