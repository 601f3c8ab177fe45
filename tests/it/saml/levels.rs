//! Levels over SAML: step-up, the OIDC `acr` agreeing with the `AuthnContextClassRef`, and a
//! level capped by proofing.

use super::*;

/// Step-up over SAML, and one level for one session whatever the protocol: a password-only
/// session asked for substantial is raised with the SMS code alone (same `SessionIndex`);
/// `ForceAuthn` asks for the password instead; and an OIDC client served from the same
/// session gets as `acr` exactly the `AuthnContextClassRef` the SP got.
#[tokio::test]
async fn saml_step_up_raises_the_session_and_oidc_acr_agrees_with_the_authn_context() {
    let f = Sp::start().await;
    let (session, cookie) = f.session(&[AuthMethod::Pwd], LevelOfAssurance::Low).await;
    let b = Browser::new(f.server.addr);
    b.plant(&cookie);
    // Low is enough for a request of minimum low.
    let mut r = Req::new();
    r.context = Some(("minimum", "low"));
    let low = answer(&b.get(&f.sso_path(&r.xml(&f.sp_key), None)).await).0;
    assert_eq!(authn_context_of(&low), "http://eidas.europa.eu/LoA/low");

    let r = Req::new();
    let p = b.get(&f.sso_path(&r.xml(&f.sp_key), None)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let login = p.location.clone().unwrap();
    assert!(!login.contains("fresh=1"), "{login}");
    let step = b.get(&login).await;
    assert_eq!(
        step.location.as_deref(),
        Some("/login/code"),
        "{}",
        step.body
    );
    let page = b.follow(&step).await;
    assert!(page.body.contains("id=\"step-up\""), "{}", page.body);
    let code = f.d.last_sms_code("+34600111222");
    let done = b.post("/login/code", &[("code", &code)]).await;
    assert!(
        done.location
            .as_deref()
            .unwrap()
            .starts_with("/saml/sso/resume?id="),
        "{done:?}"
    );
    let (xml_text, _) = answer(&b.follow(&done).await);
    check_success(&f, &xml_text, &r.id, &session, "substantial");
    let saml_level = authn_context_of(&xml_text);

    // The same session over OIDC.
    let added = f.d.cli_json(&[
        "admin",
        "client",
        "add",
        "mismo",
        "--skip-consent",
        "--redirect-uri",
        "http://localhost:9999/cb",
    ]);
    let secret = added["client_secret"].as_str().unwrap();
    let p = b
        .get(&authorize_url(
            "mismo",
            "http://localhost:9999/cb",
            "openid",
            &[],
        ))
        .await;
    let to = url::Url::parse(p.location.as_deref().unwrap()).unwrap();
    let code = to
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap_or_else(|| panic!("no code in {to}"))
        .1
        .into_owned();
    let res = b
        .client
        .post(format!("{}/oidc/token", b.base))
        .basic_auth("mismo", Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:9999/cb"),
        ])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    let claims = pasarela::oidc::id_token::verify_own(
        &f.server.state.keys,
        "http://localhost:8080",
        body["id_token"].as_str().unwrap(),
    )
    .expect("signed by a published key");
    assert_eq!(claims["acr"], saml_level.as_str());
    assert_eq!(claims["sid"], session.id.as_str());

    // ForceAuthn: a fresh login with the password, never a step-up.
    let mut r = Req::new();
    r.force = true;
    let login = b
        .get(&f.sso_path(&r.xml(&f.sp_key), None))
        .await
        .location
        .unwrap();
    assert!(login.contains("fresh=1"), "{login}");
    let form = b.get(&login).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("current-password"), "{}", form.body);
}

/// ANSES-style tables (the password alone as strong as the proofing behind it): an operator who
/// lowers Lucía's proofing lowers her live session's assertions at once, and a request for
/// high then shows the page pointing to an office, after which the SP gets NoAuthnContext.
#[tokio::test]
async fn saml_a_level_capped_by_proofing_is_explained_then_no_authn_context() {
    let tables = "[login]\nsecond_factor = \"when_needed\"\n\
                  [[levels.methods]]\nmethods = [\"pwd\"]\nlevel = \"high\"\n";
    let f = Sp::config(tables, &[]).await;
    let (session, cookie) = f.session(&[AuthMethod::Pwd], LevelOfAssurance::High).await;
    let b = Browser::new(f.server.addr);
    b.plant(&cookie);
    let mut r = Req::new();
    r.context = Some(("minimum", "high"));
    let (xml_text, _) = answer(&b.get(&f.sso_path(&r.xml(&f.sp_key), None)).await);
    check_success(&f, &xml_text, &r.id, &session, "high");

    f.d.cli_ok(&[
        "admin",
        "citizen",
        "set-level",
        "12345678Z",
        "--proofing",
        "online",
    ]);
    // Substantial is still true and answered; high no longer is.
    let r = Req::new();
    let (xml_text, _) = answer(&b.get(&f.sso_path(&r.xml(&f.sp_key), None)).await);
    assert_eq!(
        authn_context_of(&xml_text),
        "http://eidas.europa.eu/LoA/substantial"
    );
    let mut r = Req::new();
    r.context = Some(("minimum", "high"));
    let p = b.get(&f.sso_path(&r.xml(&f.sp_key), Some("rs"))).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.follow(&p).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("id=\"level-unreachable\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("oficina"), "{}", page.body);
    let at = page.body.find("id=\"level-back\"").unwrap();
    let tag = &page.body[page.body[..at].rfind('<').unwrap()..];
    let href = tag.find("href=\"").unwrap() + 6;
    let back = html_unescape(&tag[href..href + tag[href..].find('"').unwrap()]);
    let (xml_text, relay) = answer(&b.get(&back).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
    );
    assert!(!xml_text.contains("Assertion"));
    assert_eq!(relay.as_deref(), Some("rs"));
}
