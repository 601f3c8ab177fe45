//! The SAML 2.0 identity provider in the eIDAS / Cl@ve profile: metadata, service providers
//! registered from their metadata, SSO over HTTP-Redirect and HTTP-POST, SP-initiated single
//! logout.
//!
//! `samael` (over Debian's libxmlsec1) does the XML signatures; its higher-level request and
//! response helpers are not used, because of known limits in 0.0.22 (a Redirect verifier that
//! re-encodes the query, wrapped requests accepted, SHA-1 digests and no SessionIndex in its
//! responses, no `Extensions`): this layer verifies Redirect signatures over the exact query
//! bytes with OpenSSL, verifies POST signatures with xmlsec and reads only the signed element,
//! and builds and signs Assertion and Response itself (with xmlsec).

mod answer;
pub mod binding;
pub mod config;
pub mod encrypt;
pub mod error;
pub mod metadata;
pub mod request;
pub mod response;
pub mod session_end;
pub mod slo;
pub mod sp;
pub mod sso;
pub mod xml;

pub use config::SamlConfig;

use crate::web::AppState;
use axum::Router;
use axum::routing::get;

/// The IdP's own URLs, derived from the issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// entityID (the metadata URL).
    pub entity_id: String,
    /// SingleSignOnService location (both bindings).
    pub sso: String,
    /// SingleLogoutService location (both bindings).
    pub slo: String,
}

impl Endpoints {
    /// The endpoints under `issuer`.
    pub fn new(issuer: &str) -> Self {
        Self {
            entity_id: format!("{issuer}/saml/metadata"),
            sso: format!("{issuer}/saml/sso"),
            slo: format!("{issuer}/saml/slo"),
        }
    }
}

/// The SAML routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/metadata", get(sso::metadata))
        .route("/saml/sso", get(sso::sso_redirect).post(sso::sso_post))
        .route("/saml/sso/resume", get(sso::resume))
        .route("/saml/slo", get(slo::slo_redirect).post(slo::slo_post))
        .route(slo::START_PATH, get(slo::start_prepared))
}
