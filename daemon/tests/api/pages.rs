//! The demo page, the dashboard and their assets: public, typed, with a CSP and cache headers, outside
//! the OpenAPI document. (The page in a real browser: tests/browser.rs.)

use crate::common::app::{App, Via};

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_types_csp_and_cache_headers() {
    let app = App::with(|c| c.auth_required = true);
    // Public even when the API needs keys: the page explains what to do.
    let pages: [(&str, &[(&str, &str)]); 2] = [
        (
            "/",
            &[
                ("/assets/app.js", "text/javascript; charset=utf-8"),
                ("/assets/app.css", "text/css; charset=utf-8"),
                ("/assets/icon.svg", "image/svg+xml"),
            ],
        ),
        (
            "/dashboard",
            &[
                ("/assets/dashboard.js", "text/javascript; charset=utf-8"),
                ("/assets/dashboard.css", "text/css; charset=utf-8"),
                ("/assets/icon.svg", "image/svg+xml"),
            ],
        ),
    ];
    for (path, assets) in pages {
        check_page(&app, path, assets).await;
    }
    // Not JSON API: no page route is in the OpenAPI document.
    let doc = app.get("/openapi.json").await.json();
    for path in ["/", "/dashboard", "/assets/app.js", "/assets/dashboard.js"] {
        assert!(
            doc["paths"].get(path).is_none(),
            "{path} is in the API document"
        );
    }
}

async fn check_page(app: &App, path: &str, assets: &[(&str, &str)]) {
    let page = app.get(path).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let html = page.text();
    for &(asset, content_type) in assets {
        let at = html
            .find(&format!("{asset}?v="))
            .unwrap_or_else(|| panic!("{asset} not loaded by the page"));
        let versioned = &html[at..at + html[at..].find('"').unwrap()];
        let r = app.get(versioned).await;
        assert_eq!(r.status, 200, "{versioned}");
        assert_eq!(r.header("content-type"), Some(content_type));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.header("cache-control").unwrap().contains("immutable"));
        // Revalidation by ETag.
        let etag = r.header("etag").unwrap().to_string();
        let again = app
            .request(Via::Tcp, "GET", versioned, &[("If-None-Match", &etag)], b"")
            .await;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
    }
}
