//! Request objects (RFC 9101, OIDC Core §6): the authorization parameters as a JWT, by value
//! (`request`) or by reference (`request_uri`, fetched over https). The JWT is signed with one
//! of the client's registered keys, or unsigned (`alg: none`) only when the client registered
//! `request_object_signing_alg = "none"`. Its parameters take precedence over the query's.

use super::client::{OidcClient, check_fetchable_uri};
use super::client_keys::{self, CLIENT_ALGS};
use super::error::AuthzError;
use super::request::Params;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::Value;

/// Claims of the JWT that are about the object itself, not authorization parameters.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

fn object_error(description: impl Into<String>) -> AuthzError {
    AuthzError::new("invalid_request_object", description)
}

fn uri_error(description: impl Into<String>) -> AuthzError {
    AuthzError::new("invalid_request_uri", description)
}

/// The request's parameters with its request object applied, or `None` when it has none.
pub async fn expand(
    client: &OidcClient,
    issuer: &str,
    now: i64,
    params: &Params,
) -> Result<Option<Params>, AuthzError> {
    let jwt = match (params.get("request"), params.get("request_uri")) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(AuthzError::invalid_request(
                "request and request_uri cannot both be sent",
            ));
        }
        (Some(jwt), None) => jwt.to_owned(),
        (None, Some(uri)) => fetch(client, uri).await?,
    };
    let claims = claims_of(client, &jwt).await?;
    check_claims(client, issuer, now, params, &claims)?;
    if params.get("response_type").is_none() {
        return Err(AuthzError::invalid_request(
            "response_type is required in the query as well",
        ));
    }
    let overrides = claims
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !JWT_CLAIMS.contains(&k.as_str()))
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect();
    Ok(Some(params.overlaid(overrides)))
}

/// Fetches a `request_uri`: https, and one the client registered when it registered any
/// (compared without the fragment).
async fn fetch(client: &OidcClient, uri: &str) -> Result<String, AuthzError> {
    let base = uri.split('#').next().unwrap_or(uri);
    check_fetchable_uri(base).map_err(|_| uri_error("request_uri must be an https URL"))?;
    let registered = &client.settings.request_uris;
    if !registered.is_empty()
        && !registered
            .iter()
            .any(|r| r.split('#').next().unwrap_or(r) == base)
    {
        return Err(uri_error("request_uri is not registered for this client"));
    }
    let body = client_keys::fetch(base).await.map_err(|e| {
        tracing::info!(error = %e, "request_uri could not be fetched");
        uri_error("request_uri could not be fetched")
    })?;
    String::from_utf8(body.to_vec())
        .map(|s| s.trim().to_owned())
        .map_err(|_| uri_error("request_uri did not hold a JWT"))
}

/// The claims of a request object, after its signature (or its registered absence).
async fn claims_of(client: &OidcClient, jwt: &str) -> Result<Value, AuthzError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(object_error("the request object is not a JWS"));
    };
    let header: Value = b64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| object_error("the request object header is not JSON"))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let registered = client.settings.request_object_signing_alg.as_deref();
    let claims = if alg == "none" {
        if registered != Some("none") || !sig.is_empty() {
            return Err(object_error(
                "unsigned request objects are not accepted from this client",
            ));
        }
        b64.decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| object_error("the request object claims are not JSON"))?
    } else {
        let allowed: Vec<Algorithm> = match registered {
            Some("none") => Vec::new(),
            Some(a) => a.parse::<Algorithm>().into_iter().collect(),
            None => CLIENT_ALGS.to_vec(),
        };
        client_keys::verify(client, jwt, &allowed)
            .await
            .map_err(|e| {
                tracing::info!(error = %e, "request object refused");
                object_error("the request object signature could not be verified")
            })?
    };
    if !claims.is_object() {
        return Err(object_error("the request object claims are not an object"));
    }
    Ok(claims)
}

fn check_claims(
    client: &OidcClient,
    issuer: &str,
    now: i64,
    params: &Params,
    claims: &Value,
) -> Result<(), AuthzError> {
    if let Some(iss) = claims.get("iss")
        && iss.as_str() != Some(client.id())
    {
        return Err(object_error("iss must be the client_id"));
    }
    if let Some(aud) = claims.get("aud") {
        let ok = match aud {
            Value::String(a) => a == issuer,
            Value::Array(a) => a.iter().any(|v| v.as_str() == Some(issuer)),
            _ => false,
        };
        if !ok {
            return Err(object_error("aud must contain the issuer"));
        }
    }
    if let Some(exp) = claims.get("exp")
        && exp.as_i64().is_none_or(|e| e <= now)
    {
        return Err(object_error("the request object has expired"));
    }
    if let Some(nbf) = claims.get("nbf")
        && nbf.as_i64().is_none_or(|n| n > now + 60)
    {
        return Err(object_error("the request object is not valid yet"));
    }
    if let Some(id) = claims.get("client_id")
        && id.as_str() != params.get("client_id")
    {
        return Err(object_error(
            "client_id in the request object must be the query's",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use serde_json::json;

    const ISS: &str = "https://idp.example";
    const NOW: i64 = 1_800_000_000;

    fn client(alg: Option<&str>, jwks: Option<Value>) -> OidcClient {
        let (rp, _) = NewClient {
            id: "rp".into(),
            redirect_uris: vec!["https://rp.example/cb".into()],
            grant_types: vec![GrantType::AuthorizationCode],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            request_object_signing_alg: alg.map(str::to_owned),
            jwks,
            ..Default::default()
        }
        .build()
        .unwrap();
        OidcClient::from_relying_party(rp).unwrap().unwrap()
    }

    fn unsigned(claims: &Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none"}"#),
            b64.encode(claims.to_string())
        )
    }

    fn params(request: &str) -> Params {
        Params::new(vec![
            ("client_id".into(), "rp".into()),
            ("response_type".into(), "code".into()),
            ("scope".into(), "openid".into()),
            ("state".into(), "from-query".into()),
            ("request".into(), request.into()),
        ])
    }

    #[tokio::test]
    async fn an_unsigned_object_is_applied_only_when_registered_so() {
        let object = unsigned(&json!({
            "client_id": "rp", "aud": ISS, "iss": "rp", "exp": NOW + 60,
            "state": "from-object", "redirect_uri": "https://rp.example/cb", "max_age": 30,
        }));
        let p = expand(&client(Some("none"), None), ISS, NOW, &params(&object))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.get("state"), Some("from-object"));
        assert_eq!(p.get("redirect_uri"), Some("https://rp.example/cb"));
        assert_eq!(p.get("max_age"), Some("30"));
        assert_eq!(p.get("scope"), Some("openid"));
        assert_eq!(p.get("request"), None);
        assert_eq!(p.get("aud"), None);
        for c in [client(None, None), client(Some("RS256"), None)] {
            let err = expand(&c, ISS, NOW, &params(&object)).await.err().unwrap();
            assert_eq!(err.code, "invalid_request_object");
        }
    }

    #[tokio::test]
    async fn claims_are_checked() {
        let c = client(Some("none"), None);
        for bad in [
            json!({ "iss": "other" }),
            json!({ "aud": "https://other.example" }),
            json!({ "aud": ["https://other.example"] }),
            json!({ "exp": NOW - 1 }),
            json!({ "nbf": NOW + 600 }),
            json!({ "client_id": "other" }),
        ] {
            let err = expand(&c, ISS, NOW, &params(&unsigned(&bad)))
                .await
                .err()
                .unwrap();
            assert_eq!(err.code, "invalid_request_object", "{bad}");
        }
        let err = expand(&c, ISS, NOW, &params("not-a-jwt"))
            .await
            .err()
            .unwrap();
        assert_eq!(err.code, "invalid_request_object");
        assert!(
            expand(&c, ISS, NOW, &params(&unsigned(&json!({ "aud": [ISS] }))))
                .await
                .is_ok()
        );
        let none = Params::new(vec![("client_id".into(), "rp".into())]);
        assert!(expand(&c, ISS, NOW, &none).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_signed_object_is_verified_with_the_client_keys() {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let key = openssl::rsa::Rsa::generate(2048).unwrap();
        let jwks = json!({ "keys": [{
            "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
            "n": b64.encode(key.n().to_vec()), "e": b64.encode(key.e().to_vec()),
        }]});
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        let der = key.private_key_to_der().unwrap();
        let signed = jsonwebtoken::encode(
            &header,
            &json!({ "iss": "rp", "aud": ISS, "nonce": "n-1" }),
            &jsonwebtoken::EncodingKey::from_rsa_der(&der),
        )
        .unwrap();
        let c = client(Some("RS256"), Some(jwks.clone()));
        let p = expand(&c, ISS, NOW, &params(&signed))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.get("nonce"), Some("n-1"));
        // Registered for another algorithm, or with other keys: refused.
        let ps = client(Some("PS256"), Some(jwks));
        assert!(expand(&ps, ISS, NOW, &params(&signed)).await.is_err());
        let other = openssl::rsa::Rsa::generate(2048).unwrap();
        let other_jwks = json!({ "keys": [{
            "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
            "n": b64.encode(other.n().to_vec()), "e": b64.encode(other.e().to_vec()),
        }]});
        let wrong = client(None, Some(other_jwks));
        let err = expand(&wrong, ISS, NOW, &params(&signed))
            .await
            .err()
            .unwrap();
        assert_eq!(err.code, "invalid_request_object");
        // A tampered payload fails.
        let mut parts: Vec<&str> = signed.split('.').collect();
        let forged = b64.encode(json!({ "iss": "rp", "nonce": "evil" }).to_string());
        parts[1] = &forged;
        let c = client(Some("RS256"), None);
        assert!(
            expand(&c, ISS, NOW, &params(&parts.join(".")))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn request_uris_must_be_https_and_registered() {
        let mut c = client(Some("none"), None);
        let p = |uri: &str| {
            Params::new(vec![
                ("client_id".into(), "rp".into()),
                ("response_type".into(), "code".into()),
                ("request_uri".into(), uri.into()),
            ])
        };
        let err = expand(&c, ISS, NOW, &p("http://rp.example/r.jwt"))
            .await
            .err()
            .unwrap();
        assert_eq!(err.code, "invalid_request_uri");
        c.settings.request_uris = vec!["https://rp.example/r.jwt#x".into()];
        let err = expand(&c, ISS, NOW, &p("https://rp.example/other.jwt"))
            .await
            .err()
            .unwrap();
        assert_eq!(err.code, "invalid_request_uri");
        // Registered (fragment ignored) but unreachable: still invalid_request_uri.
        c.settings.request_uris = vec!["https://127.0.0.1:1/r.jwt#x".into()];
        let err = expand(&c, ISS, NOW, &p("https://127.0.0.1:1/r.jwt#y"))
            .await
            .err()
            .unwrap();
        assert_eq!(err.code, "invalid_request_uri");
        let both = Params::new(vec![
            ("request".into(), "a.b.".into()),
            ("request_uri".into(), "https://rp.example/r".into()),
        ]);
        assert_eq!(
            expand(&c, ISS, NOW, &both).await.err().unwrap().code,
            "invalid_request"
        );
    }
}
