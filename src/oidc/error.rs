//! Protocol errors. An authorization error is either *displayed* (unknown client, unregistered
//! redirect URI: never sent anywhere) or *redirected* to the client with `state` and `iss`.
//! Token-endpoint and userinfo errors are JSON with the spec's codes. Descriptions are fixed
//! ASCII text without CR, LF or TAB, and never carry codes or tokens.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error sent back to the client through the authorization response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzError {
    /// The spec's code (`invalid_request`, `login_required`, …).
    pub code: &'static str,
    /// Public description.
    pub description: String,
}

impl AuthzError {
    /// An error with `code` and `description`.
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }
}

/// A token-endpoint error (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// HTTP status.
    pub status: StatusCode,
    /// The spec's code.
    pub code: &'static str,
    /// Public description.
    pub description: String,
    /// Answer with `WWW-Authenticate: Basic` (the client tried HTTP Basic).
    pub basic_challenge: bool,
}

impl TokenError {
    /// A 400 error.
    pub fn bad(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::bad("invalid_grant", description)
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::bad("invalid_request", description)
    }

    /// 401 `invalid_client`.
    pub fn invalid_client(basic: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_client",
            description: "client authentication failed".into(),
            basic_challenge: basic,
        }
    }

    /// 500 `server_error`; `detail` goes to the log only.
    pub fn server(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "token endpoint: server error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "server_error",
            description: "the server could not complete the request".into(),
            basic_challenge: false,
        }
    }
}

impl From<crate::core::CoreError> for TokenError {
    fn from(e: crate::core::CoreError) -> Self {
        Self::server(e)
    }
}

impl From<crate::store::StoreError> for TokenError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::server(e)
    }
}

impl From<crate::store::EphemeralError> for TokenError {
    fn from(e: crate::store::EphemeralError) -> Self {
        Self::server(e)
    }
}

/// Headers every token response carries.
pub fn no_store(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut res = (self.status, axum::Json(body)).into_response();
        no_store(&mut res);
        if self.basic_challenge {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"pasarela\""),
            );
        }
        res
    }
}

/// A 500 JSON answer for machine endpoints; `detail` goes to the log only.
pub fn server_error_json(detail: &str) -> Response {
    tracing::error!(%detail, "oidc: server error");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({ "error": "server_error" })),
    )
        .into_response()
}
