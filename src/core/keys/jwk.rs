//! Public keys as JWKs, and the JWKS document built once per key-ring snapshot.

use super::alg::KeyFamily;
use super::signing::SigningKey;
use crate::core::CoreError;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::pkey::{PKeyRef, Private};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// P-256 coordinates are always 32 bytes in a JWK, leading zeros included (RFC 7518 §6.2.1.2).
const P256_COORD_LEN: i32 = 32;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The public JWK of a private key: RSA `n`, `e` (minimal big-endian), or EC P-256 `x`, `y`
/// (fixed 32 bytes), plus `kid` and `use: sig`. Only EC keys carry `alg`: an RSA key serves
/// RS256 and PS256, and an `alg` member would restrict it to one.
pub(super) fn public_jwk(
    kid: &str,
    family: KeyFamily,
    pkey: &PKeyRef<Private>,
) -> Result<Value, CoreError> {
    Ok(match family {
        KeyFamily::Rsa => {
            let rsa = pkey.rsa()?;
            json!({
                "kty": "RSA",
                "kid": kid,
                "use": "sig",
                "n": b64(&rsa.n().to_vec()),
                "e": b64(&rsa.e().to_vec()),
            })
        }
        KeyFamily::Ec => {
            let ec = pkey.ec_key()?;
            let mut ctx = BigNumContext::new()?;
            let mut x = BigNum::new()?;
            let mut y = BigNum::new()?;
            ec.public_key()
                .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
            json!({
                "kty": "EC",
                "kid": kid,
                "use": "sig",
                "alg": "ES256",
                "crv": "P-256",
                "x": b64(&x.to_vec_padded(P256_COORD_LEN)?),
                "y": b64(&y.to_vec_padded(P256_COORD_LEN)?),
            })
        }
    })
}

/// `{"keys": [...]}` for the given keys, each kid once (the first occurrence wins).
pub(super) fn jwks(keys: &[Arc<SigningKey>]) -> Result<Vec<u8>, CoreError> {
    let mut seen = HashSet::new();
    let list: Vec<&Value> = keys
        .iter()
        .filter(|k| seen.insert(k.kid()))
        .map(|k| k.jwk_ref())
        .collect();
    serde_json::to_vec(&json!({ "keys": list }))
        .map_err(|e| CoreError::Unavailable(format!("JWKS serialisation: {e}")))
}
