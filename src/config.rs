//! Configuration: a TOML file with environment overrides, checked in full before anything
//! starts. Unknown keys and invalid values stop the start with a message naming the key.
//!
//! Every key, its default and its override are documented in `config/pasarela.example.toml`.
//! An environment variable `PASARELA_<SECTION>__<KEY>` overrides `[section] key` (double
//! underscore between levels, e.g. `PASARELA_DATABASE__URL`, `PASARELA_SERVER__TLS__CERT_FILE`,
//! `PASARELA_PUBLIC_URL`).

use crate::core::level::{
    AuthMethod, LevelOfAssurance, LevelPolicy, LevelVocabulary, MethodRule, ProofingLevel,
};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    pub credentials: crate::core::credentials::CredentialsConfig,
    /// SMS gateway and its quotas.
    #[serde(default)]
    pub sms: crate::core::notify::SmsConfig,
    /// Email gateway for notices.
    #[serde(default)]
    pub email: crate::core::notify::EmailConfig,
    /// SSO session limits.
    #[serde(default)]
    pub sessions: crate::core::session::SessionConfig,
    /// Wrong-password delays, locks and throttling.
    #[serde(default)]
    pub login: crate::core::login::LoginPolicy,
    /// SMS one-time codes.
    #[serde(default)]
    pub otp: crate::core::otp::OtpPolicy,
    /// OpenID Provider lifetimes.
    #[serde(default)]
    pub oidc: crate::oidc::config::OidcConfig,
    /// SAML 2.0 identity provider.
    #[serde(default)]
    pub saml: crate::saml::SamlConfig,
}

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

/// `[server.tls]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/file.db` or `postgres://user:pass@host:port/db`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/pasarela.db".into(),
            max_connections: 16,
        }
    }
}

/// Which ephemeral store backs short-lived state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EphemeralBackend {
    /// In process: one node only.
    Memory,
    /// Redis: shared by several nodes.
    Redis,
}

/// `[ephemeral]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EphemeralConfig {
    /// `memory` or `redis`.
    pub backend: EphemeralBackend,
    /// `redis://host:port/db` (required for the redis backend).
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Most entries the in-process store holds before it refuses new ones.
    pub max_entries: usize,
}

impl Default for EphemeralConfig {
    fn default() -> Self {
        Self {
            backend: EphemeralBackend::Memory,
            redis_url: None,
            key_prefix: "pasarela:".into(),
            max_entries: 1_000_000,
        }
    }
}

/// Where signing keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySourceKind {
    /// Stored in the database, encrypted with the key-encryption key; rotated by
    /// `pasarela keys rotate`.
    Database,
    /// PEM files listed in `[[keys.files]]`.
    Files,
}

/// `[keys]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// `database` or `files`.
    pub source: KeySourceKind,
    /// The key-encryption key, base64 of 32 bytes: encrypts stored signing keys and keys the
    /// hashes of activation codes. Prefer the environment (`PASARELA_KEYS__KEK`) or `kek_file`.
    pub kek: Option<String>,
    /// A file holding the key-encryption key (base64). With `dev.enabled` it is created if
    /// missing.
    pub kek_file: Option<PathBuf>,
    /// RSA key size: 2048 or 3072.
    pub rsa_bits: u32,
    /// Days a replaced key stays published after it stops signing.
    pub retire_grace_days: u32,
    /// Create an active and a next key per family when none exist.
    pub generate_if_missing: bool,
    /// Seconds between re-reads of the key table (to pick up rotations made elsewhere).
    pub refresh_secs: u64,
    /// Keys from PEM files (with `source = "files"`).
    pub files: Vec<KeyFileConfig>,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            source: KeySourceKind::Database,
            kek: None,
            kek_file: None,
            rsa_bits: 2048,
            retire_grace_days: 7,
            generate_if_missing: true,
            refresh_secs: 60,
            files: Vec::new(),
        }
    }
}

/// `[[keys.files]]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFileConfig {
    /// Key id published in JWKS and metadata.
    pub kid: String,
    /// `next`, `active` or `retiring`.
    pub state: crate::store::KeyState,
    /// PEM private key (RSA or P-256).
    pub private_key: PathBuf,
    /// PEM certificate for the key (recommended with several nodes).
    pub certificate: Option<PathBuf>,
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

/// `[citizens]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitizensConfig {
    /// Region (ISO 3166 alpha-2) used to read phone numbers typed without `+`.
    pub default_region: String,
    /// Days an activation code stays valid.
    pub activation_code_days: u32,
    /// Wrong attempts allowed on an activation code; the next one blocks it.
    pub max_code_failures: u32,
    /// Version of the security policy citizens accept during activation; recorded with each
    /// acceptance, so a new wording gets a new version.
    pub security_policy_version: String,
}

impl Default for CitizensConfig {
    fn default() -> Self {
        Self {
            default_region: "ES".into(),
            activation_code_days: 30,
            max_code_failures: 5,
            security_policy_version: "2026-1".into(),
        }
    }
}

/// `[levels]`: how levels of assurance are reached and named.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LevelsConfig {
    /// Highest level each proofing level allows.
    pub proofing: BTreeMap<ProofingLevel, LevelOfAssurance>,
    /// Method-strength table.
    pub methods: Vec<MethodRule>,
    /// OIDC `acr` value per level.
    pub acr: BTreeMap<LevelOfAssurance, AcrName>,
    /// SAML `AuthnContextClassRef` per level.
    pub saml: BTreeMap<LevelOfAssurance, String>,
}

/// The `acr` value asserted for a level and the aliases accepted in requests.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AcrName {
    /// Value asserted in ID tokens.
    pub value: String,
    /// Other values accepted in `acr_values` and the `claims` parameter.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl Default for LevelsConfig {
    fn default() -> Self {
        let policy = LevelPolicy::default();
        let vocab = LevelVocabulary::default();
        Self {
            proofing: policy.proofing.into_iter().collect(),
            methods: policy.methods,
            acr: vocab
                .oidc
                .into_iter()
                .map(|(l, value, aliases)| (l, AcrName { value, aliases }))
                .collect(),
            saml: vocab.saml.into_iter().collect(),
        }
    }
}

impl LevelsConfig {
    /// The policy the core applies.
    pub fn policy(&self) -> LevelPolicy {
        LevelPolicy {
            proofing: self.proofing.iter().map(|(p, l)| (*p, *l)).collect(),
            methods: self.methods.clone(),
        }
    }

    /// The names of the levels on the wire.
    pub fn vocabulary(&self) -> LevelVocabulary {
        LevelVocabulary {
            oidc: self
                .acr
                .iter()
                .map(|(l, n)| (*l, n.value.clone(), n.aliases.clone()))
                .collect(),
            saml: self.saml.iter().map(|(l, u)| (*l, u.clone())).collect(),
        }
    }
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
        config.validate()?;
        Ok(config)
    }

    /// The issuer string: `public_url` without a trailing slash.
    pub fn issuer(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let err = |key: &str, why: String| Err(ConfigError(format!("{key}: {why}")));
        let u = &self.public_url;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return err(
                "public_url",
                format!("'{u}' must be an absolute http(s) URL"),
            );
        }
        if u.query().is_some() || u.fragment().is_some() {
            return err(
                "public_url",
                "must not have a query or fragment (it is the issuer)".into(),
            );
        }
        if u.scheme() == "http" && !self.dev.enabled && !is_loopback_host(u) {
            return err(
                "public_url",
                "must be https outside development (set dev.enabled for a local http issuer)"
                    .into(),
            );
        }
        if let Some(tls) = &self.server.tls {
            for (key, path) in [
                ("server.tls.cert_file", &tls.cert_file),
                ("server.tls.key_file", &tls.key_file),
            ] {
                if !path.exists() {
                    return err(key, format!("{} does not exist", path.display()));
                }
            }
        }
        self.oidc.validate().map_err(ConfigError)?;
        if self.server.request_timeout_secs == 0 {
            return err("server.request_timeout_secs", "must be at least 1".into());
        }
        if !(self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://"))
        {
            return err(
                "database.url",
                "must start with sqlite:// or postgres://".into(),
            );
        }
        if self.database.max_connections == 0 {
            return err("database.max_connections", "must be at least 1".into());
        }
        if self.ephemeral.backend == EphemeralBackend::Redis && self.ephemeral.redis_url.is_none() {
            return err(
                "ephemeral.redis_url",
                "is required when ephemeral.backend = \"redis\"".into(),
            );
        }
        if !matches!(self.keys.rsa_bits, 2048 | 3072) {
            return err(
                "keys.rsa_bits",
                format!("{} is not supported: use 2048 or 3072", self.keys.rsa_bits),
            );
        }
        if self.keys.kek.is_none() && self.keys.kek_file.is_none() {
            return err(
                "keys.kek",
                "a key-encryption key is required (it encrypts stored signing keys and keys the \
                 hashes of activation codes): set keys.kek_file or PASARELA_KEYS__KEK"
                    .into(),
            );
        }
        if self.keys.source == KeySourceKind::Files && self.keys.files.is_empty() {
            return err(
                "keys.files",
                "source = \"files\" needs at least one [[keys.files]]".into(),
            );
        }
        if self.keys.refresh_secs == 0 {
            return err("keys.refresh_secs", "must be at least 1".into());
        }
        if self
            .citizens
            .default_region
            .parse::<phonenumber::country::Id>()
            .is_err()
        {
            return err(
                "citizens.default_region",
                format!(
                    "'{}' is not an ISO 3166 region code",
                    self.citizens.default_region
                ),
            );
        }
        if self.citizens.activation_code_days == 0 {
            return err("citizens.activation_code_days", "must be at least 1".into());
        }
        if self.citizens.security_policy_version.trim().is_empty() {
            return err(
                "citizens.security_policy_version",
                "must not be empty: every acceptance is recorded with it".into(),
            );
        }
        if self
            .log
            .level
            .parse::<tracing_subscriber::EnvFilter>()
            .is_err()
        {
            return err(
                "log.level",
                format!("'{}' is not a valid log filter", self.log.level),
            );
        }
        self.sms.validate().map_err(ConfigError)?;
        self.email.validate().map_err(ConfigError)?;
        self.saml.validate().map_err(ConfigError)?;
        if self.sessions.absolute_hours == 0 || self.sessions.idle_minutes == 0 {
            return err(
                "sessions",
                "absolute_hours and idle_minutes must be at least 1".into(),
            );
        }
        if self.login.lock_after == 0 || self.login.per_address_per_minute == 0 {
            return err(
                "login",
                "lock_after and per_address_per_minute must be at least 1".into(),
            );
        }
        let o = &self.otp;
        if o.ttl_minutes == 0 || o.max_attempts == 0 || o.max_sends == 0 {
            return err(
                "otp",
                "ttl_minutes, max_attempts and max_sends must be at least 1".into(),
            );
        }
        let c = &self.credentials;
        if c.max_concurrent_hashes == 0 {
            return err(
                "credentials.max_concurrent_hashes",
                "must be at least 1".into(),
            );
        }
        if c.argon2.memory_kib < 8 * c.argon2.parallelism.max(1)
            || c.argon2.iterations == 0
            || c.argon2.parallelism == 0
        {
            return err(
                "credentials.argon2",
                "memory_kib must be at least 8 × parallelism, iterations and parallelism at least 1".into(),
            );
        }
        self.validate_levels()
    }

    fn validate_levels(&self) -> Result<(), ConfigError> {
        let l = &self.levels;
        for p in ProofingLevel::ALL {
            if !l.proofing.contains_key(&p) {
                return Err(ConfigError(format!(
                    "levels.proofing: no level given for proofing level '{p}'"
                )));
            }
        }
        if l.methods.is_empty() {
            return Err(ConfigError(
                "levels.methods: the method table is empty".into(),
            ));
        }
        if let Some(r) = l.methods.iter().find(|r| r.methods.is_empty()) {
            return Err(ConfigError(format!(
                "levels.methods: a rule for level '{}' lists no methods",
                r.level
            )));
        }
        let mut seen = BTreeMap::new();
        for level in LevelOfAssurance::ALL {
            let Some(name) = l.acr.get(&level) else {
                return Err(ConfigError(format!("levels.acr.{level}: missing")));
            };
            for v in std::iter::once(&name.value).chain(&name.aliases) {
                if v.trim().is_empty() {
                    return Err(ConfigError(format!(
                        "levels.acr.{level}: an acr value is empty"
                    )));
                }
                if let Some(other) = seen.insert(v.clone(), level) {
                    return Err(ConfigError(format!(
                        "levels.acr.{level}: '{v}' is already used by level '{other}'"
                    )));
                }
            }
            if !l.saml.contains_key(&level) {
                return Err(ConfigError(format!("levels.saml.{level}: missing")));
            }
        }
        Ok(())
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
        if self.sms.provider != crate::core::notify::SmsProvider::Http {
            let provider = format!("{:?}", self.sms.provider).to_lowercase();
            w.push(format!(
                "sms.provider = {provider}: SMS codes are not delivered to phones"
            ));
        }
        if self.email.provider != crate::core::notify::EmailProvider::Smtp {
            w.push("email.provider is not smtp: notices are not delivered".to_owned());
        }
        if self.public_url.scheme() == "http" {
            w.push(format!("public_url {} is not https", self.public_url));
        }
        w
    }
}

fn is_loopback_host(u: &url::Url) -> bool {
    matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
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

/// Methods listed in the default table, for documentation and tests.
pub fn known_methods() -> [AuthMethod; 4] {
    [
        AuthMethod::Pwd,
        AuthMethod::Sms,
        AuthMethod::Otp,
        AuthMethod::Hwk,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "public_url = \"https://idp.example.es\"\n[keys]\nkek_file = \"k\"\n";

    #[test]
    fn defaults_fill_a_minimal_file() {
        let c = Config::from_toml(MINIMAL).unwrap();
        assert_eq!(c.issuer(), "https://idp.example.es");
        assert_eq!(c.server.bind.port(), 8080);
        assert_eq!(c.citizens.max_code_failures, 5);
        assert_eq!(c.levels.policy(), LevelPolicy::default());
        assert_eq!(c.levels.vocabulary(), LevelVocabulary::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = Config::from_toml(&format!("{MINIMAL}[server]\nbindd = \"x\"\n")).unwrap_err();
        assert!(e.to_string().contains("server"), "{e}");
        assert!(e.to_string().contains("bindd"), "{e}");
    }

    #[test]
    fn invalid_values_are_named() {
        let e = Config::from_toml(&format!("{MINIMAL}[server]\nbind = \"nowhere\"\n")).unwrap_err();
        assert!(e.to_string().contains("server.bind"), "{e}");
        let e =
            Config::from_toml("public_url = \"http://idp.example.es\"\n[keys]\nkek_file=\"k\"\n")
                .unwrap_err();
        assert!(e.to_string().contains("public_url: must be https"), "{e}");
        let e = Config::from_toml(&format!("{MINIMAL}rsa_bits = 1024\n")).unwrap_err();
        assert!(e.to_string().contains("keys.rsa_bits"), "{e}");
        let e =
            Config::from_toml(&format!("{MINIMAL}[ephemeral]\nbackend = \"redis\"\n")).unwrap_err();
        assert!(e.to_string().contains("ephemeral.redis_url"), "{e}");
        let acr = "[levels.acr.low]\nvalue = \"a\"\n[levels.acr.substantial]\nvalue = \"a\"\n\
                   [levels.acr.high]\nvalue = \"c\"\n";
        let e = Config::from_toml(&format!("{MINIMAL}{acr}")).unwrap_err();
        assert!(e.to_string().contains("already used"), "{e}");
        let e = Config::from_toml(&format!(
            "{MINIMAL}[citizens]\nsecurity_policy_version = \" \"\n"
        ))
        .unwrap_err();
        assert!(
            e.to_string().contains("citizens.security_policy_version"),
            "{e}"
        );
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the error type
    fn environment_overrides_nested_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("p.toml", MINIMAL)?;
            jail.set_env("PASARELA_DATABASE__URL", "postgres://db/x");
            jail.set_env("PASARELA_SERVER__BIND", "0.0.0.0:9000");
            jail.set_env("PASARELA_CONFIG", "p.toml");
            let c = Config::load(Path::new("p.toml")).map_err(|e| e.to_string())?;
            assert_eq!(c.database.url, "postgres://db/x");
            assert_eq!(c.server.bind.port(), 9000);
            jail.set_env("PASARELA_SERVER__BIND", "nope");
            let e = Config::load(Path::new("p.toml")).unwrap_err().to_string();
            assert!(
                e.contains("server.bind") && e.contains("PASARELA_SERVER__BIND"),
                "{e}"
            );
            Ok(())
        });
    }
}

#[cfg(test)]
mod shipped_files {
    use super::*;

    #[test]
    fn the_reference_and_dev_files_are_valid_and_the_reference_matches_the_defaults() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(root.join("pasarela.example.toml")).unwrap();
        let example = Config::from_toml(&text).unwrap();
        let minimal = Config::from_toml(
            "public_url = \"https://idp.example.gob.es\"\n[keys]\nkek_file = \"/etc/pasarela/kek.b64\"\n",
        )
        .unwrap();
        // The reference documents the defaults: reading it must give what no file gives.
        assert_eq!(
            serde_json::to_value(&example).unwrap(),
            serde_json::to_value(&minimal).unwrap()
        );
        let dev = std::fs::read_to_string(root.join("dev.toml")).unwrap();
        let dev = Config::from_toml(&dev).unwrap();
        assert!(dev.dev.enabled && !dev.dev_warnings().is_empty());
    }

    fn shipped(name: &str) -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        // A real deployment adds its key-encryption key; nothing else is missing.
        Config::from_toml(&format!(
            "{text}\n[keys]\nkek_file = \"/etc/pasarela/kek.b64\"\n"
        ))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn level(
        c: &Config,
        proofing: ProofingLevel,
        methods: &[AuthMethod],
    ) -> Option<LevelOfAssurance> {
        c.levels
            .policy()
            .achieved(proofing, &methods.iter().copied().collect())
    }

    #[test]
    fn the_anses_example_gives_nivel_2_online_and_nivel_3_in_person_with_the_password() {
        use AuthMethod::*;
        use LevelOfAssurance::*;
        let c = shipped("anses.example.toml");
        assert_eq!(
            c.credentials.password_policy,
            crate::core::credentials::PolicyPreset::Anses
        );
        assert_eq!(
            c.login.second_factor,
            crate::core::login::SecondFactor::WhenNeeded
        );
        assert_eq!(level(&c, ProofingLevel::Online, &[Pwd]), Some(Substantial));
        assert_eq!(
            level(&c, ProofingLevel::Online, &[Pwd, Sms]),
            Some(Substantial)
        );
        assert_eq!(level(&c, ProofingLevel::InPerson, &[Pwd]), Some(High));
        let vocabulary = c.levels.vocabulary();
        assert_eq!(vocabulary.level_for_acr("nivel2"), Some(Substantial));
        assert_eq!(vocabulary.level_for_acr("nivel3"), Some(High));
        assert_eq!(c.citizens.default_region, "AR");
        // The guide's three nivel-3 services, on the e-office's client.
        let office = &c.oidc.clients[0];
        assert_eq!(office.min_level, Substantial);
        let high: Vec<&str> = office
            .services
            .iter()
            .filter(|s| s.min_level == High)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            high,
            [
                "servicios-corporativos",
                "cambio-lugar-cobro",
                "reparacion-historica"
            ]
        );
    }

    #[test]
    fn the_clave_example_needs_the_sms_code_for_substantial_and_a_certificate_for_high() {
        use AuthMethod::*;
        use LevelOfAssurance::*;
        let c = shipped("clave.example.toml");
        assert_eq!(
            c.login.second_factor,
            crate::core::login::SecondFactor::Always
        );
        assert_eq!(level(&c, ProofingLevel::InPerson, &[Pwd]), Some(Low));
        assert_eq!(
            level(&c, ProofingLevel::InPerson, &[Pwd, Sms]),
            Some(Substantial)
        );
        assert_eq!(
            level(&c, ProofingLevel::Letter, &[Pwd, Otp]),
            Some(Substantial)
        );
        assert_eq!(level(&c, ProofingLevel::Letter, &[Hwk]), Some(Substantial));
        assert_eq!(level(&c, ProofingLevel::InPerson, &[Hwk]), Some(High));
    }
}
