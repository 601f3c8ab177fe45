//! Integration tests of the OpenID Provider, one file per feature, all on the test relying
//! party of the harness ([`Rp`]): the real server, clients registered with the real command
//! line, a citizen made active through the library and a session cookie planted in the
//! browser, or the real login pages where the seam is what is tested. ID tokens are checked
//! with the `openidconnect` crate's verifier against the served JWKS.

use crate::harness::*;
use base64::Engine as _;
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A public RSA JWK for `key`, as a client publishes it.
fn rsa_jwk(key: &openssl::rsa::Rsa<openssl::pkey::Private>, kid: &str) -> Value {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    serde_json::json!({
        "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": b64.encode(key.n().to_vec()), "e": b64.encode(key.e().to_vec()),
    })
}

mod authorize;
mod claims;
mod clients;
mod consent;
mod discovery;
mod introspection;
mod login;
mod logout;
mod request_objects;
mod response_types;
mod token;
