//! RP-initiated logout, back-channel logout tokens and the front-channel logout page.

use super::*;

#[tokio::test]
async fn oidc_rp_initiated_logout() {
    let op = Rp::start().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "sede", &[]).await;
    let body = exchange(&op, &code).await;
    let hint = body["id_token"].as_str().unwrap().to_owned();
    // A forged hint (alg none) or an unregistered URI: no redirect.
    let parts: Vec<&str> = hint.split('.').collect();
    let none = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
    let forged = format!("{none}.{}.", parts[1]);
    // The same claims and kid, signed by a key that is not ours (the suite's own key).
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let mut foreign_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    foreign_header.kid = header["kid"].as_str().map(str::to_owned);
    let foreign_key = openssl::rsa::Rsa::generate(2048).unwrap();
    let foreign = jsonwebtoken::encode(
        &foreign_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(&foreign_key.private_key_to_der().unwrap()),
    )
    .unwrap();
    // -modified-id-token-hint, -bad-id-token-hint, -query-added-to-post-logout-redirect-uri,
    // -bad-post-logout-redirect-uri, -no-id-token-hint, -no-post-logout-redirect-uri and
    // -only-state: a page, never a redirect.
    for (h, uri, state) in [
        (Some(forged.as_str()), Some(BYE), Some("st")),
        (Some(foreign.as_str()), Some(BYE), Some("st")),
        (
            Some(hint.as_str()),
            Some("http://localhost:9999/bye?x=1"),
            Some("st"),
        ),
        (
            Some(hint.as_str()),
            Some("http://localhost:9999/elsewhere"),
            Some("st"),
        ),
        (None, Some(BYE), Some("st")),
        (Some(hint.as_str()), None, Some("st")),
        (None, None, Some("st")),
    ] {
        op.sign_in(LevelOfAssurance::Substantial).await;
        let params: Vec<(&str, &str)> = [
            ("id_token_hint", h),
            ("post_logout_redirect_uri", uri),
            ("state", state),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
        let res = op.get(&logout_query(&params)).await;
        assert_eq!(res.status(), 200, "{h:?} {uri:?}");
        assert!(res.headers().get("location").is_none(), "{h:?} {uri:?}");
    }
    // Signed in again, a good hint sends the citizen back with the state.
    op.sign_in(LevelOfAssurance::Substantial).await;
    let res = op
        .get(&logout_query(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", BYE),
            ("state", "st"),
        ]))
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("{BYE}?state=st").as_str()
    );
    // The session is gone.
    let res = op.get(&authorize_path("sede", &[("prompt", "none")])).await;
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "login_required");
    // Without state, none is added.
    op.sign_in(LevelOfAssurance::Substantial).await;
    let res = op
        .get(&logout_query(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", BYE),
        ]))
        .await;
    assert_eq!(res.headers()["location"], BYE);
    op.stop().await;
}

#[tokio::test]
async fn oidc_logout_sends_back_channel_logout_tokens() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let rp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bc"))
        .respond_with(ResponseTemplate::new(200).insert_header("cache-control", "no-store"))
        .expect(1)
        .mount(&rp)
        .await;
    let op = Rp::start().await;
    let bc_uri = format!("{}/bc", rp.uri());
    op.d.cli_json(&[
        "admin",
        "client",
        "add",
        "bc",
        "--skip-consent",
        "--redirect-uri",
        CB,
        "--backchannel-logout-uri",
        &bc_uri,
        "--id-token-alg",
        "PS256",
    ]);
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    code_for(&op, "bc", &[]).await;
    // No parameters: a logged-out page, and the client is told over the back channel.
    let res = op.get("/oidc/logout").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let received = rp.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&received[0].body)
        .into_owned()
        .collect();
    assert_eq!(form.len(), 1);
    let token = &form["logout_token"];
    let header = header_of(token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(header["alg"], "PS256");
    let claims = pasarela::oidc::id_token::verify_own(&op.server.state.keys, ISSUER, token)
        .expect("signed by a published key");
    assert_eq!(claims["aud"], "bc");
    assert_eq!(claims["sid"], session.id.to_string());
    assert_eq!(claims["sub"], op.citizen.id.to_string());
    assert!(claims["jti"].is_string());
    assert!(claims.get("nonce").is_none());
    assert_eq!(
        claims["events"],
        serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    let iat = claims["iat"].as_i64().unwrap();
    assert!((chrono::Utc::now().timestamp() - iat).abs() < 60);
    op.stop().await;
}

#[tokio::test]
async fn oidc_logout_page_embeds_front_channel_frames_then_goes_back() {
    use pasarela::oidc::client::{GrantType, NewClient};
    let op = Rp::start().await;
    let mut secrets = HashMap::new();
    for (id, fc) in [
        ("fc", "http://localhost:7777/fc?x=1"),
        ("fc2", "https://rp2.example/logout"),
    ] {
        let secret = op
            .register(NewClient {
                id: id.into(),
                redirect_uris: vec![CB.into()],
                post_logout_redirect_uris: vec![BYE.into()],
                frontchannel_logout_uri: Some(fc.into()),
                frontchannel_logout_session_required: id == "fc2",
                grant_types: vec![GrantType::AuthorizationCode],
                skip_consent: true,
                ..Default::default()
            })
            .await;
        secrets.insert(id, secret.unwrap());
    }
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // The session visits fc, fc2 and sede (which registered no front-channel URI).
    code_for(&op, "fc2", &[]).await;
    code_for(&op, "sede", &[]).await;
    let code = code_for(&op, "fc", &[]).await;
    let body = op.exchange_for("fc", &secrets["fc"], &code).await;
    let hint = body["id_token"].as_str().unwrap();
    let res = op
        .get(&logout_query(&[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", BYE),
            ("state", "st"),
        ]))
        .await;
    // A page (not a redirect) so that the frames load before going back.
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("; frame-src http://localhost:7777 https://rp2.example"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    let params = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("iss", ISSUER)
        .append_pair("sid", session.id.as_str())
        .finish();
    for base in [
        "http://localhost:7777/fc?x=1&",
        "https://rp2.example/logout?",
    ] {
        let src = format!("<iframe src=\"{base}{params}\"").replace('&', "&#38;");
        assert!(page.contains(&src), "{src} not in {page}");
    }
    assert_eq!(
        page.matches("<iframe").count(),
        2,
        "only clients that registered a URI"
    );
    let next = format!("{BYE}?state=st");
    assert!(page.contains(&format!(
        "<meta http-equiv=\"refresh\" content=\"2;url={next}\">"
    )));
    assert!(
        page.contains(&format!("<a href=\"{next}\">")),
        "a link without JS"
    );
    // The session is gone.
    let res = op.get(&authorize_path("sede", &[("prompt", "none")])).await;
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "login_required");
    // Without a post-logout URI the logged-out page carries the frames, and no refresh.
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    code_for(&op, "fc2", &[]).await;
    let res = op.get("/oidc/logout").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with("; frame-src https://rp2.example")
    );
    let page = res.text().await.unwrap();
    assert_eq!(page.matches("<iframe").count(), 1);
    assert!(page.contains(session.id.as_str()));
    assert!(!page.contains("http-equiv=\"refresh\""));
    op.stop().await;
}
