//! One signing key with its private part loaded: raw signatures, compact JWTs and
//! verification.

use super::alg::{JwsAlg, KeyFamily};
use super::jwk;
use crate::core::CoreError;
use crate::store::KeyState;
use base64::Engine;
use chrono::{DateTime, Utc};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};
use openssl::x509::X509;
use std::fmt;

/// Length of one ES256 coordinate (r or s) in the JOSE form.
const P256_LEN: usize = 32;

/// A signing key: kid, life-cycle state, private key and the certificate published for it.
/// `Debug` shows only the kid, family and state.
pub struct SigningKey {
    kid: String,
    family: KeyFamily,
    state: KeyState,
    pkey: PKey<Private>,
    certificate: X509,
    certificate_der: Vec<u8>,
    jwk: serde_json::Value,
    created_at: DateTime<Utc>,
    state_changed_at: DateTime<Utc>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("family", &self.family)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The family of a private key, refusing anything but RSA ≥ 2048 bits and P-256.
pub(super) fn family_of(pkey: &PKeyRef<Private>) -> Result<KeyFamily, CoreError> {
    match pkey.id() {
        Id::RSA if pkey.bits() >= 2048 => Ok(KeyFamily::Rsa),
        Id::RSA => Err(CoreError::Invalid(format!(
            "RSA key of {} bits is too small (at least 2048)",
            pkey.bits()
        ))),
        Id::EC => {
            let curve = pkey.ec_key()?.group().curve_name();
            if curve == Some(Nid::X9_62_PRIME256V1) {
                Ok(KeyFamily::Ec)
            } else {
                Err(CoreError::Invalid("EC keys must be on curve P-256".into()))
            }
        }
        _ => Err(CoreError::Invalid(
            "signing keys must be RSA or EC P-256".into(),
        )),
    }
}

impl SigningKey {
    /// Assembles a key, checking that the certificate belongs to the private key.
    pub(super) fn new(
        kid: String,
        state: KeyState,
        pkey: PKey<Private>,
        certificate: X509,
        created_at: DateTime<Utc>,
        state_changed_at: DateTime<Utc>,
    ) -> Result<Self, CoreError> {
        let family = family_of(&pkey)?;
        if !certificate.public_key()?.public_eq(&pkey) {
            return Err(CoreError::Invalid(format!(
                "key '{kid}': the certificate does not match the private key"
            )));
        }
        let certificate_der = certificate.to_der()?;
        let jwk = jwk::public_jwk(&kid, family, &pkey)?;
        Ok(Self {
            kid,
            family,
            state,
            pkey,
            certificate,
            certificate_der,
            jwk,
            created_at,
            state_changed_at,
        })
    }

    /// The key id, as put in JWT headers and the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// RSA or EC.
    pub fn family(&self) -> KeyFamily {
        self.family
    }

    /// The key's state in the snapshot it was loaded with.
    pub fn state(&self) -> KeyState {
        self.state
    }

    /// When the key was made.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When the key last changed state.
    pub fn state_changed_at(&self) -> DateTime<Utc> {
        self.state_changed_at
    }

    /// The private key, for XML signatures in the SAML layer.
    pub fn pkey(&self) -> &PKey<Private> {
        &self.pkey
    }

    /// The self-signed certificate published for this key.
    pub fn certificate(&self) -> &X509 {
        &self.certificate
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The certificate, PEM.
    pub fn certificate_pem(&self) -> Result<String, CoreError> {
        let pem = self.certificate.to_pem()?;
        String::from_utf8(pem).map_err(|_| CoreError::Unavailable("openssl: PEM not UTF-8".into()))
    }

    /// The public JWK (with `kid` and `use: sig`; `alg` only on EC keys, since one RSA key
    /// serves both RS256 and PS256).
    pub fn public_jwk(&self) -> serde_json::Value {
        self.jwk.clone()
    }

    pub(super) fn jwk_ref(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// The algorithms this key can sign with.
    pub fn algs(&self) -> &'static [JwsAlg] {
        match self.family {
            KeyFamily::Rsa => &[JwsAlg::RS256, JwsAlg::PS256],
            KeyFamily::Ec => &[JwsAlg::ES256],
        }
    }

    fn check_alg(&self, alg: JwsAlg) -> Result<(), CoreError> {
        if alg.family() == self.family {
            Ok(())
        } else {
            Err(CoreError::Invalid(format!(
                "key '{}' is {} and cannot sign {alg}",
                self.kid, self.family
            )))
        }
    }

    /// The JWS signature of `data` (for ES256, the raw 64-byte `r || s`).
    pub fn sign(&self, alg: JwsAlg, data: &[u8]) -> Result<Vec<u8>, CoreError> {
        self.check_alg(alg)?;
        let mut signer = Signer::new(MessageDigest::sha256(), &self.pkey)?;
        match alg {
            JwsAlg::RS256 => signer.set_rsa_padding(Padding::PKCS1)?,
            JwsAlg::PS256 => {
                signer.set_rsa_padding(Padding::PKCS1_PSS)?;
                signer.set_rsa_pss_saltlen(RsaPssSaltlen::custom(32))?;
                signer.set_rsa_mgf1_md(MessageDigest::sha256())?;
            }
            JwsAlg::ES256 => {}
        }
        signer.update(data)?;
        let sig = signer.sign_to_vec()?;
        if alg != JwsAlg::ES256 {
            return Ok(sig);
        }
        // OpenSSL produces DER (SEQUENCE of two INTEGERs); JOSE wants fixed-width r || s.
        let sig = EcdsaSig::from_der(&sig)?;
        let mut raw = sig.r().to_vec_padded(P256_LEN as i32)?;
        raw.extend(sig.s().to_vec_padded(P256_LEN as i32)?);
        Ok(raw)
    }

    /// A compact JWT: header `{"alg", "kid", "typ": "JWT"}` plus `header_extra` (which may
    /// change `typ`, e.g. `logout+jwt`, but not `alg` or `kid`), and `claims` as payload.
    pub fn sign_jwt(
        &self,
        alg: JwsAlg,
        header_extra: serde_json::Map<String, serde_json::Value>,
        claims: &serde_json::Value,
    ) -> Result<String, CoreError> {
        self.check_alg(alg)?;
        let mut header = serde_json::Map::new();
        header.insert("typ".into(), "JWT".into());
        header.extend(header_extra);
        header.insert("alg".into(), alg.as_str().into());
        header.insert("kid".into(), self.kid.clone().into());
        let mut token = b64_json(&header)?;
        token.push('.');
        token.push_str(&b64_json(claims)?);
        let sig = self.sign(alg, token.as_bytes())?;
        token.push('.');
        token.push_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig));
        Ok(token)
    }

    /// Whether `sig` is this key's valid JWS signature of `data` under `alg`.
    pub fn verify(&self, alg: JwsAlg, data: &[u8], sig: &[u8]) -> bool {
        alg.family() == self.family && verify_signature(&self.pkey, alg, data, sig)
    }
}

/// Whether `sig` is a valid JWS signature (ES256 in raw `r || s` form) of `data` by `key`.
/// Any malformed input is simply `false`.
pub fn verify_signature<T: HasPublic>(
    key: &PKeyRef<T>,
    alg: JwsAlg,
    data: &[u8],
    sig: &[u8],
) -> bool {
    verify_inner(key, alg, data, sig).unwrap_or(false)
}

fn verify_inner<T: HasPublic>(
    key: &PKeyRef<T>,
    alg: JwsAlg,
    data: &[u8],
    sig: &[u8],
) -> Result<bool, openssl::error::ErrorStack> {
    let expected = match alg {
        JwsAlg::RS256 | JwsAlg::PS256 => Id::RSA,
        JwsAlg::ES256 => Id::EC,
    };
    if key.id() != expected {
        return Ok(false);
    }
    let der;
    let sig = if alg == JwsAlg::ES256 {
        if sig.len() != 2 * P256_LEN {
            return Ok(false);
        }
        let r = BigNum::from_slice(&sig[..P256_LEN])?;
        let s = BigNum::from_slice(&sig[P256_LEN..])?;
        der = EcdsaSig::from_private_components(r, s)?.to_der()?;
        &der[..]
    } else {
        sig
    };
    let mut verifier = Verifier::new(MessageDigest::sha256(), key)?;
    match alg {
        JwsAlg::RS256 => verifier.set_rsa_padding(Padding::PKCS1)?,
        JwsAlg::PS256 => {
            verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
            verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(32))?;
            verifier.set_rsa_mgf1_md(MessageDigest::sha256())?;
        }
        JwsAlg::ES256 => {}
    }
    verifier.update(data)?;
    verifier.verify(sig)
}

fn b64_json<T: serde::Serialize>(value: &T) -> Result<String, CoreError> {
    let json =
        serde_json::to_vec(value).map_err(|e| CoreError::Invalid(format!("JWT JSON: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}
