//! The `[oidc]` table of the configuration: lifetimes of what the OpenID Provider issues.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Lifetimes of codes, tokens and pending authorization requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// Seconds an authorization code can be exchanged (at most 60).
    pub code_secs: u64,
    /// Seconds an access token is valid.
    pub access_token_secs: u64,
    /// Seconds an ID token is valid.
    pub id_token_secs: u64,
    /// Days a refresh-token family lives, counted from the authorization.
    pub refresh_token_days: u64,
    /// Seconds an authorization request waits for the citizen to log in.
    pub pending_request_secs: u64,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            code_secs: 60,
            access_token_secs: 600,
            id_token_secs: 300,
            refresh_token_days: 30,
            pending_request_secs: 900,
        }
    }
}

impl OidcConfig {
    /// The code lifetime, capped at 60 seconds whatever the file says.
    pub fn code_ttl(&self) -> Duration {
        Duration::from_secs(self.code_secs.clamp(1, 60))
    }

    /// The access-token lifetime.
    pub fn access_token_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.access_token_secs.clamp(1, 86_400) as i64)
    }

    /// The ID-token lifetime.
    pub fn id_token_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.id_token_secs.clamp(1, 86_400) as i64)
    }

    /// The refresh-token family lifetime.
    pub fn refresh_ttl(&self) -> chrono::Duration {
        chrono::Duration::days(self.refresh_token_days.clamp(1, 365) as i64)
    }

    /// How long a pending authorization request is kept.
    pub fn pending_ttl(&self) -> Duration {
        Duration::from_secs(self.pending_request_secs.clamp(60, 3600))
    }
}
