//! Implicit and hybrid response types: answers in the fragment, with a nonce.

use super::*;

#[tokio::test]
async fn oidc_implicit_and_hybrid_answer_in_the_fragment_with_a_nonce() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = Rp::start().await;
    let secret = op
        .register(NewClient {
            id: "spa".into(),
            display_name: "Spa".into(),
            redirect_uris: vec![CB.into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::Implicit],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            id_token_alg: pasarela::core::keys::JwsAlg::RS256,
            min_level: LevelOfAssurance::Low,
            skip_consent: true,
            response_types: vec!["code".into(), "id_token".into(), "code id_token".into()],
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    let path = |rt: &str, extra: &[(&str, &str)]| {
        let mut params = vec![
            ("client_id", "spa"),
            ("response_type", rt),
            ("scope", "openid email"),
            ("redirect_uri", CB),
        ];
        params.extend_from_slice(extra);
        authorize_query(&params)
    };
    let location = |res: reqwest::Response| {
        assert_eq!(res.status(), 303);
        location(&res)
    };
    // Not logged in, prompt=none: the error too comes in the fragment, with state and iss.
    let f = fragment_of(&location(
        op.get(&path(
            "id_token",
            &[("nonce", "n0"), ("prompt", "none"), ("state", "s0")],
        ))
        .await,
    ));
    assert_eq!(f["error"], "login_required");
    assert_eq!((f["state"].as_str(), f["iss"].as_str()), ("s0", ISSUER));
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // Without a nonce: invalid_request; query mode refused.
    let f = fragment_of(&location(
        op.get(&path("id_token", &[("state", "s1")])).await,
    ));
    assert_eq!(f["error"], "invalid_request");
    assert_eq!(f["state"], "s1");
    // (the refusal itself goes in the fragment: nothing about an ID token request travels
    // in a query)
    let f = fragment_of(&location(
        op.get(&path(
            "id_token",
            &[("nonce", "n"), ("response_mode", "query")],
        ))
        .await,
    ));
    assert_eq!(f["error"], "invalid_request");
    // A client registered for code only: unauthorized_client.
    let f = fragment_of(&location(
        op.get(&authorize_query(&[
            ("client_id", "sede"),
            ("response_type", "code id_token"),
            ("scope", "openid"),
            ("redirect_uri", CB),
            ("nonce", "n"),
        ]))
        .await,
    ));
    assert_eq!(f["error"], "unauthorized_client");
    // id_token: the ID token alone, with the scope's claims in it.
    let f = fragment_of(&location(
        op.get(&path(
            "id_token",
            &[("nonce", "n-implicit"), ("state", "s2")],
        ))
        .await,
    ));
    assert!(!f.contains_key("code") && !f.contains_key("access_token"));
    assert_eq!((f["state"].as_str(), f["iss"].as_str()), ("s2", ISSUER));
    let id = verify_id_token(&op, "spa", &f["id_token"], Some("n-implicit")).await;
    assert_eq!(id["email"], op.citizen.email.as_str());
    assert_eq!(id["auth_time"], session.auth_time.timestamp());
    assert_eq!(id["acr"], SUBSTANTIAL);
    assert_eq!(id["sid"], session.id.to_string());
    assert!(id["amr"].is_array());
    assert!(id.get("at_hash").is_none() && id.get("c_hash").is_none());
    // code id_token: c_hash binds the code; the code still redeems at the token endpoint.
    let f = fragment_of(&location(
        op.get(&path(
            "code id_token",
            &[("nonce", "n-hybrid"), ("state", "s3")],
        ))
        .await,
    ));
    let code = f["code"].clone();
    let id = verify_id_token(&op, "spa", &f["id_token"], Some("n-hybrid")).await;
    assert_eq!(
        id["c_hash"],
        pasarela::oidc::id_token::at_hash(&code).as_str()
    );
    assert!(id.get("at_hash").is_none());
    assert!(
        id.get("email").is_none(),
        "userinfo serves the scope's claims here"
    );
    let body = op.exchange_for("spa", &secret, &code).await;
    let back = verify_id_token(
        &op,
        "spa",
        body["id_token"].as_str().unwrap(),
        Some("n-hybrid"),
    )
    .await;
    assert_eq!(back["sub"], id["sub"]);
    // form_post carries the ID token too.
    let res = op
        .get(&path(
            "id_token",
            &[
                ("nonce", "n-post"),
                ("response_mode", "form_post"),
                ("state", "s4"),
            ],
        ))
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let token = hidden_value(&html, "id_token").expect("id_token field");
    verify_id_token(&op, "spa", &token, Some("n-post")).await;
    assert_eq!(hidden_value(&html, "state").as_deref(), Some("s4"));
    // response_mode=fragment works for code too.
    let f = fragment_of(&location(
        op.get(&authorize_path(
            "sede",
            &[("response_mode", "fragment"), ("state", "s5")],
        ))
        .await,
    ));
    assert!(f.contains_key("code"));
    assert_eq!(f["state"], "s5");
    op.stop().await;
}

#[tokio::test]
async fn oidc_token_response_types_issue_an_access_token_in_the_fragment() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use pasarela::oidc::id_token::at_hash;
    let op = Rp::start().await;
    let meta: Value = op
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let types = meta["response_types_supported"].as_array().unwrap();
    for t in ["code", "id_token", "id_token token", "code id_token token"] {
        assert!(types.iter().any(|v| v == t), "{t} advertised");
    }
    let mut secrets = HashMap::new();
    for (id, grants, types) in [
        (
            "implicit",
            vec![GrantType::Implicit],
            vec!["id_token token"],
        ),
        (
            "hybrid",
            vec![GrantType::AuthorizationCode, GrantType::Implicit],
            vec!["code id_token token", "code token"],
        ),
    ] {
        let secret = op
            .register(NewClient {
                id: id.into(),
                display_name: id.into(),
                redirect_uris: vec![CB.into()],
                grant_types: grants,
                auth_method: ClientAuthMethod::ClientSecretBasic,
                id_token_alg: pasarela::core::keys::JwsAlg::RS256,
                min_level: LevelOfAssurance::Low,
                skip_consent: true,
                response_types: types.into_iter().map(str::to_owned).collect(),
                ..Default::default()
            })
            .await;
        secrets.insert(id, secret.unwrap());
    }
    let path = |client: &str, rt: &str, extra: &[(&str, &str)]| {
        let mut params = vec![
            ("client_id", client),
            ("response_type", rt),
            ("scope", "openid email"),
            ("redirect_uri", CB),
        ];
        params.extend_from_slice(extra);
        authorize_query(&params)
    };
    let fragment = |res: reqwest::Response| {
        assert_eq!(res.status(), 303);
        fragment_of(res.headers()["location"].to_str().unwrap())
    };
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // Registered for id_token token only: other response types are refused.
    let f = fragment(
        op.get(&path("implicit", "id_token", &[("nonce", "n")]))
            .await,
    );
    assert_eq!(f["error"], "unauthorized_client");
    // A nonce is required.
    let f = fragment(op.get(&path("implicit", "id_token token", &[])).await);
    assert_eq!(f["error"], "invalid_request");
    // id_token token: an access token and an ID token bound to it by at_hash.
    let f = fragment(
        op.get(&path(
            "implicit",
            "id_token token",
            &[("nonce", "n-it"), ("state", "s-it")],
        ))
        .await,
    );
    assert!(!f.contains_key("code") && !f.contains_key("refresh_token"));
    assert_eq!((f["state"].as_str(), f["iss"].as_str()), ("s-it", ISSUER));
    assert_eq!(f["token_type"], "Bearer");
    assert_eq!(f["expires_in"], "600");
    let access = f["access_token"].clone();
    assert!(access.len() >= 43, "256 bits");
    let id = verify_id_token(&op, "implicit", &f["id_token"], Some("n-it")).await;
    assert_eq!(id["at_hash"], at_hash(&access).as_str());
    assert!(id.get("c_hash").is_none());
    assert_eq!(id["sid"], session.id.to_string());
    assert!(
        id.get("email").is_none(),
        "the access token fetches the scope's claims at userinfo"
    );
    let info = userinfo_of(&op, &access).await;
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["email"], op.citizen.email.as_str());
    // code id_token token: c_hash and at_hash; the code redeems; a replayed code revokes the
    // front access token with the rest of its family.
    let f = fragment(
        op.get(&path(
            "hybrid",
            "code id_token token",
            &[("nonce", "n-h"), ("state", "s-h")],
        ))
        .await,
    );
    let (code, access) = (f["code"].clone(), f["access_token"].clone());
    let id = verify_id_token(&op, "hybrid", &f["id_token"], Some("n-h")).await;
    assert_eq!(id["at_hash"], at_hash(&access).as_str());
    assert_eq!(id["c_hash"], at_hash(&code).as_str());
    assert_eq!(userinfo_of(&op, &access).await["sub"], id["sub"]);
    let redeem = |code: String| {
        let secret = secrets["hybrid"].clone();
        let op = &op;
        async move {
            op.token(
                "hybrid",
                Some(&secret),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CB),
                ],
            )
            .await
        }
    };
    let (status, body, _) = redeem(code.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = redeem(code).await;
    assert_eq!(status, 400);
    let res = op.userinfo(&access).await;
    assert_eq!(res.status(), 401, "revoked with the code's family");
    // code token: a code and an access token, no ID token at the front.
    let f = fragment(
        op.get(&path("hybrid", "code token", &[("state", "s-ct")]))
            .await,
    );
    assert!(f.contains_key("code") && !f.contains_key("id_token"));
    assert_eq!(f["token_type"], "Bearer");
    userinfo_of(&op, &f["access_token"]).await;
    // Never in the query.
    let f = fragment(
        op.get(&path("hybrid", "code token", &[("response_mode", "query")]))
            .await,
    );
    assert_eq!(f["error"], "invalid_request");
    op.stop().await;
}
