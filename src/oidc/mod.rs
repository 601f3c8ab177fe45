//! The OpenID Connect Provider: a thin protocol layer over the core engine. It validates
//! requests against the registered client, reads the SSO session, and renders the answers
//! (codes, tokens, ID tokens, userinfo) or the spec's errors.
//!
//! Endpoints (all under the issuer):
//! - `GET /.well-known/openid-configuration`, `GET /oidc/jwks`
//! - `GET|POST /oidc/authorize` (and `GET /oidc/authorize/resume` after the login page)
//! - `GET|POST /oidc/consent` (the consent page)
//! - `POST /oidc/par` (pushed authorization requests), `POST /oidc/token`, `POST /oidc/introspect`,
//!   `POST /oidc/revoke`
//! - `GET|POST /oidc/userinfo`
//! - `GET|POST /oidc/logout`
//! - `POST /oidc/register`, `GET|PUT|DELETE /oidc/register/{client_id}` (when enabled)

pub mod authorize;
pub mod backchannel;
pub mod client;
pub mod client_auth;
pub mod client_keys;
pub mod client_kinds;
pub mod config;
pub mod consent;
pub mod discovery;
pub mod error;
pub mod frontchannel;
pub mod grants;
pub mod id_token;
pub mod introspect;
pub mod logout;
pub mod par;
pub mod registration;
pub mod reply;
pub mod request;
pub mod request_object;
pub mod revoke;
pub mod scopes;
pub mod service;
pub mod session_end;
pub mod subject;
pub mod token;
pub mod userinfo;

use crate::web::AppState;
use axum::Router;
use axum::routing::get;

/// The routes of the OpenID Provider.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/oidc/jwks", get(discovery::jwks))
        .route("/oidc/authorize", get(authorize::get).post(authorize::post))
        .route("/oidc/authorize/resume", get(authorize::resume))
        .route("/oidc/consent", get(consent::show).post(consent::submit))
        .route("/oidc/token", axum::routing::post(token::token))
        .route("/oidc/par", axum::routing::post(par::push))
        .route(
            "/oidc/introspect",
            axum::routing::post(introspect::introspect),
        )
        .route("/oidc/revoke", axum::routing::post(revoke::revoke))
        .route(
            "/oidc/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/oidc/logout", get(logout::get).post(logout::post))
        .route(
            "/oidc/register",
            axum::routing::post(registration::register),
        )
        .route(
            "/oidc/register/{client_id}",
            get(registration::read)
                .put(registration::update)
                .delete(registration::delete),
        )
}
