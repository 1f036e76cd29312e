//! Middleware: who is asking (keys, the socket), rate limits, operator-only routes,
//! latency metrics, and JSON bodies for errors that axum or tower produce themselves.

use super::error::ApiError;
use super::route_table::RouteTable;
use crate::auth::Principal;
use crate::rate_limit::Verdict;
use crate::state::SharedState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;
use utoipa::openapi::path::ParameterIn;

/// Which listener a request came in on (set per listener, never by the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Tcp,
    Socket,
}

/// The key a request presents: `Authorization: Bearer KEY` or `X-API-Key: KEY`.
fn presented_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("").trim_start();
        // The scheme name is case-insensitive (RFC 9110 section 11.1): `bearer` too.
        let key = text
            .split_once([' ', '\t'])
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim());
        return match key {
            Some(key) if !key.is_empty() => Ok(Some(key)),
            _ => Err(unauthorized(
                "invalid_authorization",
                "the Authorization header must be `Bearer <api key>`",
            )),
        };
    }
    match headers.get("x-api-key") {
        Some(value) => match value.to_str() {
            Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim())),
            _ => Err(unauthorized(
                "invalid_api_key",
                "the X-API-Key header is empty or not text",
            )),
        },
        None => Ok(None),
    }
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// True when the request's path is a route but its method is not served there: such a
/// request is answered 405 by the router, before (not instead of) auth, so that a
/// client learns the method is wrong rather than that it lacks a key. No handler runs.
fn method_not_served(request: &Request) -> bool {
    let extensions = request.extensions();
    match (
        extensions.get::<RouteTable>(),
        extensions.get::<MatchedPath>(),
    ) {
        (Some(table), Some(path)) => !table.serves(request.method().as_str(), path.as_str()),
        _ => false,
    }
}

/// Works out the [`Principal`], enforces auth and rate limits, and hands it on.
pub async fn authorize(
    State(state): State<SharedState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if method_not_served(&request) {
        return Ok(next.run(request).await);
    }
    let origin = request
        .extensions()
        .get::<Origin>()
        .copied()
        .unwrap_or(Origin::Tcp);
    let principal = match origin {
        Origin::Socket => Principal::Socket,
        Origin::Tcp => match presented_key(request.headers())? {
            Some(key) => {
                let keys = state.keys.load();
                let Some(entry) = keys.authenticate(key) else {
                    return Err(unauthorized(
                        "invalid_api_key",
                        "this API key is not valid (ask an operator for one)",
                    ));
                };
                Principal::Key {
                    name: entry.name.clone(),
                    tier: entry.tier.clone(),
                    role: entry.role,
                }
            }
            None if state.config.auth_required => {
                return Err(unauthorized(
                    "missing_api_key",
                    "this server needs an API key: send `Authorization: Bearer <key>`",
                ))
            }
            None => Principal::Anonymous,
        },
    };
    if let Principal::Key { name, tier, .. } = &principal {
        match state.limits.check(tier, name) {
            Verdict::Allowed => {}
            Verdict::Limited {
                retry_after_seconds,
            } => {
                state.metrics.rate_limited.fetch_add(1, Relaxed);
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("the {tier} tier's request quota is used up; retry in {retry_after_seconds} s"),
                )
                .with_retry_after(retry_after_seconds));
            }
            Verdict::UnknownTier => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "unknown_tier",
                    format!("this key's tier {tier:?} is not configured on this server; ask an operator to fix the key"),
                ))
            }
        }
    }
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

/// Lets only the socket and admin keys through.
pub async fn require_operator(request: Request, next: Next) -> Result<Response, ApiError> {
    if method_not_served(&request) {
        return Ok(next.run(request).await);
    }
    match request.extensions().get::<Principal>() {
        Some(p) if p.is_operator() => Ok(next.run(request).await),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "operator_only",
            "this route is for operators: use the daemon's Unix socket or an admin API key",
        )),
    }
}

/// What [`edge`] needs: the state, the declared query parameters, and the extensions
/// every request carries (the OpenAPI document, the route table, the listener's
/// [`Origin`], the body limit). Inserting those here replaces one `Extension` layer
/// each: a layer on the router wraps every route in another boxed service, cloned and
/// called per request.
#[derive(Clone)]
pub struct Edge {
    pub state: SharedState,
    pub query_params: QueryParams,
    pub extensions: Arc<axum::http::Extensions>,
}

/// The per-request work every route shares, in one layer, since each `from_fn` layer
/// costs a boxed clone of the inner service and a boxed future per request. In order:
/// the shared extensions are added ([`Edge`]); a query parameter the route does not
/// declare is refused ([`unknown_query_parameter`]); the latency is recorded by route
/// and status class; an error without a JSON body gets one ([`json_error_body`]).
pub async fn edge(State(edge): State<Edge>, mut request: Request, next: Next) -> Response {
    request
        .extensions_mut()
        .extend(axum::http::Extensions::clone(&edge.extensions));
    // Cheap clones (a standard method is a tag, a URI and a matched path share their
    // bytes), kept for the error message and the latency's route.
    let method = request.method().clone();
    let uri = request.uri().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let body_limit = request
        .extensions()
        .get::<super::extract::BodyLimit>()
        .map(|l| l.0);
    let started = Instant::now();
    let response = match unknown_query_parameter(&edge.query_params, &request) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    };
    edge.state.metrics.observe(
        route.as_ref().map_or("other", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    json_error_body(response, &method, uri.path(), body_limit)
}

/// Gives every error response the `{error: {code, message}}` body, including those
/// axum and tower make with an empty or plain-text body (404, 405, 408, panics).
fn json_error_body(
    response: Response,
    method: &axum::http::Method,
    uri_path: &str,
    body_limit: Option<usize>,
) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            "not_found",
            format!("no route {uri_path}; see /openapi.json"),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("{uri_path} does not accept {method}; see /openapi.json"),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "the request took too long and was cancelled".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            super::extract::body_too_large(body_limit).message,
        ),
        s if s.is_server_error() => (
            "internal",
            "the server failed on this request; it has been logged".to_string(),
        ),
        StatusCode::BAD_REQUEST => (
            "bad_request",
            format!("{method} {uri_path}: the request is malformed; see /openapi.json"),
        ),
        s => (
            "error",
            format!(
                "{method} {uri_path}: {}; see /openapi.json",
                s.canonical_reason().unwrap_or("error")
            ),
        ),
    };
    let mut fresh = ApiError::new(status, code, message).into_response();
    // Keep headers such as Allow and Retry-After.
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fresh
}

/// The query parameters each operation of the OpenAPI document declares, by method and
/// route path: what [`unknown_query_parameter`] checks against.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(Arc<HashMap<(String, String), Vec<String>>>);

impl QueryParams {
    pub fn of(doc: &utoipa::openapi::OpenApi) -> QueryParams {
        let mut map = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let operations = [
                ("GET", &item.get),
                ("HEAD", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else {
                    continue;
                };
                let names = operation
                    .parameters
                    .iter()
                    .chain(item.parameters.iter())
                    .flatten()
                    .filter(|p| p.parameter_in == ParameterIn::Query)
                    .map(|p| p.name.clone())
                    .collect();
                map.insert((method.to_string(), path.clone()), names);
            }
        }
        QueryParams(Arc::new(map))
    }
}

/// A query parameter the route does not declare, refused (400
/// `unknown_query_parameter`) rather than ignored: `?explian=true` would otherwise
/// silently do nothing. Routes outside the OpenAPI document (the pages) are not checked.
fn unknown_query_parameter(params: &QueryParams, request: &Request) -> Option<ApiError> {
    let (query, path) = (
        request.uri().query()?,
        request.extensions().get::<MatchedPath>()?,
    );
    let key = (
        request.method().as_str().to_string(),
        path.as_str().to_string(),
    );
    let allowed = params.0.get(&key)?;
    let name = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split('=').next().unwrap_or(""))
        .find(|name| !allowed.iter().any(|a| a == name))?;
    let takes = if allowed.is_empty() {
        "no query parameters".to_string()
    } else {
        format!("only {}", allowed.join(", "))
    };
    Some(ApiError::bad_request(
        "unknown_query_parameter",
        format!(
            "unknown query parameter {name:?}: {} {} takes {takes}",
            key.0, key.1
        ),
    ))
}
