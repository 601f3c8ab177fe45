//! `[keys]`: where signing keys come from, how they are made and rotated, and the
//! key-encryption key; with the validation that names each TOML key.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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

impl KeysConfig {
    /// Checks the section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.rsa_bits, 2048 | 3072) {
            return Err(format!(
                "keys.rsa_bits: {} is not supported: use 2048 or 3072",
                self.rsa_bits
            ));
        }
        if self.kek.is_none() && self.kek_file.is_none() {
            return Err(
                "keys.kek: a key-encryption key is required (it encrypts stored signing keys \
                 and keys the hashes of activation codes): set keys.kek_file or \
                 PASARELA_KEYS__KEK"
                    .into(),
            );
        }
        if self.source == KeySourceKind::Files && self.files.is_empty() {
            return Err("keys.files: source = \"files\" needs at least one [[keys.files]]".into());
        }
        if self.refresh_secs == 0 {
            return Err("keys.refresh_secs: must be at least 1".into());
        }
        Ok(())
    }
}
