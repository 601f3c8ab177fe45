//! Encryption at rest for small credential secrets (TOTP shared secrets), with a key derived
//! from the deployment's key-encryption key so every node can read what another wrote.
//!
//! Blob layout: `version (1) || nonce (12) || ciphertext || tag (16)`, AES-256-GCM. The
//! associated data names what the secret is and whose it is, so a blob copied onto another
//! citizen's row fails to decrypt.

use crate::core::{CoreError, random};
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use std::fmt;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

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
        let nonce = random::bytes(NONCE_LEN)?;
        let mut tag = [0u8; TAG_LEN];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            context.as_bytes(),
            plaintext,
            &mut tag,
        )?;
        let mut blob = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len() + TAG_LEN);
        blob.push(VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        blob.extend_from_slice(&tag);
        Ok(blob)
    }

    /// Decrypts a blob made by [`SecretBox::seal`] for the same context. A wrong key, a wrong
    /// context or any tampering is `Unavailable` (a damaged record, not the citizen's fault).
    pub fn open(&self, context: &str, blob: &[u8]) -> Result<Vec<u8>, CoreError> {
        let failed = || {
            CoreError::Unavailable(
                "cannot decrypt a stored secret: wrong key-encryption key or damaged record".into(),
            )
        };
        if blob.len() < 1 + NONCE_LEN + TAG_LEN || blob[0] != VERSION {
            return Err(failed());
        }
        let (nonce, rest) = blob[1..].split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            context.as_bytes(),
            ciphertext,
            tag,
        )
        .map_err(|_| failed())
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
