//! The public pages, the demo at `/` and the dashboard at `/dashboard`, and their static
//! assets, embedded in the binary (no build step, nothing fetched from elsewhere). They are HTML and static files, not JSON API,
//! so they are not in `/openapi.json`; `docs/API.md` lists them under "Pages".
//!
//! The pages talk to the daemon only through the API (the demo: `/model_info`,
//! `/predict?explain=true`, `/feedback`; the dashboard: `/metrics/dashboard`), with the
//! visitor's own credentials if auth is on.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Scripts and styles only from this origin, no inline code, requests only to this
/// origin, and the page may not be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// One embedded file and how it is served.
pub struct Page {
    pub path: &'static str,
    pub content_type: &'static str,
    body: Vec<u8>,
    /// Strong validator: a hash of the body.
    etag: String,
    cache_control: &'static str,
}

/// The HTML pages, by path. Each names the assets below as `/assets/NAME"`, which
/// becomes `/assets/NAME?v=HASH"` (a hash of the asset's content), so assets can be
/// cached for a year and a new build still loads its own.
const HTML_PAGES: &[(&str, &str)] = &[
    ("/", include_str!("../../assets/demo/index.html")),
    (
        "/dashboard",
        include_str!("../../assets/dashboard/index.html"),
    ),
];
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "/assets/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/demo/app.js"),
    ),
    (
        "/assets/app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/demo/app.css"),
    ),
    (
        "/assets/icon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/demo/icon.svg"),
    ),
    (
        "/assets/dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/dashboard/dashboard.js"),
    ),
    (
        "/assets/dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/dashboard/dashboard.css"),
    ),
];

fn content_hash(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..8])
}

/// Every page, built once: the assets, then the HTML pages with their hashes filled in.
pub fn pages() -> &'static [Page] {
    static PAGES: OnceLock<Vec<Page>> = OnceLock::new();
    PAGES.get_or_init(|| {
        let mut pages = Vec::with_capacity(ASSETS.len() + HTML_PAGES.len());
        let mut versioned = Vec::with_capacity(ASSETS.len());
        for &(path, content_type, body) in ASSETS {
            let hash = content_hash(body);
            versioned.push((format!("{path}\""), format!("{path}?v={hash}\"")));
            pages.push(Page {
                path,
                content_type,
                body: body.to_vec(),
                etag: format!("\"{hash}\""),
                cache_control: "public, max-age=31536000, immutable",
            });
        }
        for &(path, html) in HTML_PAGES {
            let body = versioned
                .iter()
                .fold(html.to_string(), |html, (plain, hashed)| {
                    html.replace(plain, hashed)
                })
                .into_bytes();
            pages.push(Page {
                path,
                content_type: "text/html; charset=utf-8",
                etag: format!("\"{}\"", content_hash(&body)),
                body,
                // Always revalidate a page itself, so a new build's asset URLs are seen.
                cache_control: "no-cache",
            });
        }
        pages
    })
}

/// The routes serving [`pages`], for any router state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    pages().iter().fold(Router::new(), |router, page| {
        router.route(
            page.path,
            get(move |headers: HeaderMap| async move { serve(page, &headers) }),
        )
    })
}

fn serve(page: &'static Page, request: &HeaderMap) -> Response {
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == page.etag));
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(page.content_type),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(page.cache_control),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&page.etag).expect("a hex etag is a valid header"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if not_modified {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, page.body.as_slice()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_names_its_assets_with_their_hash_and_nothing_external() {
        let pages = pages();
        let html_of = |path: &str| {
            let page = pages.iter().find(|p| p.path == path).unwrap();
            std::str::from_utf8(&page.body).unwrap().to_string()
        };
        let wanted: &[(&str, &[&str])] = &[
            (
                "/",
                &["/assets/app.js", "/assets/app.css", "/assets/icon.svg"],
            ),
            (
                "/dashboard",
                &[
                    "/assets/dashboard.js",
                    "/assets/dashboard.css",
                    "/assets/icon.svg",
                ],
            ),
        ];
        for &(path, assets) in wanted {
            let html = html_of(path);
            for asset in assets {
                let page = pages.iter().find(|p| p.path == *asset).unwrap();
                let versioned = format!("{asset}?v={}\"", page.etag.trim_matches('"'));
                assert!(html.contains(&versioned), "{path} must load {versioned}");
            }
            for forbidden in ["http://", "https://", "<script>", " style=\"", "<style"] {
                assert!(
                    !html.contains(forbidden),
                    "{path} must not contain {forbidden:?}: the CSP forbids inline code and other hosts"
                );
            }
            // No inline event handlers (onclick=...) either.
            for (at, _) in html.match_indices(" on") {
                let name: String = html[at + 3..]
                    .chars()
                    .take_while(char::is_ascii_lowercase)
                    .collect();
                let after = html[at + 3 + name.len()..].chars().next();
                assert!(
                    name.is_empty() || after != Some('='),
                    "{path} has an inline handler on{name}="
                );
            }
        }
    }
}
