//! The token endpoint: the code flow with PKCE, nonce, userinfo and code reuse; public clients;
//! refresh rotation and family revocation; `client_secret_post` and cross-client refresh.

use super::*;

#[tokio::test]
async fn oidc_code_flow_with_pkce_nonce_userinfo_and_code_reuse() {
    let op = Rp::start().await;
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    let state = "s".repeat(128);
    let code = code_for(
        &op,
        "sede",
        &[
            ("state", &state),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert!(code.len() >= 43, "at least 256 bits");
    // A wrong verifier spends the code.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let (status, body, headers) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(header_of(id_token)["alg"], "RS256");
    assert!(header_of(id_token)["kid"].is_string());
    let claims = verify_id_token(&op, "sede", id_token, Some("n-0S6_WzA2Mj")).await;
    assert_eq!(claims["sub"], op.citizen.id.to_string());
    assert_eq!(claims["azp"], "sede");
    assert_eq!(claims["sid"], session.id.to_string());
    assert_eq!(claims["auth_time"], session.auth_time.timestamp());
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    let access = body["access_token"].as_str().unwrap();
    let digest = openssl::sha::sha256(access.as_bytes());
    assert_eq!(
        claims["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    );
    // Userinfo: GET with Bearer, POST with the token in the body.
    let res = op.userinfo(access).await;
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["given_name"], "Lucía");
    assert_eq!(info["email"], "lucia@example.es");
    assert_eq!(info["phone_number"], "+34600111222");
    assert_eq!(info["identifier"]["type"], "dni");
    assert_eq!(info["identifier"]["value"], "12345678Z");
    assert!(info["updated_at"].is_i64());
    let res = op
        .http
        .post(format!("{}/oidc/userinfo", op.base))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The session records the client.
    let s = op
        .server
        .state
        .engine
        .store
        .session(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert!(s.relying_parties.iter().any(|v| v.rp_id == "sede"));
    // The code again: invalid_grant, and the tokens it gave are revoked.
    let (status, body, _) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    let res = op.userinfo(access).await;
    assert_eq!(res.status(), 401);
    // Audited, never with the code or a token.
    let entries = op
        .server
        .state
        .engine
        .store
        .audit_entries(None, 0, 10_000)
        .await
        .unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.event.kind.as_str()).collect();
    for kind in [
        "oidc.client.registered",
        "oidc.code.issued",
        "oidc.code.exchanged",
        "oidc.grant.revoked",
    ] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    let all = serde_json::to_string(&entries.iter().map(|e| &e.event.detail).collect::<Vec<_>>())
        .unwrap();
    assert!(!all.contains(code.as_str()) && !all.contains(access));
    // A body that is not a form: a JSON error all the same.
    let res = op
        .http
        .post(format!("{}/oidc/token", op.base))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Bad client credentials: 401 invalid_client.
    let code = code_for(&op, "sede", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
    ];
    let (status, body, _) = op.token("sede", Some("wrong"), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // client_secret_post is refused for a client registered for basic.
    let (status, _, _) = op
        .token(
            "sede",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("client_id", "sede"),
                ("client_secret", op.secret.as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 401);
    op.stop().await;
}

#[tokio::test]
async fn oidc_public_client_needs_pkce_and_gets_es256() {
    let op = Rp::start().await;
    op.sign_in(LevelOfAssurance::Low).await;
    // Without PKCE: redirected invalid_request.
    let res = op.get(&authorize_path("app", &[("state", "st")])).await;
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "st");
    assert_eq!(q["iss"], ISSUER);
    let code = code_for(
        &op,
        "app",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("client_id", "app"),
    ];
    let mut form = base.to_vec();
    form.push((
        "code_verifier",
        "wrong-verifier-wrong-verifier-wrong-verifier",
    ));
    let (status, body, _) = op.token("app", None, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let code = code_for(
        &op,
        "app",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("client_id", "app"),
        ("code_verifier", VERIFIER),
    ];
    let (status, body, _) = op.token("app", None, &form).await;
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(header_of(id_token)["alg"], "ES256");
    let claims = verify_id_token(&op, "app", id_token, None).await;
    assert!(claims.get("nonce").is_none());
    assert!(
        body.get("refresh_token").is_none(),
        "not registered for refresh"
    );
    op.stop().await;
}

#[tokio::test]
async fn oidc_refresh_rotates_and_reuse_revokes_the_family() {
    let op = Rp::start().await;
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "sede", &[("nonce", "n1")]).await;
    let first = exchange(&op, &code).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, second, headers) = op.refresh(r1).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(headers["cache-control"], "no-store");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let claims = verify_id_token(&op, "sede", second["id_token"].as_str().unwrap(), None).await;
    assert_eq!(claims["auth_time"], session.auth_time.timestamp());
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/substantial");
    // Presenting r1 again revokes the family: r2 and its access token stop working.
    let (status, body, _) = op.refresh(r1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, _) = op.refresh(r2).await;
    assert_eq!(status, 400);
    let res = op.userinfo(second["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 401);
    op.stop().await;
}

#[tokio::test]
async fn oidc_post_requests_client_secret_post_ignored_parameters_and_cross_client_refresh() {
    let op = Rp::start().await;
    let added = op.d.cli_json(&[
        "admin",
        "client",
        "add",
        "post",
        "--skip-consent",
        "--redirect-uri",
        CB,
        "--auth-method",
        "client_secret_post",
    ]);
    let post_secret = added["client_secret"].as_str().unwrap().to_owned();
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // The authorization request as a POSTed form, with parameters the OP ignores.
    let res = op
        .http
        .post(format!("{}/oidc/authorize", op.base))
        .form(&[
            ("scope", "email openid"),
            ("redirect_uri", CB),
            ("client_id", "post"),
            ("response_type", "code"),
            ("state", "p"),
            ("display", "popup"),
            ("claims_locales", "se"),
            ("ui_locales", "se"),
            ("login_hint", "buffy@localhost"),
            ("extra", "foobar"),
            (
                "acr_values",
                "http://eidas.europa.eu/LoA/low http://eidas.europa.eu/LoA/substantial",
            ),
            ("claims", r#"{"userinfo":{"name":{"essential":true}}}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let q = query_of(&location(&res));
    assert_eq!(q["state"], "p");
    let (status, body, _) = op
        .token(
            "post",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", q["code"].as_str()),
                ("redirect_uri", CB),
                ("client_id", "post"),
                ("client_secret", post_secret.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let first = verify_id_token(&op, "post", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(body["scope"], "openid email");
    // prompt=none with the ID token as hint: silent, same sub and auth_time.
    let hint = body["id_token"].as_str().unwrap().to_owned();
    let code = code_for(&op, "sede", &[("prompt", "none"), ("id_token_hint", &hint)]).await;
    let sede = exchange(&op, &code).await;
    let second = verify_id_token(&op, "sede", sede["id_token"].as_str().unwrap(), None).await;
    assert_eq!(first["sub"], second["sub"]);
    assert_eq!(first["auth_time"], second["auth_time"]);
    assert_eq!(second["auth_time"], session.auth_time.timestamp());
    // A refresh token of one client is refused to another.
    let (status, body, _) = op
        .token(
            "post",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", sede["refresh_token"].as_str().unwrap()),
                ("client_id", "post"),
                ("client_secret", post_secret.as_str()),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Refreshing with a narrower scope works; a wider one does not.
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", sede["refresh_token"].as_str().unwrap()),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid profile");
    let refreshed = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(refreshed["sub"], second["sub"]);
    assert_eq!(refreshed["auth_time"], second["auth_time"]);
    assert!(refreshed["iat"].as_i64() >= second["iat"].as_i64());
    // The rotated refresh token still holds the whole grant.
    let (status, body, _) = op.refresh(body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid profile email phone");
    op.stop().await;
}
