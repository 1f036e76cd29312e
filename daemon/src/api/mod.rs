//! The HTTP API: one router, served on TCP and on the operator socket.
//!
//! Routes are declared with utoipa-axum, so the OpenAPI document is built from the
//! same list as the router and cannot drift from it.

mod dashboard;
pub mod error;
mod events;
mod extract;
mod feedback;
mod hub;
pub mod info;
mod lifecycle;
pub mod middleware;
mod operator;
mod pages;
mod predict;
mod route_table;
pub mod types;

use crate::state::SharedState;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{middleware as mw, Extension, Router};
use middleware::Origin;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The address (set by the listeners as a request extension) a request came from: its IP on TCP, none on the Unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sentimentd",
        description = "A self-learning sentiment analysis service. On TCP, send an API key as `Authorization: Bearer <key>` when auth is on; the operator socket needs none. Errors are `{\"error\": {\"code\", \"message\"}}`.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "predict", description = "Sentiment predictions"),
        (name = "feedback", description = "Corrections that train the next model"),
        (name = "service", description = "Health, model and metrics"),
        (name = "operator", description = "For the console: the socket, or an admin key"),
    ),
    components(schemas(crate::events::Event))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as served, built once.
#[derive(Clone)]
struct OpenApiJson(Arc<String>);

/// The OpenAPI 3 document of this API.
#[utoipa::path(
    get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
}

/// The routes and the document they describe, without state or listener wiring.
pub fn routes(state: &SharedState) -> (Router<SharedState>, utoipa::openapi::OpenApi) {
    let timeout = TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        state.config.limits.request_timeout,
    );
    let public = OpenApiRouter::new()
        .routes(routes!(info::health))
        .routes(routes!(openapi_json));
    let user = OpenApiRouter::new()
        .routes(routes!(predict::predict))
        .routes(routes!(predict::predict_batch))
        .routes(routes!(feedback::feedback))
        .routes(routes!(info::model_info))
        .routes(routes!(info::metrics))
        .routes(routes!(info::metrics_prometheus))
        .routes(routes!(dashboard::dashboard))
        .route_layer(mw::from_fn_with_state(state.clone(), middleware::authorize));
    let operator = OpenApiRouter::new()
        .routes(routes!(operator::recent_predictions))
        .routes(routes!(predict::explain))
        .routes(routes!(operator::queue))
        .routes(routes!(operator::resolve_queue_item))
        .routes(routes!(operator::list_feedback))
        .routes(routes!(operator::models))
        .routes(routes!(lifecycle::promote))
        .routes(routes!(lifecycle::rollback))
        .routes(routes!(lifecycle::alerts))
        .routes(routes!(lifecycle::acknowledge_alert))
        .routes(routes!(route_table::list_routes))
        .route_layer(mw::from_fn(middleware::require_operator))
        .route_layer(mw::from_fn_with_state(state.clone(), middleware::authorize));
    // Streams live as long as the console does, and a retrain with ?wait=true as long
    // as training takes, and a Hub poll as long as a model download: no request timeout.
    let streams = OpenApiRouter::new()
        .routes(routes!(events::events))
        .routes(routes!(lifecycle::start_retrain, lifecycle::retrain_status))
        .routes(routes!(hub::poll))
        .route_layer(mw::from_fn(middleware::require_operator))
        .route_layer(mw::from_fn_with_state(state.clone(), middleware::authorize));
    let timed = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public)
        .merge(user)
        .merge(operator)
        .layer(timeout);
    let (router, mut doc) = timed.merge(streams).split_for_parts();
    document_common_errors(&mut doc, &["/health", "/openapi.json"]);
    types::require_text_or_prediction_id(&mut doc);
    types::close_enum_variants(&mut doc, &["QueueDecision"]);
    (router, doc)
}

/// Adds to every operation the errors the shared layers can answer, so that the
/// document lists every status a client can get (schemathesis's
/// `status_code_conformance` holds it to that): 400 where there are parameters or a
/// body (a bad path value, an unknown or bad query parameter, malformed JSON), 413 and
/// 415 where there is a body, and 401, 403 (unknown tier) and 429 on every route that
/// takes an API key. A description a route gives itself is kept.
fn document_common_errors(doc: &mut utoipa::openapi::OpenApi, public: &[&str]) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let keyed = !public.contains(&path.as_str());
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let has_parameters =
                operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) || path.contains('{');
            let has_body = operation.request_body.is_some();
            let mut wanted: Vec<(&str, &str)> = Vec::new();
            if has_parameters || has_body {
                wanted.push((
                    "400",
                    "Malformed or invalid request: a bad path or query value, an unknown \
                     query parameter, or a body that is not the JSON object this route takes",
                ));
            }
            if has_body {
                wanted.push(("413", "Body too large (limits.max_body_bytes)"));
                wanted.push(("415", "Not JSON: send Content-Type: application/json"));
            }
            if keyed {
                wanted.push(("401", "Missing or unknown API key (auth on)"));
                wanted.push((
                    "403",
                    "The key's tier is not configured, or the route needs the socket or an admin key",
                ));
                wanted.push(("429", "Rate limit reached; see Retry-After"));
            }
            for (status, description) in wanted {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error(description).into());
            }
        }
    }
}

/// The full service for one listener.
pub fn router(state: SharedState, origin: Origin) -> Router {
    let (routes, doc) = routes(&state);
    let query_params = middleware::QueryParams::of(&doc);
    let doc = OpenApiJson(Arc::new(
        doc.to_pretty_json()
            .expect("the OpenAPI document serialises"),
    ));
    // The demo page is HTML, not JSON API: public, outside the OpenAPI document.
    let routes = routes.merge(pages::routes());
    let table = route_table::RouteTable::of(&routes);
    let mut extensions = axum::http::Extensions::new();
    extensions.insert(doc);
    extensions.insert(table);
    extensions.insert(origin);
    extensions.insert(extract::BodyLimit(state.config.limits.max_body_bytes));
    let edge = middleware::Edge {
        state: state.clone(),
        query_params,
        extensions: Arc::new(extensions),
    };
    routes
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(mw::from_fn_with_state(edge, middleware::edge))
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}
