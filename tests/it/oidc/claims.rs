//! What the ID token and userinfo say: the `claims` parameter, essential and voluntary `acr`,
//! `id_token_hint`, `select_account` and pairwise subjects.

use super::*;

#[tokio::test]
async fn oidc_claims_parameter_delivers_claims_where_asked() {
    let op = Rp::start().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    // Malformed claims: invalid_request, redirected with state.
    let (_, q) = answer_of(
        op.get(&authorize_scoped(
            "sede",
            "openid",
            &[("claims", "{not json"), ("state", "c0")],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "c0");
    assert!(!q.contains_key("code"));
    // Only the openid scope: the claims come because they were asked for by name.
    let claims = r#"{"id_token":{"email":null,"acr":{"essential":true,"values":["http://eidas.europa.eu/LoA/substantial"]}},"userinfo":{"name":{"essential":true}}}"#;
    let (login, q) = answer_of(
        op.get(&authorize_scoped("sede", "openid", &[("claims", claims)]))
            .await,
    )
    .await;
    assert!(!login);
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["email"], op.citizen.email.as_str());
    assert_eq!(id["acr"], SUBSTANTIAL);
    assert!(id.get("name").is_none(), "name was asked at userinfo only");
    let info = userinfo_of(&op, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        info["name"],
        format!("{} {}", op.citizen.given_name, op.citizen.family_names).as_str()
    );
    assert!(
        info.get("email").is_none(),
        "email was asked in the ID token only"
    );
    assert_eq!(info["sub"], id["sub"]);
    // The claims survive a refresh.
    let (status, refreshed, _) = op.refresh(body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    let id = verify_id_token(&op, "sede", refreshed["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["email"], op.citizen.email.as_str());
    let meta: Value = op
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(meta["claims_parameter_supported"], true);
    assert_eq!(
        meta["subject_types_supported"],
        serde_json::json!(["public", "pairwise"])
    );
    op.stop().await;
}

#[tokio::test]
async fn oidc_essential_acr_is_hard_and_acr_values_voluntary() {
    let op = Rp::start().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let essential_high =
        r#"{"id_token":{"acr":{"essential":true,"value":"http://eidas.europa.eu/LoA/high"}}}"#;
    // prompt=none below an essential acr: login_required.
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[
                ("claims", essential_high),
                ("prompt", "none"),
                ("state", "e"),
            ],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "login_required");
    assert_eq!(q["state"], "e");
    // Otherwise off to log in at high; a fresh login that ends at substantial gets
    // unmet_authentication_requirements, never a code.
    let (login, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("claims", essential_high), ("state", "e2")],
        ))
        .await,
    )
    .await;
    assert!(login);
    assert_eq!(q["acr"], "high");
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(op.get(&resume).await).await;
    assert!(!login);
    assert_eq!(q["error"], "unmet_authentication_requirements");
    assert_eq!(q["state"], "e2");
    assert_eq!(q["iss"], ISSUER);
    assert!(!q.contains_key("code"));
    // The client's minimum is hard too: a fresh login at low is refused the same way.
    let (login, q) = answer_of(
        op.get(&authorize_path("sede", &[("prompt", "login")]))
            .await,
    )
    .await;
    assert!(login);
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Low).await;
    let (_, q) = answer_of(op.get(&resume).await).await;
    assert_eq!(q["error"], "unmet_authentication_requirements");
    // Voluntary acr_values: sent to log in at high, but a citizen ending at substantial
    // gets a code whose acr tells the truth.
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(
        op.get(&authorize_path("sede", &[("acr_values", HIGH)]))
            .await,
    )
    .await;
    assert!(login);
    assert_eq!(q["acr"], "high");
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (_, q) = answer_of(op.get(&resume).await).await;
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["acr"], SUBSTANTIAL);
    // With prompt=none, a voluntary level above the session's is answered at once.
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("acr_values", HIGH), ("prompt", "none")],
        ))
        .await,
    )
    .await;
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["acr"], SUBSTANTIAL);
    // A session at high satisfies the essential request at once.
    op.sign_in(LevelOfAssurance::High).await;
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("claims", essential_high), ("prompt", "none")],
        ))
        .await,
    )
    .await;
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["acr"], HIGH);
    op.stop().await;
}

#[tokio::test]
async fn oidc_id_token_hint_select_account_and_pairwise_subjects() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient, SubjectType};
    let op = Rp::start().await;
    let state = op.server.state.clone();
    // A pairwise client, registered through the library.
    let secret = op
        .register(NewClient {
            id: "pairwise".into(),
            display_name: "Pairwise".into(),
            redirect_uris: vec![CB.into()],
            grant_types: vec![GrantType::AuthorizationCode],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            id_token_alg: pasarela::core::keys::JwsAlg::RS256,
            min_level: LevelOfAssurance::Low,
            skip_consent: true,
            subject_type: SubjectType::Pairwise,
            userinfo_signed_response_alg: Some(pasarela::core::keys::JwsAlg::ES256),
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (_, q) = answer_of(op.get(&authorize_path("pairwise", &[])).await).await;
    let body = op
        .exchange_for("pairwise", &secret, q["code"].as_str())
        .await;
    let hint = body["id_token"].as_str().unwrap().to_owned();
    let id = verify_id_token(&op, "pairwise", &hint, None).await;
    let sub = id["sub"].as_str().unwrap();
    assert_ne!(
        sub,
        op.citizen.id.to_string(),
        "pairwise, not the internal id"
    );
    // Signed userinfo, as registered: a JWT with iss and aud, never a nonce.
    let res = op.userinfo(body["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jwt");
    let jwt = res.text().await.unwrap();
    assert_eq!(header_of(&jwt)["alg"], "ES256");
    let info = pasarela::oidc::id_token::verify_own(&state.keys, ISSUER, &jwt)
        .expect("signed with our keys");
    assert_eq!(info["sub"], sub);
    assert_eq!(info["iss"], ISSUER);
    assert_eq!(info["aud"], "pairwise");
    assert_eq!(info["email"], op.citizen.email.as_str());
    assert!(info.get("nonce").is_none());
    // The pairwise hint names the session's citizen, even at another client.
    let (login, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("prompt", "none"), ("id_token_hint", &hint)],
        ))
        .await,
    )
    .await;
    assert!(!login);
    assert!(q.contains_key("code"), "{q:?}");
    // A hint that is not ours: invalid_request.
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("id_token_hint", "e30.e30.AAAA"), ("state", "h")],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "h");
    // A genuine hint naming someone else: login_required with prompt=none, else log in.
    let other = serde_json::json!({
        "iss": ISSUER, "sub": "someone-else", "aud": "sede", "iat": 1, "exp": 2
    });
    let other =
        pasarela::oidc::id_token::sign(&state.keys, pasarela::core::keys::JwsAlg::RS256, &other)
            .unwrap();
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("prompt", "none"), ("id_token_hint", &other)],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "login_required");
    let (login, _) = answer_of(
        op.get(&authorize_path("sede", &[("id_token_hint", &other)]))
            .await,
    )
    .await;
    assert!(login);
    // select_account: one account per browser, so it means logging in again.
    let (login, q) = answer_of(
        op.get(&authorize_path("sede", &[("prompt", "select_account")]))
            .await,
    )
    .await;
    assert!(login);
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(op.get(&resume).await).await;
    assert!(!login);
    assert!(q.contains_key("code"));
    op.stop().await;
}
