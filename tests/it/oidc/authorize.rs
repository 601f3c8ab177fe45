//! The authorization endpoint: unknown clients and redirect URIs get a page, never a redirect;
//! `prompt=none` without a session; the login round trip and its loops.

use super::*;

#[tokio::test]
async fn oidc_bad_client_or_redirect_uri_gets_a_page_never_a_redirect() {
    let op = Rp::start().await;
    for path in [
        authorize_path("nobody", &[]),
        authorize_path("sede", &[]).replace("cb%3Fx%3D1", "cb%3Fx%3D2"),
        authorize_path("sede", &[]).replace("cb%3Fx%3D1", "cb%3Fx%3D1%26y%3D2"),
        authorize_query(&[("response_type", "code"), ("scope", "openid")]),
    ] {
        let res = op.get(&path).await;
        assert_eq!(res.status(), 400, "{path}");
        assert!(res.headers().get("location").is_none(), "{path}");
    }
    op.stop().await;
}

#[tokio::test]
async fn oidc_without_session_prompt_none_is_login_required_and_otherwise_login_then_resume() {
    let op = Rp::start().await;
    let state = "x".repeat(128);
    let res = op
        .get(&authorize_path(
            "sede",
            &[("prompt", "none"), ("state", &state)],
        ))
        .await;
    assert_eq!(res.status(), 303);
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "login_required");
    assert_eq!(q["state"], state);
    assert_eq!(q["iss"], ISSUER);
    assert!(!q.contains_key("code"));
    // Without prompt=none: off to the login page, which comes back to resume. A session
    // below the client's minimum is as good as none.
    op.sign_in(LevelOfAssurance::Low).await;
    let res = op
        .get(&authorize_path(
            "sede",
            &[
                ("state", "abc"),
                ("login_hint", "12345678Z"),
                ("response_mode", "form_post"),
                ("ui_locales", "en-GB"),
            ],
        ))
        .await;
    assert_eq!(res.status(), 303);
    let login = location(&res);
    assert!(login.starts_with("/login?continue="), "{login}");
    let q = query_of(&format!("http://x{login}"));
    assert_eq!(q["login_hint"], "12345678Z");
    assert_eq!(q["acr"], "substantial");
    assert_eq!(q["lang"], "en");
    let resume = q["continue"].clone();
    assert!(resume.starts_with("/oidc/authorize/resume?id="));
    // Not logged in at the level yet: back to login.
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    op.sign_in(LevelOfAssurance::Substantial).await;
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("form-action http://localhost:9999"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(
        html.contains("action=\"http://localhost:9999/cb?x=1\""),
        "{html}"
    );
    assert!(hidden_value(&html, "code").is_some());
    assert_eq!(hidden_value(&html, "state").as_deref(), Some("abc"));
    assert_eq!(hidden_value(&html, "iss").as_deref(), Some(ISSUER));
    // The pending request is spent.
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 400);
    op.stop().await;
}

#[tokio::test]
async fn oidc_redirect_uri_is_repeated_only_when_sent_and_login_loops_end() {
    let op = Rp::start().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let token_form = |code: String, with_uri: bool| {
        let mut f = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code),
        ];
        if with_uri {
            f.push(("redirect_uri".to_owned(), CB.to_owned()));
        }
        f
    };
    let post = |form: Vec<(String, String)>| {
        op.http
            .post(format!("{}/oidc/token", op.base))
            .basic_auth("sede", Some(&op.secret))
            .form(&form)
            .send()
    };
    // Sent at the authorization endpoint: must be repeated.
    let code = code_for(&op, "sede", &[]).await;
    let res = post(token_form(code, false)).await.unwrap();
    assert_eq!(res.status(), 400);
    // Left out (one registered URI): may be left out at the token endpoint too.
    let res = op
        .get(&authorize_query(&[
            ("client_id", "sede"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "q"),
        ]))
        .await;
    let q = query_of(&location(&res));
    let res = post(token_form(q["code"].clone(), false)).await.unwrap();
    assert_eq!(res.status(), 200);

    // A login page that keeps sending the browser back without a fresh login ends in
    // access_denied rather than an endless loop.
    let res = op
        .get(&authorize_path(
            "sede",
            &[("prompt", "login"), ("state", "loop")],
        ))
        .await;
    let login = location(&res);
    let resume = query_of(&format!("http://x{login}"))["continue"].clone();
    let mut last = None;
    for _ in 0..10 {
        let res = op.get(&resume).await;
        let location = location(&res);
        if !location.starts_with("/login") {
            last = Some(location);
            break;
        }
    }
    let q = query_of(&last.expect("the loop ends"));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "loop");
    op.stop().await;
}
