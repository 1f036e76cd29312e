//! The service in-process, as axum's `examples/testing` does it: `sentimentd::app`
//! (what the TCP listener serves) and `sentimentd::socket_app` (the operator socket)
//! on the state `serve` builds, over a fresh data directory holding the inline model,
//! called with `tower::ServiceExt::oneshot`. No process, no socket, no SST-2: a test
//! starts in milliseconds. What the listeners add to a request (the caller's address)
//! is added here the same way.

use super::fixtures::inline_model_data_dir;
use super::http::Response;
use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use sentimentd::{ClientAddr, ServeConfig, SharedState};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use tower::ServiceExt;

/// Which listener a request comes in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// TCP, from 127.0.0.1.
    Tcp,
    /// The operator socket: no address, no key needed.
    Socket,
}

/// The service on its own data directory (removed on drop unless the test failed).
pub struct App {
    pub state: SharedState,
    pub data_dir: PathBuf,
    tcp: axum::Router,
    socket: axum::Router,
}

/// The configuration the process harness gives `serve` (see `Daemon::start_in_env`):
/// the defaults, except that the daemon neither retrains on feedback by itself nor
/// draws audit samples.
pub fn test_config(data_dir: PathBuf) -> ServeConfig {
    let mut config = ServeConfig::new(data_dir);
    config.retrain.after_feedback = 0;
    config.audit_share = 0.0;
    config
}

impl App {
    /// The service with the test defaults.
    pub fn new() -> App {
        App::with(|_| {})
    }

    /// The service with the test defaults changed by `configure`.
    pub fn with(configure: impl FnOnce(&mut ServeConfig)) -> App {
        let data_dir = inline_model_data_dir();
        let mut config = test_config(data_dir.clone());
        configure(&mut config);
        let state = sentimentd::open_state(config).expect("the state opens");
        App {
            tcp: sentimentd::app(state.clone()),
            socket: sentimentd::socket_app(state.clone()),
            state,
            data_dir,
        }
    }

    /// Sends one request; the body of an event stream is not read (it never ends).
    pub async fn request(
        &self,
        via: Via,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        // As the HTTP client sends it.
        if !body.is_empty() || method == "POST" {
            builder = builder.header(header::CONTENT_LENGTH, body.len());
        }
        let mut request = builder.body(Body::from(body.to_vec())).unwrap();
        let (router, client) = match via {
            Via::Tcp => (&self.tcp, Some(IpAddr::V4(Ipv4Addr::LOCALHOST))),
            Via::Socket => (&self.socket, None),
        };
        request.extensions_mut().insert(ClientAddr(client));
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let streaming = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let body = if streaming {
            Vec::new()
        } else {
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec()
        };
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Via::Tcp, "GET", path, &[], b"").await
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.send_json(Via::Tcp, path, &[], body).await
    }

    pub async fn post_json_with_key(
        &self,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> Response {
        let auth = format!("Bearer {key}");
        self.send_json(Via::Tcp, path, &[("Authorization", &auth)], body)
            .await
    }

    /// GET on the operator socket.
    pub async fn socket_get(&self, path: &str) -> Response {
        self.request(Via::Socket, "GET", path, &[], b"").await
    }

    /// POST JSON on the operator socket.
    pub async fn socket_post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.send_json(Via::Socket, path, &[], body).await
    }

    pub async fn send_json(
        &self,
        via: Via,
        path: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Response {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        self.request(via, "POST", path, &all, body.to_string().as_bytes())
            .await
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = self.state.store.flush();
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}
