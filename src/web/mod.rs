//! The HTTP layer: application state, middleware and the router. Handlers extract, call one
//! engine or protocol function and map the result; no SQL and no crypto here.

pub mod account;
pub mod activation;
pub mod auth;
pub mod client;
pub mod csrf;
pub mod dev;
pub mod error;
pub mod flow;
pub mod headers;
pub mod i18n;
pub mod login;
pub mod logout_chain;
pub mod ops;
pub mod pages;
pub mod state;

pub use state::AppState;

use axum::Router;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as a router, ready to serve.
pub fn app(state: AppState) -> Router {
    let server = &state.config.server;
    let policy = Arc::new(client::ClientPolicy {
        trusted: server.trusted_proxies.clone(),
        tls: server.tls.is_some(),
    });
    let timeout = Duration::from_secs(server.request_timeout_secs);
    let body_limit = server.max_body_bytes;
    let mut router = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/static/pasarela.css", get(stylesheet))
        .merge(login::routes())
        .merge(activation::routes())
        .merge(account::routes())
        .merge(crate::oidc::routes())
        .merge(crate::saml::routes());
    if state.config.dev.pages {
        router = router.route("/dev/sms", get(dev::sms));
    }
    router
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(axum::middleware::from_fn_with_state(policy, client::resolve_client))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The path only: query strings can carry codes and tokens, which never go to logs.
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The one stylesheet, compiled in.
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../templates/static/pasarela.css"),
    )
}

async fn not_found(tr: i18n::Tr) -> impl IntoResponse {
    error::PageError::NotFound.page(tr)
}
