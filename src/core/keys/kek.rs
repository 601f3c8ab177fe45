//! The key-encryption key (KEK) that protects private signing keys at rest in the database.
//!
//! Sealed by [`crate::core::aead`] (AES-256-GCM) with the kid as associated data, so a blob
//! copied onto another key's row fails to decrypt.

use crate::core::{CoreError, aead, random};
use base64::Engine;
use std::fmt;
use std::io::Write;
use std::path::Path;

const KEY_LEN: usize = 32;

/// A 256-bit AES key that encrypts private signing keys. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Kek {
    key: [u8; KEY_LEN],
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    /// A 32-byte key for another purpose, derived with HMAC-SHA-256 under `label`, so the one
    /// configured secret can key several things without reusing the same key material.
    pub fn derive(&self, label: &[u8]) -> Result<[u8; KEY_LEN], CoreError> {
        let pkey = openssl::pkey::PKey::hmac(&self.key)?;
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &pkey)?;
        signer.update(label)?;
        let mac = signer.sign_to_vec()?;
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&mac[..KEY_LEN]);
        Ok(out)
    }

    /// A KEK from its standard (or URL-safe) base64 form; surrounding whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<Self, CoreError> {
        let text = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| CoreError::Invalid("key-encryption key is not valid base64".into()))?;
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            CoreError::Invalid("key-encryption key must be exactly 32 bytes (256 bits)".into())
        })?;
        Ok(Self { key })
    }

    /// Reads a KEK from a file holding its base64 form.
    pub fn load(path: &Path) -> Result<Self, CoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CoreError::Invalid(format!(
                "cannot read key-encryption key {}: {e}",
                path.display()
            ))
        })?;
        Self::from_base64(&text)
    }

    /// For development: reads the KEK file, or creates it with a fresh random key (mode 0600,
    /// parent directories created). Production should provision the KEK and use [`Kek::load`],
    /// since a KEK made here lives only on this machine.
    pub fn load_or_create(path: &Path) -> Result<Self, CoreError> {
        if path.exists() {
            return Self::load(path);
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                CoreError::Invalid(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let kek = Self {
            key: random::bytes(KEY_LEN)?.try_into().map_err(|_| {
                CoreError::Unavailable("random generator returned too few bytes".into())
            })?,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                let text = base64::engine::general_purpose::STANDARD.encode(kek.key);
                writeln!(file, "{text}")
                    .and_then(|()| file.sync_all())
                    .map_err(|e| {
                        CoreError::Invalid(format!("cannot write {}: {e}", path.display()))
                    })?;
                Ok(kek)
            }
            // Another process created it between our check and our open: theirs wins.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(e) => Err(CoreError::Invalid(format!(
                "cannot create key-encryption key {}: {e}",
                path.display()
            ))),
        }
    }

    /// Encrypts a private key (PKCS#8 DER) bound to its kid.
    pub fn encrypt(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, CoreError> {
        aead::seal(&self.key, kid.as_bytes(), plaintext)
    }

    /// Decrypts a blob made by [`Kek::encrypt`] for the same kid. A wrong KEK, a wrong kid or
    /// any tampering is an error naming the kid.
    pub fn decrypt(&self, kid: &str, blob: &[u8]) -> Result<Vec<u8>, CoreError> {
        aead::open(&self.key, kid.as_bytes(), blob).ok_or_else(|| {
            CoreError::Invalid(format!(
                "cannot decrypt private key '{kid}': wrong key-encryption key or damaged record"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> Kek {
        Kek::from_base64(&base64::engine::general_purpose::STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn round_trip() {
        let blob = kek().encrypt("kid-1", b"secret der").unwrap();
        assert_eq!(blob[0], 1, "the version byte of the stored layout");
        assert_eq!(blob.len(), 1 + 12 + 10 + 16);
        assert_eq!(kek().decrypt("kid-1", &blob).unwrap(), b"secret der");
    }

    #[test]
    fn wrong_kek_wrong_kid_or_tampering_fail_naming_the_kid() {
        let blob = kek().encrypt("kid-1", b"secret der").unwrap();
        let other =
            Kek::from_base64(&base64::engine::general_purpose::STANDARD.encode([8u8; 32])).unwrap();
        let err = other.decrypt("kid-1", &blob).unwrap_err().to_string();
        assert!(err.contains("kid-1"), "{err}");
        assert!(kek().decrypt("kid-2", &blob).is_err());
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(kek().decrypt("kid-1", &bad).is_err(), "byte {i}");
        }
        assert!(kek().decrypt("kid-1", &blob[..20]).is_err());
    }

    #[test]
    fn bad_lengths_are_refused_and_debug_hides_the_key() {
        assert!(Kek::from_base64("AAAA").is_err());
        assert!(Kek::from_base64("not base64!").is_err());
        assert_eq!(format!("{:?}", kek()), "Kek(<redacted>)");
    }

    #[test]
    fn load_or_create_makes_a_private_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/kek.b64");
        let first = Kek::load_or_create(&path).unwrap();
        let second = Kek::load_or_create(&path).unwrap();
        assert_eq!(first.key, second.key);
        assert_eq!(Kek::load(&path).unwrap().key, first.key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(Kek::load(&dir.path().join("missing")).is_err());
    }
}
