//! Integration tests of the login pages.

use crate::harness::*;
use pasarela::core::account::ActivationResult;
use pasarela::core::citizen::{CitizenId, NewCitizen};
use pasarela::core::credentials::PolicyPreset;
use pasarela::core::engine::Actor;
use pasarela::core::level::ProofingLevel;
use pasarela::server::Running;

const ID: &str = "12345678Z";
const PASSWORD: &str = "Ballena-azul-corre-por-47-mares";
const MOBILE: &str = "+34600111222";
const EMAIL: &str = "lucia@example.es";

/// Registers Lucía (proofed in person) and activates her account with [`PASSWORD`] through
/// the engine, as the activation pages would.
async fn active_citizen(server: &Running) -> CitizenId {
    active_citizen_with(server, ID, "600111222").await
}

/// The server up on `d` with Lucía active ([`active_citizen`]), and a browser.
async fn started_with_lucia(d: Deployment) -> Live {
    let live = Live::start(d).await;
    active_citizen(&live.server).await;
    live
}

/// Like [`active_citizen`], with another document number and mobile.
async fn active_citizen_with(server: &Running, number: &str, mobile: &str) -> CitizenId {
    let e = &server.state.engine;
    let actor = Actor::operator("test");
    let new = NewCitizen {
        id_type: "dni".into(),
        id_number: number.into(),
        given_name: "Lucía".into(),
        family_names: "García Pérez".into(),
        birth_date: "1980-02-29".into(),
        email: EMAIL.into(),
        mobile: mobile.into(),
        proofing: Some(ProofingLevel::InPerson),
        ..Default::default()
    };
    let id = e.register_citizen(&new, &actor).await.unwrap().citizen.id;
    e.accept_security_policy(id, "1", &actor).await.unwrap();
    let done = e
        .activate(
            id,
            PASSWORD,
            PASSWORD,
            PolicyPreset::Nist,
            &server.state.hasher,
            &actor,
        )
        .await
        .unwrap();
    assert!(matches!(done, ActivationResult::Activated(_)), "{done:?}");
    id
}

/// Opens the login form (optionally with a query) and posts the password.
async fn password(b: &Browser, query: &str, id: &str, pw: &str) -> Page {
    let form = b.get(&format!("/login{query}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    b.post("/login", &[("identifier", id), ("password", pw)])
        .await
}

/// The page without its anti-forgery token.
fn without_csrf(page: &Page) -> String {
    match hidden_value(&page.body, "csrf") {
        Some(t) => page.body.replace(&t, "CSRF"),
        None => page.body.clone(),
    }
}

/// Posts the code with the browser's cookies, returning the raw response (to read the
/// session cookie).
async fn post_code_raw(b: &Browser, code: &str) -> reqwest::Response {
    let page = b.get("/login/code").await;
    let csrf = hidden_value(&page.body, "csrf").unwrap();
    b.client
        .post(format!("{}/login/code", b.base))
        .form(&[("csrf", csrf.as_str()), ("code", code)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn password_and_sms_code_log_in_and_logout_ends_the_session() {
    let d = journey_deployment("");
    let Live {
        d,
        server: _server,
        b,
    } = started_with_lucia(d).await;

    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    for link in ["/login", "/activate", "/recover", "/letter", "/anses"] {
        assert!(home.body.contains(&format!("href=\"{link}\"")), "{link}");
    }

    let form = b
        .get("/login?continue=%2Faccount%2Fsessions&login_hint=12345678Z")
        .await;
    for needle in [
        "autocomplete=\"username\"",
        "id=\"identifier\"",
        "value=\"12345678Z\"",
        "autocomplete=\"current-password\"",
        "id=\"password\"",
        "<label for=\"identifier\"",
        "<label for=\"password\"",
        "<button type=\"submit\"",
    ] {
        assert!(form.body.contains(needle), "{needle} in {}", form.body);
    }
    assert!(!form.body.contains("name=\"captcha\""));
    let after_password = b.type_password(PASSWORD).await;
    assert_eq!(after_password.status, 303, "{}", after_password.body);
    assert_eq!(after_password.location.as_deref(), Some("/login/code"));
    let code_page = b.follow(&after_password).await;
    for needle in [
        "autocomplete=\"one-time-code\"",
        "inputmode=\"numeric\"",
        "id=\"code\"",
        "action=\"/login/resend\"",
        "+********222",
    ] {
        assert!(code_page.body.contains(needle), "{needle}");
    }
    assert!(
        !code_page.body.contains("600111222"),
        "the number is masked"
    );

    let code = d.last_sms_code(MOBILE);
    let res = post_code_raw(&b, &code).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account/sessions");
    let set_cookie: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let sso = set_cookie
        .iter()
        .find(|c| c.starts_with("pasarela_sso="))
        .expect("a session cookie");
    assert!(
        sso.contains("HttpOnly") && sso.contains("SameSite=Lax"),
        "{sso}"
    );
    let sso_value = sso
        .trim_start_matches("pasarela_sso=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let signed_in = b.get("/").await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.location.as_deref(), Some("/account"));

    // The code is used up, and the login attempt with it.
    let again = b.post("/login/code", &[("code", &code)]).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location.as_deref(), Some("/login"));

    // Without the anti-forgery token: 403.
    let forged = reqwest::Client::new()
        .post(format!("{}/logout", b.base))
        .header("cookie", format!("pasarela_sso={sso_value}"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged = reqwest::Client::new()
        .post(format!("{}/login", b.base))
        .form(&[("identifier", ID), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let confirm = b.get("/logout").await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("action=\"/logout\""));
    let out = b.post("/logout", &[]).await;
    assert_eq!(out.status, 200);
    assert!(out.body.contains("role=\"status\""));
    let old = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", b.base))
        .header("cookie", format!("pasarela_sso={sso_value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 200, "the old cookie no longer signs in");
}

#[tokio::test]
async fn an_sms_code_serves_only_its_own_login_attempt() {
    let d = journey_deployment("");
    let server = d.start().await;
    active_citizen(&server).await;

    let a = Browser::new(server.addr);
    let first = password(&a, "", ID, PASSWORD).await;
    assert_eq!(first.location.as_deref(), Some("/login/code"));
    let code_a = d.last_sms_code(MOBILE);
    let b = Browser::new(server.addr);
    password(&b, "", ID, PASSWORD).await;
    b.get("/login/code").await;
    let code_b = d.last_sms_code(MOBILE);
    if code_a != code_b {
        let stolen = b.post("/login/code", &[("code", &code_a)]).await;
        assert_eq!(stolen.status, 200, "another attempt's code is a wrong code");
        assert!(stolen.body.contains("role=\"alert\""));
    }

    // Five wrong codes end A's attempt; its right code is then useless.
    let wrong = if code_a == "000000" {
        "111111"
    } else {
        "000000"
    };
    a.get("/login/code").await;
    for _ in 0..4 {
        let p = a.post("/login/code", &[("code", wrong)]).await;
        assert_eq!(p.status, 200);
        assert!(p.body.contains("role=\"alert\""));
    }
    let over = a.post("/login/code", &[("code", wrong)]).await;
    assert_eq!(over.location.as_deref(), Some("/login"));
    let back = a.get("/login").await;
    assert!(back.body.contains("role=\"alert\""), "the reason is shown");
    let late = a.post("/login/code", &[("code", &code_a)]).await;
    assert_eq!(late.location.as_deref(), Some("/login"));
    assert_eq!(a.get("/").await.status, 200, "not signed in");

    // B still logs in with its own code.
    let done = b.post("/login/code", &[("code", &code_b)]).await;
    assert_eq!(done.location.as_deref(), Some("/account"));
}

#[tokio::test]
async fn every_refusal_looks_the_same_and_a_lock_is_notified() {
    let d = journey_deployment("[login]\nlock_after = 2\ncaptcha_after = 0\n");
    let server = d.start().await;
    active_citizen(&server).await;
    let attempt = async |id: &str, pw: &str| {
        let b = Browser::new(server.addr);
        password(&b, "", id, pw).await
    };
    let unknown = attempt("87654321X", PASSWORD).await;
    let wrong = attempt(ID, "not-the-password").await;
    assert!(d.sms_to(MOBILE).is_empty() && d.emails_to(EMAIL).is_empty());
    let locking = attempt(ID, "still-not-the-password").await;
    let locked = attempt(ID, PASSWORD).await;
    for page in [&unknown, &wrong, &locking, &locked] {
        assert_eq!(page.status, unknown.status);
        assert_eq!(page.location, None);
        assert_eq!(without_csrf(page), without_csrf(&unknown));
    }
    assert!(unknown.body.contains("role=\"alert\""));

    // The notice is sent in the background, so the locking answer is not slower.
    for _ in 0..50 {
        if !d.sms_to(MOBILE).is_empty() && !d.emails_to(EMAIL).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let sms = d.sms_to(MOBILE);
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].contains("bloqueado"), "{}", sms[0]);
    let mail = d.emails_to(EMAIL);
    assert_eq!(mail.len(), 1);
    let text = mail[0].to_string();
    assert!(
        text.contains("contraseña") && text.contains("oficina"),
        "{text}"
    );
}

#[tokio::test]
async fn a_captcha_appears_after_failures_and_must_be_right() {
    let d = journey_deployment("[login]\ncaptcha_after = 2\n");
    let Live { d, server, b } = started_with_lucia(d).await;
    let first = password(&b, "", ID, "wrong-one").await;
    assert!(!first.body.contains("name=\"captcha\""));
    let second = b.type_password("wrong-two").await;
    assert!(second.body.contains("name=\"captcha\""));
    assert!(second.body.contains("<label for=\"captcha\""));
    assert!(second.body.contains("src=\"data:image/svg+xml;base64,"));
    assert!(!second.body.contains("<text"));

    let refused = b
        .post(
            "/login",
            &[
                ("identifier", ID),
                ("password", PASSWORD),
                ("captcha", "0000x"),
            ],
        )
        .await;
    assert_eq!(refused.status, 200);
    assert_eq!(
        refused.location, None,
        "a wrong captcha stops the right password"
    );
    assert!(refused.body.contains("role=\"alert\""));
    assert!(
        d.sms_to(MOBILE).is_empty(),
        "the password was never checked"
    );

    // Another browser from the same address gets the captcha too.
    let other = Browser::new(server.addr);
    assert!(other.get("/login").await.body.contains("name=\"captcha\""));
}

#[tokio::test]
async fn when_needed_logs_in_with_the_password_alone() {
    let d = journey_deployment("[login]\nsecond_factor = \"when_needed\"\n");
    let Live { d, server, b } = started_with_lucia(d).await;
    let done = password(&b, "?continue=//evil.example", ID, PASSWORD).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/account"));
    assert!(d.sms_to(MOBILE).is_empty());
    assert_eq!(b.get("/").await.location.as_deref(), Some("/account"));

    let c = Browser::new(server.addr);
    let stepped = password(&c, "?acr=substantial", ID, PASSWORD).await;
    assert_eq!(stepped.location.as_deref(), Some("/login/code"));
    assert_eq!(d.sms_to(MOBILE).len(), 1);
}

/// Enrols an authenticator app for Lucía through the engine, returning its secret.
async fn enrol_totp(server: &Running) -> pasarela::core::credentials::TotpSecret {
    let e = &server.state.engine;
    let id = e
        .store
        .citizen_by_identifier(&pasarela::core::identifier::Identifier::parse_any(ID).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let enrolment = e.start_totp_enrolment(id, "pasarela").await.unwrap();
    let secret =
        pasarela::core::credentials::TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
    let code = secret.code_at(chrono::Utc::now()).unwrap();
    let actor = Actor::operator("test");
    assert!(e.confirm_totp_enrolment(id, &code, &actor).await.unwrap());
    secret
}

#[tokio::test]
async fn an_enrolled_app_is_offered_first_and_sms_stays_available() {
    let d = journey_deployment("");
    let server = d.start().await;
    active_citizen(&server).await;
    let secret = enrol_totp(&server).await;

    let b = Browser::new(server.addr);
    let next = password(&b, "", ID, PASSWORD).await;
    assert_eq!(next.location.as_deref(), Some("/login/code"));
    let page = b.follow(&next).await;
    assert!(page.body.contains("action=\"/login/sms\""), "{}", page.body);
    assert!(!page.body.contains("action=\"/login/resend\""));
    assert!(d.sms_to(MOBILE).is_empty(), "no SMS unless asked for");
    let wrong = b.post("/login/code", &[("code", "12345")]).await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("role=\"alert\""));
    // The next step's code: the enrolment used the current one (within the ±1 step skew).
    let code = secret
        .code_at(chrono::Utc::now() + chrono::Duration::seconds(30))
        .unwrap();
    let done = b.post("/login/code", &[("code", &code)]).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);

    let c = Browser::new(server.addr);
    password(&c, "", ID, PASSWORD).await;
    c.get("/login/code").await;
    let switched = c.post("/login/sms", &[]).await;
    assert_eq!(switched.location.as_deref(), Some("/login/code"));
    let sms_page = c.follow(&switched).await;
    assert!(sms_page.body.contains("action=\"/login/resend\""));
    let sms_code = d.last_sms_code(MOBILE);
    let done = c.post("/login/code", &[("code", &sms_code)]).await;
    assert_eq!(done.location.as_deref(), Some("/account"));
}

#[tokio::test]
async fn resends_are_limited_with_clear_messages() {
    let d = journey_deployment("[otp]\nresend_after_secs = 30\nmax_sends = 2\n");
    let Live {
        d,
        server: _server,
        b,
    } = started_with_lucia(d).await;
    password(&b, "?continue=/elsewhere", ID, PASSWORD).await;
    b.get("/login/code").await;
    let first = d.last_sms_code(MOBILE);
    let soon = b.post("/login/resend", &[]).await;
    assert_eq!(soon.location.as_deref(), Some("/login/code"));
    let page = b.follow(&soon).await;
    assert!(page.body.contains("role=\"alert\""));
    assert!(
        page.body.contains("Espere 30 segundos") || page.body.contains("Espere 29 segundos"),
        "{}",
        page.body
    );
    assert_eq!(d.sms_to(MOBILE).len(), 1);
    // The first code still works and `continue` survived the detour.
    let done = b.post("/login/code", &[("code", &first)]).await;
    assert_eq!(done.location.as_deref(), Some("/elsewhere"));

    let d = journey_deployment("[otp]\nresend_after_secs = 0\nmax_sends = 2\n");
    let Live {
        d,
        server: _server,
        b,
    } = started_with_lucia(d).await;
    password(&b, "", ID, PASSWORD).await;
    b.get("/login/code").await;
    let again = b.post("/login/resend", &[]).await;
    let page = b.follow(&again).await;
    assert!(page.body.contains("role=\"status\""), "{}", page.body);
    assert_eq!(d.sms_to(MOBILE).len(), 2);
    let no_more = b.post("/login/resend", &[]).await;
    let page = b.follow(&no_more).await;
    assert!(
        page.body.contains("No se pueden enviar más códigos"),
        "{}",
        page.body
    );
    assert_eq!(d.sms_to(MOBILE).len(), 2);
}

#[tokio::test]
async fn a_gateway_failure_says_to_try_again() {
    let d = Deployment::new("");
    let root = d.dir.path().display().to_string();
    let mut text = std::fs::read_to_string(&d.config_path).unwrap();
    text.push_str(&format!(
        "[sms]\nprovider = \"http\"\n[sms.http]\nurl = \"http://127.0.0.1:9/sms\"\n\
         body = {{ to = \"{{{{to}}}}\", text = \"{{{{text}}}}\" }}\nretries = 0\ntimeout_ms = 1000\n\
         [email]\nprovider = \"outbox\"\noutbox_path = \"{root}/email.jsonl\"\n\
         [credentials.argon2]\nmemory_kib = 1024\niterations = 1\n"
    ));
    std::fs::write(&d.config_path, text).unwrap();
    let Live {
        d: _d,
        server: _server,
        b,
    } = started_with_lucia(d).await;
    let next = password(&b, "", ID, PASSWORD).await;
    assert_eq!(next.location.as_deref(), Some("/login/code"));
    let page = b.follow(&next).await;
    assert!(
        page.body.contains("No se ha podido enviar el código"),
        "{}",
        page.body
    );
    let retry = b.post("/login/resend", &[]).await;
    let page = b.follow(&retry).await;
    assert!(
        page.body.contains("No se ha podido enviar el código"),
        "{}",
        page.body
    );
    let blind = b.post("/login/code", &[("code", "123456")]).await;
    assert_eq!(blind.status, 200);
    assert!(blind.body.contains("role=\"alert\""));
}

#[tokio::test]
async fn logging_in_again_keeps_the_session_and_another_citizen_replaces_it() {
    let d = journey_deployment("[login]\nsecond_factor = \"when_needed\"\n");
    let server = d.start().await;
    let lucia = active_citizen(&server).await;
    let other = active_citizen_with(&server, "87654321X", "600999888").await;
    let e = &server.state.engine;
    let cfg = &server.state.config.sessions;
    let b = Browser::new(server.addr);
    password(&b, "", ID, PASSWORD).await;
    let first = e.sessions_of(lucia, cfg).await.unwrap();
    assert_eq!(first.len(), 1);

    // A fresh login asked for (fresh=1: prompt=login, max_age, ForceAuthn); without it the
    // session would be stepped up with the SMS code alone (tests/it/levels.rs).
    password(&b, "?acr=substantial&fresh=1", ID, PASSWORD).await;
    b.get("/login/code").await;
    let code = d.last_sms_code(MOBILE);
    let done = b.post("/login/code", &[("code", &code)]).await;
    assert_eq!(done.location.as_deref(), Some("/account"));
    let again = e.sessions_of(lucia, cfg).await.unwrap();
    assert_eq!(again.len(), 1, "re-authenticated, not a second session");
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].amr(), ["pwd", "sms", "mfa"]);

    password(&b, "", "87654321X", PASSWORD).await;
    assert!(
        e.sessions_of(lucia, cfg).await.unwrap().is_empty(),
        "logged out first"
    );
    assert_eq!(e.sessions_of(other, cfg).await.unwrap().len(), 1);
}
