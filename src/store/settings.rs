//! The store's settings: `[database]` (durable data) and `[ephemeral]` (short-lived state),
//! with the validation that names each TOML key.

use serde::{Deserialize, Serialize};

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

impl DatabaseConfig {
    /// Checks the section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("sqlite:")
            || self.url.starts_with("postgres://")
            || self.url.starts_with("postgresql://"))
        {
            return Err("database.url: must start with sqlite:// or postgres://".into());
        }
        if self.max_connections == 0 {
            return Err("database.max_connections: must be at least 1".into());
        }
        Ok(())
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

impl EphemeralConfig {
    /// Checks the section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.backend == EphemeralBackend::Redis && self.redis_url.is_none() {
            return Err(
                "ephemeral.redis_url: is required when ephemeral.backend = \"redis\"".into(),
            );
        }
        Ok(())
    }
}
