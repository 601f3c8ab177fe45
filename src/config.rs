//! Configuration: a TOML file with environment overrides, checked in full before anything
//! starts. Unknown keys and invalid values stop the start with a message naming the key.
//!
//! Every key, its default and its override are documented in `config/pasarela.example.toml`.
//! An environment variable `PASARELA_<SECTION>__<KEY>` overrides `[section] key` (double
//! underscore between levels, e.g. `PASARELA_DATABASE__URL`, `PASARELA_SERVER__TLS__CERT_FILE`,
//! `PASARELA_PUBLIC_URL`).
//!
//! This module only reads the file and composes the sections; each layer owns its sections'
//! types and their validation: the HTTP layer (`[server]`, `[log]`, `[dev]`, `public_url`) in
//! [`crate::web::settings`], the store (`[database]`, `[ephemeral]`) in
//! [`crate::store::settings`], the core (`[citizens]`, `[levels]`) in [`crate::core::settings`]
//! and beside each concern (`[keys]`, `[credentials]`, `[sms]`, `[email]`, `[sessions]`,
//! `[login]`, `[otp]`), and the protocols in [`crate::oidc::config`] and
//! [`crate::saml::config`].

use crate::core::credentials::CredentialsConfig;
use crate::core::keys::KeysConfig;
use crate::core::login::LoginPolicy;
use crate::core::notify::{EmailConfig, EmailProvider, SmsConfig, SmsProvider};
use crate::core::otp::OtpPolicy;
use crate::core::session::SessionConfig;
use crate::core::settings::{CitizensConfig, LevelsConfig};
use crate::oidc::config::OidcConfig;
use crate::saml::SamlConfig;
use crate::store::settings::{DatabaseConfig, EphemeralConfig};
use crate::web::settings::{DevConfig, LogConfig, ServerConfig, Settings, validate_public_url};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The variable that names the config file when `--config` is not given. It is not a setting,
/// so it is kept out of the environment overrides.
pub const CONFIG_FILE_ENV: &str = "PASARELA_CONFIG";

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The issuer: the public base URL relying parties see (no trailing slash, query or
    /// fragment). Separate from `server.bind`.
    pub public_url: url::Url,
    /// HTTP listener.
    #[serde(default)]
    pub server: ServerConfig,
    /// Durable storage.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Short-lived state.
    #[serde(default)]
    pub ephemeral: EphemeralConfig,
    /// Signing keys.
    #[serde(default)]
    pub keys: KeysConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Development conveniences (all off unless set).
    #[serde(default)]
    pub dev: DevConfig,
    /// Citizen registration rules.
    #[serde(default)]
    pub citizens: CitizensConfig,
    /// Levels of assurance.
    #[serde(default)]
    pub levels: LevelsConfig,
    /// Password policy, hashing cost and concurrency.
    #[serde(default)]
    pub credentials: CredentialsConfig,
    /// SMS gateway and its quotas.
    #[serde(default)]
    pub sms: SmsConfig,
    /// Email gateway for notices.
    #[serde(default)]
    pub email: EmailConfig,
    /// SSO session limits.
    #[serde(default)]
    pub sessions: SessionConfig,
    /// Wrong-password delays, locks and throttling.
    #[serde(default)]
    pub login: LoginPolicy,
    /// SMS one-time codes.
    #[serde(default)]
    pub otp: OtpPolicy,
    /// OpenID Provider lifetimes.
    #[serde(default)]
    pub oidc: OidcConfig,
    /// SAML 2.0 identity provider.
    #[serde(default)]
    pub saml: SamlConfig,
}

/// A configuration that could not be loaded; the message names the key and why.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads `path`, applies `PASARELA_*` environment overrides and validates the result.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        if !path.exists() {
            return Err(ConfigError(format!(
                "the configuration file {} does not exist",
                path.display()
            )));
        }
        Self::from_figment(Figment::from(Toml::file_exact(path)).merge(env_overrides()))
    }

    /// Reads a configuration from TOML text (and no environment): for tests.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(text)))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| {
            ConfigError(
                e.into_iter()
                    .map(|e| describe(&e))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        config.validate().map_err(ConfigError)?;
        Ok(config)
    }

    /// The issuer string: `public_url` without a trailing slash.
    pub fn issuer(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }

    /// Each section's own validation, in the order of the file; the first fault is reported.
    fn validate(&self) -> Result<(), String> {
        validate_public_url(&self.public_url, &self.dev)?;
        self.server.validate()?;
        self.oidc.validate()?;
        self.database.validate()?;
        self.ephemeral.validate()?;
        self.keys.validate()?;
        self.citizens.validate()?;
        self.log.validate()?;
        self.sms.validate()?;
        self.email.validate()?;
        self.saml.validate()?;
        self.sessions.validate()?;
        self.login.validate()?;
        self.otp.validate()?;
        self.credentials.validate()?;
        self.levels.validate()
    }

    /// What request handlers read: the sections the web state holds. The start-up-only
    /// sections (database, ephemeral store, keys, log, levels) are left out, so no handler
    /// can reach the key-encryption key or the database URL.
    pub fn settings(&self) -> Settings {
        Settings {
            public_url: self.public_url.clone(),
            server: self.server.clone(),
            dev: self.dev.clone(),
            citizens: self.citizens.clone(),
            credentials: self.credentials,
            sms: self.sms.clone(),
            email: self.email.clone(),
            sessions: self.sessions.clone(),
            login: self.login,
            otp: self.otp,
            oidc: self.oidc.clone(),
            saml: self.saml.clone(),
        }
    }

    /// The settings that are development conveniences and are on, for the start-up warning.
    pub fn dev_warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.dev.enabled {
            w.push("dev.enabled = true: development mode".to_owned());
        }
        if self.dev.pages {
            w.push("dev.pages = true: /dev pages expose one-time codes".to_owned());
        }
        if self.sms.provider != SmsProvider::Http {
            let provider = format!("{:?}", self.sms.provider).to_lowercase();
            w.push(format!(
                "sms.provider = {provider}: SMS codes are not delivered to phones"
            ));
        }
        if self.email.provider != EmailProvider::Smtp {
            w.push("email.provider is not smtp: notices are not delivered".to_owned());
        }
        if self.public_url.scheme() == "http" {
            w.push(format!("public_url {} is not https", self.public_url));
        }
        w
    }
}

fn env_overrides() -> Env {
    Env::prefixed("PASARELA_").split("__").filter(|k| {
        !k.as_str()
            .eq_ignore_ascii_case(&CONFIG_FILE_ENV["PASARELA_".len()..])
    })
}

/// One figment error as "key: why".
fn describe(e: &figment::Error) -> String {
    let key = e.path.join(".");
    let source = match &e.metadata {
        Some(m) => match &m.source {
            Some(s) => format!(" (in {s})"),
            // Environment values have no file: name the variable that set the key.
            None if m.name.contains("environment") => {
                format!(
                    " (from PASARELA_{})",
                    e.path.join("__").to_ascii_uppercase()
                )
            }
            None => format!(" (from {})", m.name),
        },
        None => String::new(),
    };
    if key.is_empty() {
        format!("{}{source}", e.kind)
    } else {
        format!("{key}: {}{source}", e.kind)
    }
}

#[cfg(test)]
mod tests;
