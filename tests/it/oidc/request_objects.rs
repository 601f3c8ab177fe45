//! Pushed authorization requests (used once, by their client, until they expire) and
//! `request_uri` objects fetched and verified.

use super::*;

/// POSTs a pushed authorization request, answering the status and the JSON body.
async fn push(
    op: &Rp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let (status, body, headers) = post_form(op, "/oidc/par", basic, form).await;
    (status, serde_json::from_str(&body).unwrap(), headers)
}

#[tokio::test]
async fn oidc_pushed_authorization_requests_are_used_once_by_their_client() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = Rp::start().await;
    let meta: Value = op
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["pushed_authorization_request_endpoint"],
        format!("{ISSUER}/oidc/par")
    );
    assert_eq!(meta["require_pushed_authorization_requests"], false);
    let sede = ("sede", op.secret.as_str());
    let request = [
        ("response_type", "code"),
        ("scope", "openid email"),
        ("redirect_uri", CB),
        ("state", "st-par"),
        ("nonce", "n-par"),
    ];
    let (status, body, headers) = push(&op, Some(sede), &request).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["expires_in"], 60);
    let uri = body["request_uri"].as_str().unwrap().to_owned();
    let random = uri
        .strip_prefix("urn:ietf:params:oauth:request_uri:")
        .expect("an RFC 9126 urn");
    assert!(random.len() >= 22, "at least 128 bits: {random}");
    let by_uri =
        |client: &str, uri: &str| authorize_query(&[("client_id", client), ("request_uri", uri)]);
    // Another client naming it: refused, and it is not spent by that.
    let res = op.get(&by_uri("app", &uri)).await;
    let (login, q) = answer_of(res).await;
    assert!(!login);
    assert_eq!(q["error"], "invalid_request_uri");
    assert!(
        !q.contains_key("state"),
        "the pushed state is not the other client's"
    );
    // No session: the pushed request goes to the login page and comes back with a code.
    let (login, q) = answer_of(op.get(&by_uri("sede", &uri)).await).await;
    assert!(login);
    assert_eq!(q["acr"], "substantial");
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(op.get(&resume).await).await;
    assert!(!login);
    assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("st-par", ISSUER));
    let tokens = exchange(&op, &q["code"]).await;
    let id = verify_id_token(
        &op,
        "sede",
        tokens["id_token"].as_str().unwrap(),
        Some("n-par"),
    )
    .await;
    let info = userinfo_of(&op, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["email"], op.citizen.email.as_str());
    // Used once.
    let (login, q) = answer_of(op.get(&by_uri("sede", &uri)).await).await;
    assert!(!login);
    assert_eq!(q["error"], "invalid_request_uri");
    assert_eq!(q["iss"], ISSUER);
    // Unknown (or expired): the same. Unknown client: a page.
    let (_, q) = answer_of(
        op.get(&by_uri("sede", "urn:ietf:params:oauth:request_uri:nope"))
            .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request_uri");
    let res = op.get(&by_uri("nobody", &uri)).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    // Errors at the PAR endpoint are JSON in the token endpoint's shape.
    let (status, body, headers) = push(&op, Some(("sede", "wrong")), &request).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(headers["cache-control"], "no-store");
    let with = |extra: (&'static str, &'static str)| {
        let mut r: Vec<(&str, &str)> = request.to_vec();
        r.retain(|(k, _)| *k != extra.0);
        r.push(extra);
        r
    };
    for (extra, code) in [
        (
            ("redirect_uri", "https://evil.example/cb"),
            "invalid_request",
        ),
        (("scope", "email"), "invalid_scope"),
        (("response_type", "token"), "unsupported_response_type"),
        (("response_type", "code id_token"), "unauthorized_client"),
        (
            ("request_uri", "https://rp.example/r.jwt"),
            "invalid_request",
        ),
        (("request", "a.b."), "invalid_request_object"),
    ] {
        let (status, body, headers) = push(&op, Some(sede), &with(extra)).await;
        assert_eq!(status, 400, "{extra:?}: {body}");
        assert_eq!(body["error"], code, "{extra:?}");
        assert_eq!(headers["cache-control"], "no-store");
    }
    // A client_id other than the authenticated client's: the authentication fails.
    let (status, body, _) = push(&op, Some(sede), &with(("client_id", "app"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // A public client pushes with its client_id (PKCE still required).
    let (status, body, _) = push(
        &op,
        None,
        &[
            ("client_id", "app"),
            ("response_type", "code"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body, _) = push(
        &op,
        None,
        &[
            ("client_id", "app"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (login, q) = answer_of(
        op.get(&by_uri("app", body["request_uri"].as_str().unwrap()))
            .await,
    )
    .await;
    assert!(!login);
    assert!(q.contains_key("code"), "{q:?}");
    // A request object inside the pushed request is expanded as at the authorization
    // endpoint: its parameters win.
    let secret = op
        .register(NewClient {
            id: "objects".into(),
            display_name: "Objects".into(),
            redirect_uris: vec![CB.into()],
            grant_types: vec![GrantType::AuthorizationCode],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            id_token_alg: pasarela::core::keys::JwsAlg::RS256,
            min_level: LevelOfAssurance::Low,
            skip_consent: true,
            request_object_signing_alg: Some("none".into()),
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let object = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none"}"#),
        b64.encode(
            serde_json::json!({
                "iss": "objects", "aud": ISSUER, "client_id": "objects",
                "response_type": "code", "scope": "openid", "redirect_uri": CB,
                "state": "from-object",
            })
            .to_string()
        )
    );
    let (status, body, _) = push(
        &op,
        Some(("objects", &secret)),
        &[
            ("response_type", "code"),
            ("state", "from-form"),
            ("request", &object),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (login, q) = answer_of(
        op.get(&by_uri("objects", body["request_uri"].as_str().unwrap()))
            .await,
    )
    .await;
    assert!(!login);
    assert_eq!(q["state"], "from-object");
    assert!(q.contains_key("code"));
    op.stop().await;
}

#[tokio::test]
async fn oidc_pushed_authorization_requests_expire() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let d = journey_deployment("");
    let clock = Arc::new(pasarela::clock::ManualClock::new(chrono::Utc::now()));
    let server = pasarela::server::start(d.config(), clock.clone())
        .await
        .unwrap();
    let (rp, secret) = NewClient {
        id: "rp".into(),
        display_name: "RP".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        id_token_alg: pasarela::core::keys::JwsAlg::RS256,
        min_level: LevelOfAssurance::Low,
        ..Default::default()
    }
    .build()
    .unwrap();
    server
        .state
        .engine
        .store
        .put_relying_party(&rp)
        .await
        .unwrap();
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .post(format!("{base}/oidc/par"))
        .basic_auth("rp", secret.as_deref())
        .form(&[
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "late"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let uri = body["request_uri"].as_str().unwrap();
    clock.advance(chrono::Duration::seconds(61));
    let res = http
        .get(format!(
            "{base}{}",
            authorize_query(&[("client_id", "rp"), ("request_uri", uri)])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "invalid_request_uri");
    assert!(!q.contains_key("code"));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn oidc_request_uri_is_fetched_verified_and_must_be_registered() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let op = Rp::start().await;
    let rp_server = MockServer::start().await;
    let key = openssl::rsa::Rsa::generate(2048).unwrap();
    let jwks = serde_json::json!({ "keys": [rsa_jwk(&key, "ro-1")] });
    let mut secrets = HashMap::new();
    for (id, uris) in [
        (
            "byref",
            vec![format!("{}/r.jwt#registered", rp_server.uri())],
        ),
        ("anyref", Vec::new()),
    ] {
        let secret = op
            .register(NewClient {
                id: id.into(),
                display_name: id.into(),
                redirect_uris: vec![CB.into()],
                grant_types: vec![GrantType::AuthorizationCode],
                auth_method: ClientAuthMethod::ClientSecretBasic,
                id_token_alg: pasarela::core::keys::JwsAlg::RS256,
                min_level: LevelOfAssurance::Low,
                skip_consent: true,
                jwks: Some(jwks.clone()),
                request_object_signing_alg: Some("RS256".into()),
                request_uris: uris,
                ..Default::default()
            })
            .await;
        secrets.insert(id, secret.unwrap());
    }
    let signed = |client: &str, state: &str, nonce: &str| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("ro-1".into());
        let claims = serde_json::json!({
            "iss": client, "aud": ISSUER, "client_id": client,
            "response_type": "code", "scope": "openid email", "redirect_uri": CB,
            "state": state, "nonce": nonce,
            "exp": chrono::Utc::now().timestamp() + 300,
        });
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(&key.private_key_to_der().unwrap()),
        )
        .unwrap()
    };
    let serve = |at: &str, body: String, hits: u64| {
        Mock::given(method("GET"))
            .and(path(at.to_owned()))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/oauth-authz-req+jwt")
                    .set_body_string(body),
            )
            .expect(hits)
    };
    serve("/r.jwt", signed("byref", "from-uri", "n-uri"), 1)
        .mount(&rp_server)
        .await;
    // Never fetched: byref did not register it.
    serve("/other.jwt", signed("byref", "evil", "n-evil"), 0)
        .mount(&rp_server)
        .await;
    serve("/any.jwt", signed("anyref", "from-any", "n-any"), 1)
        .mount(&rp_server)
        .await;
    // A tampered object: anyref's signature over other claims.
    let good = signed("anyref", "t", "n-t");
    let parts: Vec<&str> = good.split('.').collect();
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        serde_json::json!({
            "iss": "anyref", "aud": ISSUER, "client_id": "anyref", "scope": "openid",
            "redirect_uri": CB, "state": "forged",
        })
        .to_string(),
    );
    serve(
        "/forged.jwt",
        format!("{}.{forged}.{}", parts[0], parts[2]),
        1,
    )
    .mount(&rp_server)
    .await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let by_ref = |client: &str, uri: &str| {
        authorize_query(&[
            ("client_id", client),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "from-query"),
            ("request_uri", uri),
        ])
    };
    let mock = rp_server.uri();
    // Registered (compared without the fragment), fetched, verified with the client's keys:
    // the object's parameters win.
    let (login, q) = answer_of(
        op.get(&by_ref("byref", &format!("{mock}/r.jwt#another")))
            .await,
    )
    .await;
    assert!(!login);
    assert_eq!(q["state"], "from-uri");
    let body = op
        .exchange_for("byref", &secrets["byref"], q["code"].as_str())
        .await;
    verify_id_token(
        &op,
        "byref",
        body["id_token"].as_str().unwrap(),
        Some("n-uri"),
    )
    .await;
    // Not registered: refused before any fetch, back to the client with the query's state.
    let (login, q) = answer_of(op.get(&by_ref("byref", &format!("{mock}/other.jwt"))).await).await;
    assert!(!login);
    assert_eq!(q["error"], "invalid_request_uri");
    assert_eq!(q["state"], "from-query");
    assert!(!q.contains_key("code"));
    // A client that registered no request_uris may use any fetchable one.
    let (_, q) = answer_of(op.get(&by_ref("anyref", &format!("{mock}/any.jwt"))).await).await;
    assert_eq!(q["state"], "from-any");
    assert!(q.contains_key("code"));
    // A tampered object, or one that is not there: refused.
    let (_, q) = answer_of(
        op.get(&by_ref("anyref", &format!("{mock}/forged.jwt")))
            .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request_object");
    assert!(!q.contains_key("code"));
    let (_, q) = answer_of(
        op.get(&by_ref("anyref", &format!("{mock}/missing.jwt")))
            .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request_uri");
    rp_server.verify().await;
    op.stop().await;
}
