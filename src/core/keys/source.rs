//! Where keys come from: the database (encrypted with the KEK) or PEM files named in config.

use super::generate::self_signed_certificate;
use super::kek::Kek;
use super::signing::SigningKey;
use crate::core::CoreError;
use crate::store::{KeyState, StoredKey};
use chrono::{DateTime, Duration, Utc};
use openssl::pkey::PKey;
use openssl::x509::X509;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Where the key ring reads its keys.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Keys live in the database, private parts encrypted with this KEK; they can be generated
    /// and rotated online.
    Database(Kek),
    /// Keys come from PEM files; they change only when the configuration does.
    Files(Vec<KeyFile>),
}

/// One key loaded from PEM files. The family (RSA or P-256) is inferred from the key.
///
/// Without `certificate_pem` a self-signed certificate is made at load; it differs on every
/// node and every restart, so with several nodes (or SAML peers that pin the certificate)
/// give the certificate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// Key id published in the JWKS and JWT headers.
    pub kid: String,
    /// Life-cycle state, as set by the operator.
    pub state: KeyState,
    /// The private key, PEM (PKCS#8 or traditional).
    pub private_key_pem: PathBuf,
    /// Its X.509 certificate, PEM.
    pub certificate_pem: Option<PathBuf>,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, CoreError> {
    std::fs::read(path)
        .map_err(|e| CoreError::Invalid(format!("cannot read {what} {}: {e}", path.display())))
}

/// Loads the non-retired keys named in config. Refuses duplicate kids and two active keys of
/// one family, since the operator must say which one signs.
pub(super) fn load_files(
    files: &[KeyFile],
    subject_cn: &str,
    now: DateTime<Utc>,
) -> Result<Vec<SigningKey>, CoreError> {
    let mut kids = HashSet::new();
    let mut active = HashSet::new();
    let mut keys = Vec::new();
    for file in files {
        if !kids.insert(file.kid.as_str()) {
            return Err(CoreError::Invalid(format!(
                "key '{}' is configured twice",
                file.kid
            )));
        }
        if file.state == KeyState::Retired {
            continue;
        }
        let pem = read(&file.private_key_pem, "private key")?;
        let pkey = PKey::private_key_from_pem(&pem).map_err(|_| {
            CoreError::Invalid(format!(
                "key '{}': {} is not a PEM private key",
                file.kid,
                file.private_key_pem.display()
            ))
        })?;
        let certificate = match &file.certificate_pem {
            Some(path) => X509::from_pem(&read(path, "certificate")?).map_err(|_| {
                CoreError::Invalid(format!(
                    "key '{}': {} is not a PEM certificate",
                    file.kid,
                    path.display()
                ))
            })?,
            None => self_signed_certificate(&pkey, subject_cn, now)?,
        };
        let key = SigningKey::new(file.kid.clone(), file.state, pkey, certificate, now, now)
            .map_err(|e| CoreError::Invalid(format!("key '{}': {e}", file.kid)))?;
        if key.state() == KeyState::Active && !active.insert(key.family()) {
            return Err(CoreError::Invalid(format!(
                "more than one active {} key in config",
                key.family()
            )));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Whether a stored key is still published at `now`: not retired, and if retiring, not for
/// longer than `grace` (the store retires it only at the next rotation, but it must stop being
/// published on time even if nobody rotates).
pub(super) fn is_published(key: &StoredKey, now: DateTime<Utc>, grace: Duration) -> bool {
    match key.state {
        KeyState::Retired => false,
        KeyState::Retiring => key.state_changed_at >= now - grace,
        KeyState::Next | KeyState::Active => true,
    }
}

/// Decrypts and parses a stored key.
pub(super) fn open_stored(kek: &Kek, stored: &StoredKey) -> Result<SigningKey, CoreError> {
    let der = kek.decrypt(&stored.kid, &stored.encrypted_private_key)?;
    let bad = |what: &str| CoreError::Invalid(format!("key '{}': {what}", stored.kid));
    let pkey = PKey::private_key_from_pkcs8(&der).map_err(|_| bad("damaged private key"))?;
    let certificate =
        X509::from_der(&stored.certificate).map_err(|_| bad("damaged certificate"))?;
    let key = SigningKey::new(
        stored.kid.clone(),
        stored.state,
        pkey,
        certificate,
        stored.created_at,
        stored.state_changed_at,
    )?;
    if key.family().stored_alg() != stored.alg {
        return Err(bad("stored alg does not match the key"));
    }
    Ok(key)
}
