//! The one AES-256-GCM sealing of data at rest, shared by the key-encryption key (private
//! signing keys) and the credential secret box (TOTP secrets).
//!
//! Blob layout: `version (1) || nonce (12) || ciphertext || tag (16)`. The associated data
//! names what the blob is and whose it is, so a blob copied onto another row fails to open.
//! Stored blobs of both users have this layout: changing it needs a new version byte.

use crate::core::{CoreError, random};
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Encrypts `plaintext` under `key`, bound to `aad`, with a fresh random nonce.
pub(crate) fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CoreError> {
    let nonce = random::bytes(NONCE_LEN)?;
    let mut tag = [0u8; TAG_LEN];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(&nonce),
        aad,
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

/// Decrypts a blob made by [`seal`] with the same key and `aad`; `None` for a wrong key, a
/// wrong `aad`, another layout or any tampering (the caller says which record failed).
pub(crate) fn open(key: &[u8; 32], aad: &[u8], blob: &[u8]) -> Option<Vec<u8>> {
    if blob.len() < 1 + NONCE_LEN + TAG_LEN || blob[0] != VERSION {
        return None;
    }
    let (nonce, rest) = blob[1..].split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    decrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(nonce),
        aad,
        ciphertext,
        tag,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_version_nonce_ciphertext_tag_and_binds_key_and_aad() {
        let key = [7u8; 32];
        let blob = seal(&key, b"kid-1", b"secret").unwrap();
        assert_eq!(blob[0], VERSION);
        assert_eq!(blob.len(), 1 + NONCE_LEN + 6 + TAG_LEN);
        assert_eq!(open(&key, b"kid-1", &blob).unwrap(), b"secret");
        assert!(open(&key, b"kid-2", &blob).is_none());
        assert!(open(&[8u8; 32], b"kid-1", &blob).is_none());
        let mut bad = blob.clone();
        bad[1 + NONCE_LEN] ^= 1;
        assert!(open(&key, b"kid-1", &bad).is_none());
        assert!(open(&key, b"kid-1", &blob[..10]).is_none());
    }
}
