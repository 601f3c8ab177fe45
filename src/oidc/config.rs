//! The `[oidc]` table of the configuration: lifetimes of what the OpenID Provider issues and
//! whether clients may register themselves (dynamic registration, RFC 7591).

use crate::core::level::LevelOfAssurance;
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
    /// Dynamic client registration at `POST /oidc/register`: `off` (the default), `token`
    /// (an initial access token is required) or `open`.
    pub registration: RegistrationMode,
    /// SHA-256 (lowercase hex) of the initial access token, for `registration = "token"`.
    pub registration_token_sha256: Option<String>,
    /// Minimum level of the clients that register themselves.
    pub registration_min_level: LevelOfAssurance,
}

/// Who may register a client at the registration endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// No registration endpoint.
    #[default]
    Off,
    /// Only with `Authorization: Bearer <initial access token>`.
    Token,
    /// Anyone (conformance testing, closed networks).
    Open,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            code_secs: 60,
            access_token_secs: 600,
            id_token_secs: 300,
            refresh_token_days: 30,
            pending_request_secs: 900,
            registration: RegistrationMode::Off,
            registration_token_sha256: None,
            registration_min_level: LevelOfAssurance::Low,
        }
    }
}

impl OidcConfig {
    /// Checks what the types cannot: `token` registration needs the token's hash.
    pub fn validate(&self) -> Result<(), String> {
        if self.registration == RegistrationMode::Token {
            let ok = self.registration_token_sha256.as_deref().is_some_and(|h| {
                h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            });
            if !ok {
                return Err(
                    "oidc.registration_token_sha256: registration = \"token\" needs the \
                     SHA-256 (64 lowercase hex digits) of the initial access token"
                        .into(),
                );
            }
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_registration_needs_the_token_hash() {
        let mut c = OidcConfig::default();
        assert_eq!(c.registration, RegistrationMode::Off);
        assert!(c.validate().is_ok());
        c.registration = RegistrationMode::Token;
        assert!(c.validate().is_err());
        c.registration_token_sha256 = Some("ABC".into());
        assert!(c.validate().is_err());
        c.registration_token_sha256 = Some("ab".repeat(32));
        assert!(c.validate().is_ok());
        let parsed: OidcConfig =
            toml::from_str("registration = \"open\"\nregistration_min_level = \"substantial\"")
                .unwrap();
        assert_eq!(parsed.registration, RegistrationMode::Open);
        assert_eq!(parsed.registration_min_level, LevelOfAssurance::Substantial);
    }
}
