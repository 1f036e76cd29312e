//! The routes a built router really serves, read back from the router itself.
//!
//! The OpenAPI document is built from the same declarations as most routes, but a route
//! added with plain axum (the demo page, a quick `.route(...)`) would be served and not
//! documented. `GET /admin/routes` lists what the router holds, so a test can compare
//! it with `/openapi.json` and `docs/API.md` from the outside.
//!
//! axum has no public route listing; its `Debug` output names every path and which
//! methods each one has, so we read that. If a new axum changes that output, parsing
//! finds nothing and [`RouteTable::of`] panics at start-up, loudly, instead of
//! reporting an empty table.

use super::error::ErrorBody;
use super::types::{RouteEntry, RoutesResponse};
use axum::{Extension, Json, Router};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The routes of one built router.
#[derive(Debug, Clone)]
pub struct RouteTable(Arc<Vec<RouteEntry>>);

const METHODS: [&str; 9] = [
    "get", "head", "delete", "options", "patch", "post", "put", "trace", "connect",
];

impl RouteTable {
    pub fn of<S>(router: &Router<S>) -> RouteTable {
        let routes = parse_router_debug(&format!("{router:?}"));
        assert!(
            !routes.is_empty(),
            "cannot read the routes back from this axum version's Router Debug output"
        );
        RouteTable(Arc::new(routes))
    }

    /// Whether `method` is served on the route declared as `path` (HEAD with GET).
    pub fn serves(&self, method: &str, path: &str) -> bool {
        self.0.iter().any(|r| {
            r.path == path
                && (r.method == method
                    || r.method == "ANY"
                    || (method == "HEAD" && r.method == "GET"))
        })
    }
}

/// Reads `path_router`'s `node: Node { paths: {RouteId(n): "/path", ...} }` and, for
/// each id, the methods its `MethodRouter { get: .., post: .., ... }` has set. Only
/// the first `Node` counts: the ones after it belong to the fallback router.
fn parse_router_debug(debug: &str) -> Vec<RouteEntry> {
    let Some(node_at) = debug.find("node: Node { paths: {") else {
        return Vec::new();
    };
    let paths = parse_paths(&debug[node_at + "node: Node { paths: {".len()..]);
    let routes_part = debug[..node_at]
        .split_once("routes: {")
        .map_or("", |(_, rest)| rest);
    let mut entries = Vec::new();
    for (id, path) in paths {
        let marker = format!("RouteId({id}): ");
        let methods: Vec<String> = match routes_part.find(&marker) {
            Some(at) => {
                let rest = &routes_part[at + marker.len()..];
                let end = rest.find("RouteId(").unwrap_or(rest.len());
                let segment = &rest[..end];
                let set: Vec<String> = METHODS
                    .iter()
                    .filter(|m| {
                        [format!("{{ {m}: "), format!(", {m}: ")]
                            .iter()
                            .any(|field| {
                                segment.find(field.as_str()).is_some_and(|i| {
                                    !segment[i + field.len()..].starts_with("None")
                                })
                            })
                    })
                    .map(|m| m.to_uppercase())
                    .collect();
                if set.is_empty() {
                    // A service mounted with route_service: any method.
                    vec!["ANY".to_string()]
                } else {
                    set
                }
            }
            None => vec!["ANY".to_string()],
        };
        for method in methods {
            entries.push(RouteEntry {
                method,
                path: path.clone(),
            });
        }
    }
    entries.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    entries
}

/// `RouteId(3): "/a", RouteId(7): "/b/{id}"}` -> {3: "/a", 7: "/b/{id}"}.
fn parse_paths(mut rest: &str) -> BTreeMap<u64, String> {
    let mut paths = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        let Some(after) = rest.strip_prefix("RouteId(") else {
            return paths;
        };
        let Some((id, after)) = after.split_once("): \"") else {
            return paths;
        };
        // Paths never hold a quote, so the next one closes the string.
        let Some(close) = after.find('"') else {
            return paths;
        };
        let path = after[..close].to_string();
        let end = close + 1;
        if let Ok(id) = id.parse() {
            paths.insert(id, path);
        }
        rest = &after[end..];
    }
}

/// The routes this listener's router serves: the JSON API and the demo page's files.
#[utoipa::path(
    get, path = "/admin/routes", tag = "operator",
    responses(
        (status = 200, description = "Every method and path served", body = RoutesResponse),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
    )
)]
pub async fn list_routes(Extension(table): Extension<RouteTable>) -> Json<RoutesResponse> {
    Json(RoutesResponse {
        routes: table.0.as_ref().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};

    async fn ok() -> &'static str {
        "ok"
    }

    #[test]
    fn reads_every_path_and_method_back_from_a_router() {
        let router: Router = Router::new()
            .route("/a", get(ok))
            .route("/b/{id}", get(ok).post(ok).delete(ok))
            .merge(Router::new().route("/c", post(ok)))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                std::time::Duration::from_secs(1),
            ))
            .fallback(ok);
        let table = RouteTable::of(&router);
        let found: Vec<(String, String)> = table
            .0
            .iter()
            .map(|r| (r.method.clone(), r.path.clone()))
            .collect();
        let expected: Vec<(String, String)> = [
            ("GET", "/a"),
            ("DELETE", "/b/{id}"),
            ("GET", "/b/{id}"),
            ("POST", "/b/{id}"),
            ("POST", "/c"),
        ]
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
        assert_eq!(found, expected);
    }
}
