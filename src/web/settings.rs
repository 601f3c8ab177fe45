//! The HTTP layer's settings — `[server]` (listener, TLS, trusted proxies, limits), `[log]`,
//! `[dev]` and the issuer `public_url` — with the validation that names each TOML key, and
//! [`Settings`]: the part of the configuration request handlers read, held by the
//! [`AppState`](crate::web::AppState).
//!
//! The file is read by the configuration loader (`src/config.rs`), which composes every
//! layer's sections; the sections needed only at start-up (database, ephemeral store, keys,
//! log, levels) stay there and never reach a handler.

use crate::core::credentials::CredentialsConfig;
use crate::core::login::LoginPolicy;
use crate::core::notify::{EmailConfig, SmsConfig};
use crate::core::otp::OtpPolicy;
use crate::core::session::SessionConfig;
use crate::core::settings::CitizensConfig;
use crate::oidc::config::OidcConfig;
use crate::saml::SamlConfig;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// `[server]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Built-in TLS; absent means plain HTTP (behind a TLS-terminating proxy).
    pub tls: Option<TlsConfig>,
    /// Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Time limit for one request, in seconds.
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls: None,
            trusted_proxies: Vec::new(),
            request_timeout_secs: 30,
            max_body_bytes: 256 * 1024,
            shutdown_grace_secs: 10,
        }
    }
}

impl ServerConfig {
    /// Checks the section (the TLS files must exist); the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(tls) = &self.tls {
            for (key, path) in [
                ("server.tls.cert_file", &tls.cert_file),
                ("server.tls.key_file", &tls.key_file),
            ] {
                if !path.exists() {
                    return Err(format!("{key}: {} does not exist", path.display()));
                }
            }
        }
        if self.request_timeout_secs == 0 {
            return Err("server.request_timeout_secs: must be at least 1".into());
        }
        Ok(())
    }
}

/// `[server.tls]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `pasarela=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

impl LogConfig {
    /// Checks that `level` is a filter `tracing` accepts.
    pub fn validate(&self) -> Result<(), String> {
        if self.level.parse::<tracing_subscriber::EnvFilter>().is_err() {
            return Err(format!(
                "log.level: '{}' is not a valid log filter",
                self.level
            ));
        }
        Ok(())
    }
}

/// `[dev]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevConfig {
    /// Development mode: allows an http issuer, creates the key-encryption key file, and
    /// makes the server warn loudly at start.
    pub enabled: bool,
    /// Development pages (`/dev/...`, such as the SMS outbox).
    pub pages: bool,
}

/// Checks `public_url`, the issuer: an absolute http(s) URL without query or fragment, https
/// unless `dev.enabled` or the host is a loopback name.
pub fn validate_public_url(u: &url::Url, dev: &DevConfig) -> Result<(), String> {
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(format!("public_url: '{u}' must be an absolute http(s) URL"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err("public_url: must not have a query or fragment (it is the issuer)".into());
    }
    let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if u.scheme() == "http" && !dev.enabled && !loopback {
        return Err(
            "public_url: must be https outside development (set dev.enabled for a \
                    local http issuer)"
                .into(),
        );
    }
    Ok(())
}

/// What request handlers read of the configuration: the issuer, the HTTP settings and every
/// section a page or protocol endpoint consults. Built once at start from the validated file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer: the public base URL relying parties see.
    pub public_url: url::Url,
    /// HTTP listener.
    pub server: ServerConfig,
    /// Development conveniences.
    pub dev: DevConfig,
    /// Citizen registration rules.
    pub citizens: CitizensConfig,
    /// Password policy, hashing cost and concurrency.
    pub credentials: CredentialsConfig,
    /// SMS gateway and its quotas.
    pub sms: SmsConfig,
    /// Email gateway for notices.
    pub email: EmailConfig,
    /// SSO session limits.
    pub sessions: SessionConfig,
    /// Wrong-password delays, locks and throttling.
    pub login: LoginPolicy,
    /// SMS one-time codes.
    pub otp: OtpPolicy,
    /// OpenID Provider settings and registered clients.
    pub oidc: OidcConfig,
    /// SAML 2.0 identity provider.
    pub saml: SamlConfig,
}

impl Settings {
    /// The issuer string: `public_url` without a trailing slash.
    pub fn issuer(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_issuer_is_allowed_on_loopback_or_in_development_only() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let off = DevConfig::default();
        let on = DevConfig {
            enabled: true,
            pages: false,
        };
        assert!(validate_public_url(&url("https://idp.example.es"), &off).is_ok());
        assert!(validate_public_url(&url("http://localhost:8080"), &off).is_ok());
        assert!(validate_public_url(&url("http://127.0.0.1:8080"), &off).is_ok());
        assert!(validate_public_url(&url("http://idp.example.es"), &off).is_err());
        assert!(validate_public_url(&url("http://idp.example.es"), &on).is_ok());
        assert!(validate_public_url(&url("https://idp.example.es/#x"), &on).is_err());
    }
}
