//! Verifying JWTs a client signs (`private_key_jwt` assertions, request objects) with the
//! keys it registered: a JWK Set given at registration, or its `jwks_uri`, fetched over
//! HTTPS, cached, and fetched again when a JWT names a `kid` the cache does not hold (so a
//! client can rotate its keys). Signatures are checked by the `jsonwebtoken` crate; the
//! claims are the caller's to check.

use super::client::OidcClient;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a fetched JWK Set is used before it is fetched again.
const CACHE_TTL: Duration = Duration::from_secs(300);
/// A JWK Set is fetched again for an unknown `kid` at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(2);
/// Largest JWK Set accepted from a `jwks_uri`.
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Signature algorithms accepted from clients.
pub const CLIENT_ALGS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

/// Why a client JWT was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a JWS, or an algorithm not allowed here.
    #[error("malformed or not allowed: {0}")]
    Malformed(String),
    /// The client has no keys, or none matches.
    #[error("no matching client key: {0}")]
    NoKey(String),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The client's `jwks_uri` could not be fetched.
    #[error("client keys unavailable: {0}")]
    Unavailable(String),
}

struct Cached {
    keys: JwkSet,
    fetched: Instant,
}

fn cache() -> &'static Mutex<HashMap<String, Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Cached>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The HTTP client for fetching client documents: short timeouts, no redirects.
pub fn http() -> &'static reqwest::Client {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default()
    })
}

/// Fetches a small JSON document from a client URI (`jwks_uri`, `sector_identifier_uri`,
/// `request_uri`): 200 only, at most `MAX_JWKS_BYTES`.
pub async fn fetch(uri: &str) -> Result<bytes::Bytes, KeyError> {
    let res = http()
        .get(uri)
        .send()
        .await
        .map_err(|e| KeyError::Unavailable(format!("{uri}: {e}")))?;
    if !res.status().is_success() {
        return Err(KeyError::Unavailable(format!(
            "{uri}: HTTP {}",
            res.status()
        )));
    }
    if res
        .content_length()
        .is_some_and(|l| l > MAX_JWKS_BYTES as u64)
    {
        return Err(KeyError::Unavailable(format!("{uri}: too large")));
    }
    let body = res
        .bytes()
        .await
        .map_err(|e| KeyError::Unavailable(format!("{uri}: {e}")))?;
    if body.len() > MAX_JWKS_BYTES {
        return Err(KeyError::Unavailable(format!("{uri}: too large")));
    }
    Ok(body)
}

async fn fetch_jwks(uri: &str) -> Result<JwkSet, KeyError> {
    let body = fetch(uri).await?;
    serde_json::from_slice(&body).map_err(|e| KeyError::Unavailable(format!("{uri}: {e}")))
}

/// The client's keys; `refresh` forces a fetch of its `jwks_uri` (rate-limited).
async fn client_jwks(client: &OidcClient, refresh: bool) -> Result<JwkSet, KeyError> {
    if let Some(value) = &client.settings.jwks {
        return serde_json::from_value(value.clone())
            .map_err(|e| KeyError::NoKey(format!("registered jwks: {e}")));
    }
    let Some(uri) = &client.settings.jwks_uri else {
        return Err(KeyError::NoKey("the client registered no keys".into()));
    };
    let cached = {
        let map = cache().lock().unwrap_or_else(|p| p.into_inner());
        map.get(uri).and_then(|c| {
            let age = c.fetched.elapsed();
            let fresh = age < CACHE_TTL && !(refresh && age >= REFETCH_AFTER);
            fresh.then(|| c.keys.clone())
        })
    };
    if let Some(keys) = cached {
        return Ok(keys);
    }
    let keys = fetch_jwks(uri).await?;
    cache().lock().unwrap_or_else(|p| p.into_inner()).insert(
        uri.clone(),
        Cached {
            keys: keys.clone(),
            fetched: Instant::now(),
        },
    );
    Ok(keys)
}

fn try_keys(
    keys: &JwkSet,
    kid: Option<&str>,
    jwt: &str,
    validation: &Validation,
) -> Option<Result<serde_json::Value, KeyError>> {
    let candidates: Vec<_> = keys
        .keys
        .iter()
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let mut last = KeyError::BadSignature;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            last = KeyError::NoKey("a registered key is not usable".into());
            continue;
        };
        match jsonwebtoken::decode::<serde_json::Value>(jwt, &key, validation) {
            Ok(data) => return Some(Ok(data.claims)),
            Err(e) => {
                last = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => KeyError::BadSignature,
                    other => KeyError::Malformed(format!("{other:?}")),
                }
            }
        }
    }
    Some(Err(last))
}

/// The claims of `jwt` when it is signed, with one of `allowed`, by a key the client
/// registered. Claims (`iss`, `aud`, `exp`, `jti`…) are not checked here.
pub async fn verify(
    client: &OidcClient,
    jwt: &str,
    allowed: &[Algorithm],
) -> Result<serde_json::Value, KeyError> {
    let header =
        jsonwebtoken::decode_header(jwt).map_err(|e| KeyError::Malformed(e.to_string()))?;
    if !allowed.contains(&header.alg) {
        return Err(KeyError::Malformed(format!(
            "algorithm {:?} not allowed",
            header.alg
        )));
    }
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let kid = header.kid.as_deref();
    let keys = client_jwks(client, false).await?;
    if let Some(result) = try_keys(&keys, kid, jwt, &validation) {
        return result;
    }
    // An unknown kid: the client may have rotated its keys.
    let keys = client_jwks(client, true).await?;
    try_keys(&keys, kid, jwt, &validation)
        .unwrap_or_else(|| Err(KeyError::NoKey(format!("no key with kid {kid:?}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use base64::Engine as _;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn rsa_jwk(key: &openssl::rsa::Rsa<openssl::pkey::Private>, kid: &str) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": B64.encode(key.n().to_vec()), "e": B64.encode(key.e().to_vec()),
        })
    }

    fn sign(
        key: &openssl::rsa::Rsa<openssl::pkey::Private>,
        kid: &str,
        claims: &serde_json::Value,
    ) -> String {
        let der = key.private_key_to_der().unwrap();
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(&der),
        )
        .unwrap()
    }

    fn client(jwks: Option<serde_json::Value>, jwks_uri: Option<String>) -> OidcClient {
        let (rp, _) = NewClient {
            id: "svc".into(),
            redirect_uris: vec!["https://rp.example/cb".into()],
            grant_types: vec![GrantType::AuthorizationCode],
            auth_method: ClientAuthMethod::PrivateKeyJwt,
            jwks,
            jwks_uri,
            ..Default::default()
        }
        .build()
        .unwrap();
        OidcClient::from_relying_party(rp).unwrap().unwrap()
    }

    #[tokio::test]
    async fn registered_keys_verify_and_others_do_not() {
        let key = openssl::rsa::Rsa::generate(2048).unwrap();
        let other = openssl::rsa::Rsa::generate(2048).unwrap();
        let c = client(
            Some(serde_json::json!({ "keys": [rsa_jwk(&key, "k1")] })),
            None,
        );
        let claims = serde_json::json!({ "iss": "svc", "jti": "1" });
        let good = sign(&key, "k1", &claims);
        assert_eq!(verify(&c, &good, &CLIENT_ALGS).await.unwrap(), claims);
        assert!(matches!(
            verify(&c, &sign(&other, "k1", &claims), &CLIENT_ALGS).await,
            Err(KeyError::BadSignature)
        ));
        assert!(matches!(
            verify(&c, &sign(&key, "k9", &claims), &CLIENT_ALGS).await,
            Err(KeyError::NoKey(_))
        ));
        assert!(matches!(
            verify(&c, &good, &[Algorithm::ES256]).await,
            Err(KeyError::Malformed(_))
        ));
        // alg: none is never a signature.
        let parts: Vec<&str> = good.split('.').collect();
        let none = format!("{}.{}.", B64.encode(br#"{"alg":"none"}"#), parts[1]);
        assert!(verify(&c, &none, &CLIENT_ALGS).await.is_err());
    }

    #[tokio::test]
    async fn a_jwks_uri_is_fetched_again_for_an_unknown_kid() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        let k1 = openssl::rsa::Rsa::generate(2048).unwrap();
        let k2 = openssl::rsa::Rsa::generate(2048).unwrap();
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "keys": [rsa_jwk(&k1, "k1")] })),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        let c = client(None, Some(format!("{}/jwks", server.uri())));
        let claims = serde_json::json!({ "iss": "svc" });
        verify(&c, &sign(&k1, "k1", &claims), &CLIENT_ALGS)
            .await
            .unwrap();
        // The client rotates to k2; pasarela re-fetches once the rate limit allows.
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "keys": [rsa_jwk(&k2, "k2")] })),
            )
            .mount(&server)
            .await;
        tokio::time::sleep(REFETCH_AFTER + Duration::from_millis(100)).await;
        verify(&c, &sign(&k2, "k2", &claims), &CLIENT_ALGS)
            .await
            .unwrap();
    }
}
