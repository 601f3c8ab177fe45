//! What a citizen knows or holds: the password policy, password hashing and TOTP.

pub mod hasher;
pub mod lang;
mod messages;
pub mod policy;
pub mod secret_box;
pub mod totp;

pub use hasher::{Argon2Params, PasswordHasher, Verification};
pub use lang::Lang;
pub use policy::{PasswordContext, PolicyPreset, PolicyViolation, check, rules_description};
pub use secret_box::{SecretBox, TOTP_KEY_LABEL};
pub use totp::TotpSecret;

use serde::{Deserialize, Serialize};

/// The `[credentials]` section of the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialsConfig {
    /// Which password rules apply: `nist` (default) or `anses`.
    pub password_policy: PolicyPreset,
    /// Argon2id cost parameters for new hashes; older hashes are upgraded at login.
    pub argon2: Argon2Params,
    /// How many password hashes may run at once (each holds `argon2.memory_kib` of RAM).
    pub max_concurrent_hashes: usize,
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        Self {
            password_policy: PolicyPreset::default(),
            argon2: Argon2Params::default(),
            // More concurrent hashes than cores only adds latency and memory (each holds
            // `argon2.memory_kib`): one per core the process may use.
            max_concurrent_hashes: default_concurrent_hashes(),
        }
    }
}

/// One concurrent password hash per CPU the process may use (at least one).
pub fn default_concurrent_hashes() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl CredentialsConfig {
    /// The hasher this configuration describes.
    pub fn hasher(&self) -> Result<PasswordHasher, crate::core::CoreError> {
        PasswordHasher::new(self.argon2, self.max_concurrent_hashes)
    }

    /// Checks the section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_concurrent_hashes == 0 {
            return Err("credentials.max_concurrent_hashes: must be at least 1".into());
        }
        let a = &self.argon2;
        if a.memory_kib < 8 * a.parallelism.max(1) || a.iterations == 0 || a.parallelism == 0 {
            return Err(
                "credentials.argon2: memory_kib must be at least 8 × parallelism, \
                        iterations and parallelism at least 1"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_from_toml() {
        let c: CredentialsConfig = toml::from_str(
            "password_policy = \"anses\"\n[argon2]\nmemory_kib = 65536\niterations = 3\n",
        )
        .unwrap();
        assert_eq!(c.password_policy, PolicyPreset::Anses);
        assert_eq!(c.argon2.memory_kib, 65536);
        assert_eq!(c.argon2.parallelism, 1);
        assert_eq!(c.max_concurrent_hashes, default_concurrent_hashes());
        assert!(c.max_concurrent_hashes >= 1);
        assert!(toml::from_str::<CredentialsConfig>("policy = \"nist\"").is_err());
        assert_eq!(
            toml::from_str::<CredentialsConfig>("").unwrap(),
            CredentialsConfig::default()
        );
    }
}
