//! Client management and authentication: the `admin client` commands, and `private_key_jwt`
//! with replays, audiences, method checks and key rotation.

use super::*;

#[tokio::test]
async fn oidc_client_commands() {
    let op = Rp::start().await;
    let d = &op.d;
    let list = d.cli_json(&["admin", "client", "list"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["app", "sede"]);
    let shown = d.cli_json(&["admin", "client", "show", "sede"]);
    assert_eq!(shown["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(shown["min_level"], "substantial");
    assert!(!shown.to_string().contains(&op.secret));
    assert!(!shown.to_string().contains("secret_sha256"));
    let bad = d.cli(&[
        "admin",
        "client",
        "add",
        "x",
        "--redirect-uri",
        "https://rp/cb#f",
    ]);
    assert!(!bad.status.success());
    d.cli_json(&["admin", "client", "remove", "app"]);
    let res = op.get(&authorize_path("app", &[])).await;
    assert_eq!(res.status(), 400);
    op.stop().await;
}

/// A `private_key_jwt` client assertion for `client`, signed with `key` under `kid`.
fn assertion(
    key: &openssl::rsa::Rsa<openssl::pkey::Private>,
    kid: &str,
    client: &str,
    aud: Value,
    jti: &str,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    let claims = serde_json::json!({
        "iss": client, "sub": client, "aud": aud, "jti": jti,
        "iat": now, "exp": now + 60,
    });
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(&key.private_key_to_der().unwrap()),
    )
    .unwrap()
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[tokio::test]
async fn oidc_private_key_jwt_with_replay_audience_method_checks_and_key_rotation() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let op = Rp::start().await;
    let keys = MockServer::start().await;
    let k1 = openssl::rsa::Rsa::generate(2048).unwrap();
    let k2 = openssl::rsa::Rsa::generate(2048).unwrap();
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "keys": [rsa_jwk(&k1, "k1")] })),
        )
        .up_to_n_times(1)
        .mount(&keys)
        .await;
    let secret = op
        .register(NewClient {
            id: "pkj".into(),
            redirect_uris: vec![CB.into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            auth_method: ClientAuthMethod::PrivateKeyJwt,
            jwks_uri: Some(format!("{}/jwks", keys.uri())),
            skip_consent: true,
            ..Default::default()
        })
        .await;
    assert!(secret.is_none());
    let token_url = format!("{ISSUER}/oidc/token");
    op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "pkj", &[]).await;
    let a1 = assertion(&k1, "k1", "pkj", Value::from(token_url.as_str()), "j1");
    let (status, issued, headers) = op
        .token(
            "pkj",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", a1.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(headers["cache-control"], "no-store");
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    let refresh_with = |a: String| {
        let refresh = refresh.clone();
        let op = &op;
        async move {
            op.token(
                "pkj",
                None,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", a.as_str()),
                ],
            )
            .await
        }
    };
    // The same assertion twice: the jti is single use.
    let (status, body, headers) = refresh_with(a1.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(headers.get("www-authenticate").is_none());
    assert_eq!(headers["cache-control"], "no-store");
    // A wrong audience; an array holding the issuer is fine.
    let (status, _, _) = refresh_with(assertion(
        &k1,
        "k1",
        "pkj",
        Value::from(format!("{ISSUER}/oidc/userinfo")),
        "j2",
    ))
    .await;
    assert_eq!(status, 401);
    // Another client's name in the assertion (iss/sub) is not this client.
    let (status, _, _) =
        refresh_with(assertion(&k1, "k1", "sede", Value::from(ISSUER), "j3")).await;
    assert_eq!(status, 401);
    // A secret client cannot authenticate with an assertion (it registered another method).
    let (status, body, _) = op
        .token(
            "sede",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", "sede"),
                ("client_assertion_type", JWT_BEARER),
                (
                    "client_assertion",
                    assertion(&k1, "k1", "sede", Value::from(ISSUER), "j4").as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // And the private_key_jwt client cannot use Basic.
    let (status, _, headers) = op
        .token(
            "pkj",
            Some("guess"),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    // A body client_id that differs from the assertion's client.
    let (status, _, _) = op
        .token(
            "sede",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", "app"),
                ("client_assertion_type", JWT_BEARER),
                (
                    "client_assertion",
                    assertion(&k1, "k1", "pkj", Value::from(ISSUER), "j5").as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(status, 401);
    // A wrong assertion type.
    let (status, _, _) = op
        .token(
            "pkj",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_assertion_type", "urn:x"),
                (
                    "client_assertion",
                    assertion(&k1, "k1", "pkj", Value::from(ISSUER), "j6").as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(status, 401);
    // The client rotates to k2: an unknown kid makes pasarela fetch its jwks_uri again.
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "keys": [rsa_jwk(&k2, "k2")] })),
        )
        .mount(&keys)
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let aud = serde_json::json!(["https://elsewhere", ISSUER]);
    let (status, body, _) = refresh_with(assertion(&k2, "k2", "pkj", aud, "j7")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    // At the PAR endpoint an assertion may name that endpoint (RFC 9126 §2); another
    // endpoint of ours is still not an audience.
    let par = |aud: &str, jti: &str| {
        let a = assertion(&k2, "k2", "pkj", Value::from(aud), jti);
        let op = &op;
        async move {
            post_form(
                op,
                "/oidc/par",
                None,
                &[
                    ("response_type", "code"),
                    ("scope", "openid"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", a.as_str()),
                ],
            )
            .await
        }
    };
    let (status, body, _) = par(&format!("{ISSUER}/oidc/par"), "j8").await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = par(&format!("{ISSUER}/oidc/userinfo"), "j9").await;
    assert_eq!(status, 401, "{body}");
    op.stop().await;
}
