//! The consent page: once per scope set, `prompt=consent`, denial, and consent after a login
//! for the same request.

use super::*;

/// The consent page's pending id, from the authorization endpoint's redirect.
fn consent_id(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/oidc/consent?id="), "{location}");
    query_of(&format!("http://x{location}"))["id"].clone()
}

async fn consent_page(op: &Rp, id: &str) -> (reqwest::StatusCode, String, String) {
    let res = op
        .http
        .get(format!("{}/oidc/consent?id={id}", op.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let csp = res
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, res.text().await.unwrap(), csp)
}

async fn consent_post(op: &Rp, id: &str, csrf: &str, decision: &str) -> reqwest::Response {
    op.http
        .post(format!("{}/oidc/consent", op.base))
        .form(&[("id", id), ("csrf", csrf), ("decision", decision)])
        .send()
        .await
        .unwrap()
}

async fn audited(op: &Rp, kind: &str) -> usize {
    op.server
        .state
        .engine
        .store
        .audit_entries(Some(op.citizen.id), 0, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event.kind == kind)
        .count()
}

#[tokio::test]
async fn oidc_consent_page_once_per_scope_set_with_prompt_consent_and_denial() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = Rp::start().await;
    let state = op.server.state.clone();
    let secret = op
        .register(NewClient {
            id: "ayto".into(),
            display_name: "Ayuntamiento de Prueba".into(),
            redirect_uris: vec![CB.into()],
            grant_types: vec![GrantType::AuthorizationCode],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            logo_uri: Some("https://ayto.example/logo.png".into()),
            policy_uri: Some("https://ayto.example/privacy".into()),
            tos_uri: Some("https://ayto.example/tos".into()),
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    op.sign_in(LevelOfAssurance::Substantial).await;

    // prompt=none before any consent: consent_required, with state and iss.
    let (login, q) = answer_of(
        op.get(&authorize_scoped(
            "ayto",
            "openid email",
            &[("prompt", "none"), ("state", "s0")],
        ))
        .await,
    )
    .await;
    assert!(!login);
    assert_eq!(q["error"], "consent_required");
    assert_eq!(q["state"], "s0");
    assert_eq!(q["iss"], ISSUER);

    // The first request goes to the consent page.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid email",
            &[("state", "s1")],
        ))
        .await;
    let id = consent_id(&res);
    let (status, html, csp) = consent_page(&op, &id).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Share your data with Ayuntamiento de Prueba?</h1>"));
    assert!(html.contains("<fieldset>") && html.contains("<legend>Data to share with"));
    assert!(html.contains("<li>Your identity as a user of the service</li>"));
    assert!(html.contains("<li>Your email address</li>"));
    assert!(!html.contains("Your mobile number"), "only what is asked");
    assert!(html.contains(
        r#"<img class="client-logo" src="https://ayto.example/logo.png" alt="Logo of Ayuntamiento de Prueba""#
    ));
    assert!(html.contains(r#"href="https://ayto.example/privacy""#));
    assert!(html.contains(r#"href="https://ayto.example/tos""#));
    assert!(
        html.contains(r#"id="consent-accept" name="decision" value="accept">Accept and continue<"#)
    );
    assert!(html.contains(r#"id="consent-deny" name="decision" value="deny""#));
    assert!(
        csp.contains("img-src 'self' data: https://ayto.example;"),
        "{csp}"
    );
    let csrf = hidden_value(&html, "csrf").expect("csrf field");
    assert!(csrf.len() >= 32);
    assert_eq!(hidden_value(&html, "id").as_deref(), Some(id.as_str()));

    // A forged form is refused and records nothing.
    let res = consent_post(&op, &id, "forged", "accept").await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        state
            .engine
            .store
            .consent(op.citizen.id, "ayto")
            .await
            .unwrap(),
        None
    );

    // Accept: the code, with state and iss; it is a good code.
    let (login, q) = answer_of(consent_post(&op, &id, &csrf, "accept").await).await;
    assert!(!login);
    assert_eq!(q["state"], "s1");
    assert_eq!(q["iss"], ISSUER);
    op.exchange_for("ayto", &secret, q["code"].as_str()).await;
    assert_eq!(audited(&op, "oidc.consent.given").await, 1);
    // The pending request is spent.
    assert_eq!(consent_page(&op, &id).await.0, 400);

    // The same scopes, and fewer, go straight to the code, even with prompt=none.
    for (scope, extra) in [
        ("openid email", vec![]),
        ("openid", vec![]),
        ("email openid", vec![("prompt", "none")]),
    ] {
        let (login, q) = answer_of(op.get(&authorize_scoped("ayto", scope, &extra)).await).await;
        assert!(!login && q.contains_key("code"), "{scope}: {q:?}");
    }

    // More scopes ask again; accepting records the union.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid phone",
            &[("state", "s2")],
        ))
        .await;
    let id = consent_id(&res);
    let (_, html, _) = consent_page(&op, &id).await;
    assert!(html.contains("<li>Your mobile number</li>"));
    let csrf = hidden_value(&html, "csrf").unwrap();
    let (_, q) = answer_of(consent_post(&op, &id, &csrf, "accept").await).await;
    assert!(q.contains_key("code") && q["state"] == "s2", "{q:?}");
    let given = state
        .engine
        .store
        .consent(op.citizen.id, "ayto")
        .await
        .unwrap()
        .unwrap();
    assert!(given.covers("openid email phone"), "{}", given.scope);
    let (_, q) = answer_of(
        op.get(&authorize_scoped("ayto", "openid email phone", &[]))
            .await,
    )
    .await;
    assert!(q.contains_key("code"), "the union is consented: {q:?}");

    // prompt=consent asks again; Deny is access_denied with state and iss.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid",
            &[("prompt", "consent"), ("state", "s3")],
        ))
        .await;
    let id = consent_id(&res);
    let (_, html, _) = consent_page(&op, &id).await;
    let csrf = hidden_value(&html, "csrf").unwrap();
    let (_, q) = answer_of(consent_post(&op, &id, &csrf, "deny").await).await;
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s3");
    assert_eq!(q["iss"], ISSUER);
    assert!(!q.contains_key("code"));
    assert_eq!(audited(&op, "oidc.consent.denied").await, 1);
    // A denial does not withdraw what was given before.
    let (_, q) = answer_of(op.get(&authorize_scoped("ayto", "openid", &[])).await).await;
    assert!(q.contains_key("code"), "{q:?}");

    // Clients that skip consent never see the page.
    code_for(&op, "sede", &[]).await;

    // Another citizen's session cannot see or answer this citizen's pending request.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid",
            &[("prompt", "consent")],
        ))
        .await;
    let id = consent_id(&res);
    let (_, html, _) = consent_page(&op, &id).await;
    let csrf = hidden_value(&html, "csrf").unwrap();
    let mut args = register_args("00000000T");
    args[11] = "otra@example.es".into();
    args[13] = "600333444".into();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    op.d.cli_ok(&args);
    let other = activate_registered(&op.server.state, "00000000T", PASSWORD).await;
    let (_, cookie) = op
        .session(
            &other,
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    op.b.plant(&cookie);
    let (status, html, _) = consent_page(&op, &id).await;
    assert_eq!(status, 400);
    assert!(!html.contains("consent-accept"));
    let res = consent_post(&op, &id, &csrf, "accept").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert_eq!(
        state.engine.store.consent(other.id, "ayto").await.unwrap(),
        None
    );
    op.stop().await;
}

#[tokio::test]
async fn oidc_consent_after_a_login_for_the_request_does_not_ask_to_log_in_again() {
    use pasarela::oidc::client::{GrantType, NewClient};
    let op = Rp::start().await;
    let _ = op
        .register(NewClient {
            id: "dyn".into(),
            display_name: "Servei".into(),
            redirect_uris: vec![CB.into()],
            grant_types: vec![GrantType::AuthorizationCode],
            ..Default::default()
        })
        .await;
    // prompt=login: to the login page first, then back for consent.
    let res = op
        .get(&authorize_scoped(
            "dyn",
            "openid email",
            &[
                ("prompt", "login"),
                ("state", "fp"),
                ("response_mode", "form_post"),
                ("ui_locales", "ca"),
            ],
        ))
        .await;
    let (login, q) = answer_of(res).await;
    assert!(login);
    let resume = q["continue"].clone();
    let pending = query_of(&format!("http://x{resume}"))["id"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 303);
    let location = location(&res);
    assert_eq!(location, format!("/oidc/consent?id={pending}&lang=ca"));
    let page = op.get(&location).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<li>La vostra adreça de correu electrònic</li>"));
    assert!(!html.contains("<img"), "no logo registered");
    assert!(
        !html.contains("client-links"),
        "no policy or terms registered"
    );
    let csrf = hidden_value(&html, "csrf").unwrap();
    // The login was for this request, so it still counts as fresh: the answer, not a login.
    let res = consent_post(&op, &pending, &csrf, "accept").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(hidden_value(&html, "code").is_some(), "{html}");
    assert_eq!(hidden_value(&html, "state").as_deref(), Some("fp"));
    assert_eq!(hidden_value(&html, "iss").as_deref(), Some(ISSUER));
    op.stop().await;
}
