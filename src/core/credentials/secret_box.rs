//! Encryption at rest for small credential secrets (TOTP shared secrets), with a key derived
//! from the deployment's key-encryption key so every node can read what another wrote.
//!
//! Sealed by [`crate::core::aead`] (AES-256-GCM); the
//! associated data names what the secret is and whose it is, so a blob copied onto another
//! citizen's row fails to decrypt.

use crate::core::{CoreError, aead};
use std::fmt;

/// Label under which the TOTP-secret encryption key is derived from the key-encryption key.
pub const TOTP_KEY_LABEL: &[u8] = b"pasarela totp-secret aes-256-gcm v1";

/// AES-256-GCM sealing of small secrets. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretBox {
    key: [u8; 32],
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

impl SecretBox {
    /// A box keyed with `key` (derive it with [`crate::core::keys::Kek::derive`]).
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// Encrypts `plaintext` bound to `context` (e.g. `totp|<citizen id>`).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CoreError> {
        aead::seal(&self.key, context.as_bytes(), plaintext)
    }

    /// Decrypts a blob made by [`SecretBox::seal`] for the same context. A wrong key, a wrong
    /// context or any tampering is `Unavailable` (a damaged record, not the citizen's fault).
    pub fn open(&self, context: &str, blob: &[u8]) -> Result<Vec<u8>, CoreError> {
        aead::open(&self.key, context.as_bytes(), blob).ok_or_else(|| {
            CoreError::Unavailable(
                "cannot decrypt a stored secret: wrong key-encryption key or damaged record".into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_context_and_key() {
        let b = SecretBox::new([3; 32]);
        let blob = b.seal("totp|a", b"secret").unwrap();
        assert_eq!(blob.len(), 1 + 12 + 6 + 16);
        assert_eq!(b.open("totp|a", &blob).unwrap(), b"secret");
        assert!(b.open("totp|b", &blob).is_err());
        assert!(SecretBox::new([4; 32]).open("totp|a", &blob).is_err());
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert!(b.open("totp|a", &bad).is_err(), "byte {i}");
        }
        assert!(b.open("totp|a", &blob[..10]).is_err());
        assert_eq!(format!("{b:?}"), "SecretBox(<redacted>)");
    }
}
