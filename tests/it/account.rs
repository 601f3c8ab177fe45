//! Integration tests of the account pages: the real server, a citizen made active through
//! the library, and a session cookie planted in a cookie-keeping browser (the login pages
//! are not needed).

use crate::harness::*;
use chrono::Utc;
use pasarela::core::citizen::{Citizen, CitizenStatus};
use pasarela::core::credentials::TotpSecret;
use pasarela::core::engine::{Actor, Engine};
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::core::login::{LoginPolicy, PasswordOutcome};
use pasarela::core::session::{SessionCookie, SsoSession};

const PASSWORD: &str = "Tortuga-Marina-Azul-2031";
const NEW_PASSWORD: &str = "Faro-Niebla-Costa-1987";
const MOBILE: &str = "+34600111222";
const EMAIL: &str = "lucia@example.es";

/// A running deployment with an active citizen signed in in the browser `b`.
struct Signed {
    live: Live,
    citizen: Citizen,
    session: SsoSession,
    cookie: SessionCookie,
}

impl std::ops::Deref for Signed {
    type Target = Live;
    fn deref(&self) -> &Live {
        &self.live
    }
}

impl Signed {
    fn engine(&self) -> &Engine {
        &self.server.state.engine
    }

    /// A new session for the same citizen, as another browser would have.
    async fn other_session(&self, agent: &str) -> (SsoSession, SessionCookie) {
        let state = &self.server.state;
        state
            .engine
            .create_session(
                self.citizen.id,
                &[AuthMethod::Pwd],
                LevelOfAssurance::Low,
                Some(agent.into()),
                None,
                &state.config.sessions,
            )
            .await
            .unwrap()
    }

    /// Whether `password` logs in now.
    async fn password_works(&self, password: &str) -> bool {
        let out = self
            .engine()
            .check_password(
                "12345678Z",
                password,
                None,
                &self.server.state.hasher,
                &LoginPolicy::default(),
                &Actor::system(),
            )
            .await
            .unwrap();
        matches!(out, PasswordOutcome::Accepted { .. })
    }

    async fn citizen_now(&self) -> Citizen {
        self.engine()
            .store
            .citizen(self.citizen.id)
            .await
            .unwrap()
            .unwrap()
    }

    fn plant(&self, cookie: &SessionCookie) {
        self.b.plant(&format!(
            "{}={}",
            SessionCookie::name(false),
            cookie.value()
        ));
    }

    async fn stop(self) {
        self.live.stop().await;
    }
}

/// Registers Lucía, activates her through the library and signs her in in a browser.
async fn signed_in() -> Signed {
    let (live, citizen) = Live::with_lucia(journey_deployment(""), &[], PASSWORD).await;
    let state = &live.server.state;
    let (session, cookie) = state
        .engine
        .create_session(
            citizen.id,
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
            Some("Test browser".into()),
            None,
            &state.config.sessions,
        )
        .await
        .unwrap();
    let s = Signed {
        live,
        citizen,
        session,
        cookie,
    };
    s.plant(&s.cookie);
    s
}

#[tokio::test]
async fn every_page_needs_a_session() {
    let s = signed_in().await;
    let anonymous = Browser::new(s.server.addr).client;
    let base = &s.b.base;
    for path in [
        "/account",
        "/account/password",
        "/account/password/code",
        "/account/password/done",
        "/account/mobile",
        "/account/mobile/code",
        "/account/mobile/done",
        "/account/totp",
        "/account/totp/removed",
        "/account/sessions",
        "/account/deregister",
        "/account/deregister/code",
    ] {
        let res = anonymous.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
        let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        assert_eq!(
            res.headers()["location"],
            format!("/login?continue={encoded}").as_str(),
            "{path}"
        );
    }
    for path in [
        "/account/password",
        "/account/totp",
        "/account/totp/remove",
        "/account/sessions/end",
        "/account/sessions/end-all",
        "/account/deregister",
        "/account/deregister/code",
    ] {
        let res = anonymous
            .post(format!("{base}{path}"))
            .form(&[("csrf", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "POST {path}");
    }
    let page = s.b.get("/account").await;
    assert_eq!(page.status, 200);
    for shown in [
        "Lucía García Pérez",
        "DNI 12345678Z",
        "Sustancial",
        "contraseña",
        "código por SMS",
        "action=\"/logout\"",
        "href=\"/account/sessions\"",
    ] {
        assert!(page.body.contains(shown), "{shown} in {}", page.body);
    }
    let gone = s.b.get("/account/deregistered").await;
    assert_eq!(
        gone.status, 200,
        "the page after deregistering needs no session"
    );
    s.stop().await;
}

#[tokio::test]
async fn change_password_walk() {
    let s = signed_in().await;
    let form = s.b.get("/account/password").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("autocomplete=\"current-password\""));
    assert_eq!(
        form.body.matches("autocomplete=\"new-password\"").count(),
        2
    );
    let sent =
        s.b.post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.location.as_deref(), Some("/account/password/code"));
    let code_page = s.b.follow(&sent).await;
    assert!(code_page.body.contains("autocomplete=\"one-time-code\""));
    assert!(code_page.body.contains("inputmode=\"numeric\""));
    let wrong =
        s.b.post("/account/password/code", &[("code", "000000")])
            .await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("role=\"alert\""));
    let code = s.d.last_sms_code(MOBILE);
    let done =
        s.b.post("/account/password/code", &[("code", code.as_str())])
            .await;
    assert_eq!(
        done.location.as_deref(),
        Some("/account/password/done"),
        "{}",
        done.body
    );
    assert_eq!(s.b.follow(&done).await.status, 200);
    assert!(s.password_works(NEW_PASSWORD).await);
    assert!(!s.password_works(PASSWORD).await);
    let mail = s.d.emails_to(EMAIL);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(!mail[0].to_string().contains(NEW_PASSWORD));
    // The journey is over: the code page sends back to the start.
    let again = s.b.get("/account/password/code").await;
    assert_eq!(again.location.as_deref(), Some("/account/password"));
    s.stop().await;
}

#[tokio::test]
async fn wrong_current_password_is_refused_and_counted() {
    let s = signed_in().await;
    s.b.get("/account/password").await;
    let page =
        s.b.post(
            "/account/password",
            &[
                ("current_password", "not my password"),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("role=\"alert\""));
    assert!(page.body.contains("La contraseña actual no es correcta"));
    assert!(s.d.sms_to(MOBILE).is_empty(), "no code is sent");
    let failures = s.engine().store.login_failures(s.citizen.id).await.unwrap();
    assert_eq!(failures.consecutive, 1);
    // Rules are checked before any code is sent, too.
    let weak =
        s.b.post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, 200);
    assert!(weak.body.contains("role=\"alert\""));
    assert!(s.d.sms_to(MOBILE).is_empty());
    s.stop().await;
}

#[tokio::test]
async fn change_mobile_walk() {
    let s = signed_in().await;
    let form = s.b.get("/account/mobile").await;
    assert!(form.body.contains("type=\"tel\""));
    assert!(form.body.contains("autocomplete=\"tel\""));
    let sent =
        s.b.post(
            "/account/mobile",
            &[("current_password", PASSWORD), ("mobile", "612 345 678")],
        )
        .await;
    assert_eq!(
        sent.location.as_deref(),
        Some("/account/mobile/code"),
        "{}",
        sent.body
    );
    s.b.follow(&sent).await;
    let code = s.d.last_sms_code("+34612345678");
    assert!(
        s.d.sms_to(MOBILE).is_empty(),
        "the code goes to the new number"
    );
    let done =
        s.b.post("/account/mobile/code", &[("code", code.as_str())])
            .await;
    assert_eq!(
        done.location.as_deref(),
        Some("/account/mobile/done"),
        "{}",
        done.body
    );
    assert_eq!(s.b.follow(&done).await.status, 200);
    assert_eq!(s.citizen_now().await.mobile, "+34612345678");
    assert_eq!(s.d.sms_to(MOBILE).len(), 1, "the old number is told");
    s.stop().await;
}

/// The secret shown for manual entry.
fn shown_secret(body: &str) -> String {
    let start = body.find("id=\"totp-secret\"").expect("secret shown");
    let text = &body[start..];
    let open = text.find('>').unwrap() + 1;
    let close = text.find("</code>").unwrap();
    text[open..close].to_owned()
}

#[tokio::test]
async fn totp_enrol_verify_and_remove() {
    let s = signed_in().await;
    let page = s.b.get("/account/totp").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<img src=\"data:image/png;base64,"));
    assert!(page.body.contains("alt=\""));
    let secret = TotpSecret::from_base32(&shown_secret(&page.body)).unwrap();
    // A reload shows the same secret (the QR code already scanned stays good).
    let again = s.b.get("/account/totp").await;
    assert_eq!(
        TotpSecret::from_base32(&shown_secret(&again.body)).unwrap(),
        secret
    );
    let wrong = s.b.post("/account/totp", &[("code", "12345")]).await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("role=\"alert\""));
    let code = secret.code_at(Utc::now()).unwrap();
    let ok = s.b.post("/account/totp", &[("code", code.as_str())]).await;
    assert_eq!(ok.location.as_deref(), Some("/account/totp"), "{}", ok.body);
    let enrolled = s.b.follow(&ok).await;
    assert!(enrolled.body.contains("action=\"/account/totp/remove\""));
    let engine = s.engine();
    let who = Actor::system();
    assert!(engine.has_totp(s.citizen.id).await.unwrap());
    assert!(
        !engine.verify_totp(s.citizen.id, &code, &who).await.unwrap(),
        "the confirming code is used up"
    );
    let next = secret
        .code_at(Utc::now() + chrono::Duration::seconds(30))
        .unwrap();
    assert!(engine.verify_totp(s.citizen.id, &next, &who).await.unwrap());
    assert!(
        !engine.verify_totp(s.citizen.id, &next, &who).await.unwrap(),
        "a reused step is refused"
    );

    // With a TOTP, sensitive operations ask for its code, with SMS as the way out.
    s.b.get("/account/deregister").await;
    let asked = s.b.post("/account/deregister", &[("confirm", "yes")]).await;
    let code_page = s.b.follow(&asked).await;
    assert!(
        code_page
            .body
            .contains("action=\"/account/deregister/sms\"")
    );
    assert!(s.d.sms_to(MOBILE).is_empty(), "no SMS unless asked");
    let switched = s.b.post("/account/deregister/sms", &[]).await;
    assert_eq!(
        switched.location.as_deref(),
        Some("/account/deregister/code")
    );
    assert_eq!(s.d.sms_to(MOBILE).len(), 1);

    s.b.get("/account/totp").await;
    let bad =
        s.b.post("/account/totp/remove", &[("current_password", "nope")])
            .await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("role=\"alert\""));
    assert!(engine.has_totp(s.citizen.id).await.unwrap());
    let removed =
        s.b.post("/account/totp/remove", &[("current_password", PASSWORD)])
            .await;
    assert_eq!(removed.location.as_deref(), Some("/account/totp/removed"));
    assert!(!engine.has_totp(s.citizen.id).await.unwrap());
    s.stop().await;
}

#[tokio::test]
async fn sessions_list_end_one_and_all_others() {
    let s = signed_in().await;
    let (other, _) = s.other_session("Other browser").await;
    let page = s.b.get("/account/sessions").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Test browser"));
    assert!(page.body.contains("Other browser"));
    assert_eq!(
        page.body.matches("class=\"current\"").count(),
        1,
        "this one is marked"
    );
    let ended =
        s.b.post("/account/sessions/end", &[("session", other.id.as_str())])
            .await;
    assert_eq!(ended.location.as_deref(), Some("/account/sessions"));
    let live = |s: &Signed| {
        let engine = s.engine().clone();
        let cfg = s.server.state.config.sessions.clone();
        let id = s.citizen.id;
        async move { engine.sessions_of(id, &cfg).await.unwrap() }
    };
    let left = live(&s).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, s.session.id);
    // A malformed id, or one that is not a session of this citizen, ends nothing.
    let page = s.b.get("/account/sessions").await;
    assert_eq!(page.status, 200);
    s.b.post("/account/sessions/end", &[("session", "not-a-session")])
        .await;
    assert_eq!(live(&s).await.len(), 1);

    s.other_session("Third").await;
    s.other_session("Fourth").await;
    s.b.get("/account/sessions").await;
    let all = s.b.post("/account/sessions/end-all", &[]).await;
    assert_eq!(all.location.as_deref(), Some("/account/sessions"));
    let left = live(&s).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, s.session.id, "this session stays");
    assert_eq!(s.b.get("/account").await.status, 200);
    s.stop().await;
}

#[tokio::test]
async fn deregistration_walk() {
    let s = signed_in().await;
    let consent = pasarela::store::consents::Consent {
        citizen_id: s.citizen.id,
        client_id: "tramites".into(),
        scope: "openid email".into(),
        granted_at: chrono::Utc::now(),
    };
    s.engine().store.put_consent(&consent).await.unwrap();
    let (_, other_cookie) = s.other_session("Other browser").await;
    let form = s.b.get("/account/deregister").await;
    assert!(form.body.contains("type=\"checkbox\""));
    assert!(form.body.contains("name=\"confirm\""));
    let unticked = s.b.post("/account/deregister", &[]).await;
    assert_eq!(unticked.status, 200);
    assert!(unticked.body.contains("role=\"alert\""));
    let asked = s.b.post("/account/deregister", &[("confirm", "yes")]).await;
    assert_eq!(asked.location.as_deref(), Some("/account/deregister/code"));
    s.b.follow(&asked).await;
    let code = s.d.last_sms_code(MOBILE);
    let done =
        s.b.post("/account/deregister/code", &[("code", code.as_str())])
            .await;
    assert_eq!(
        done.location.as_deref(),
        Some("/account/deregistered"),
        "{}",
        done.body
    );
    let cookies = s.b.cookies();
    assert!(
        !cookies.contains(SessionCookie::name(false)),
        "the session cookie is cleared: {cookies}"
    );
    assert_eq!(s.b.follow(&done).await.status, 200);
    assert_eq!(s.citizen_now().await.status, CitizenStatus::Deregistered);
    let live = s
        .engine()
        .sessions_of(s.citizen.id, &s.server.state.config.sessions)
        .await
        .unwrap();
    assert!(live.is_empty(), "every session ended");
    assert_eq!(
        s.engine()
            .store
            .consent(s.citizen.id, "tramites")
            .await
            .unwrap(),
        None,
        "the consents given to OIDC clients are gone"
    );
    // Neither the old cookie nor the other browser's gets in any more.
    for cookie in [&s.cookie, &other_cookie] {
        s.plant(cookie);
        let page = s.b.get("/account").await;
        assert_eq!(page.status, 303);
    }
    assert!(!s.password_works(PASSWORD).await);
    assert_eq!(s.d.emails_to(EMAIL).len(), 1, "the citizen is told");
    s.stop().await;
}

#[tokio::test]
async fn forms_without_the_token_are_forbidden() {
    let s = signed_in().await;
    s.b.get("/account").await;
    let base = &s.b.base;
    for (path, fields) in [
        (
            "/account/password",
            vec![
                ("current_password", PASSWORD),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        ),
        (
            "/account/mobile",
            vec![("current_password", PASSWORD), ("mobile", "612345678")],
        ),
        ("/account/totp", vec![("code", "123456")]),
        ("/account/totp/remove", vec![("current_password", PASSWORD)]),
        (
            "/account/sessions/end",
            vec![("session", s.session.id.as_str())],
        ),
        ("/account/sessions/end-all", vec![]),
        ("/account/deregister", vec![("confirm", "yes")]),
    ] {
        for token in [None, Some("forged-forged-forged-forged-forged-forged")] {
            let mut form = fields.clone();
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let res =
                s.b.client
                    .post(format!("{base}{path}"))
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
            assert_eq!(res.status(), 403, "{path} with {token:?}");
        }
    }
    assert!(s.password_works(PASSWORD).await);
    assert_eq!(s.citizen_now().await.status, CitizenStatus::Active);
    assert!(s.d.sms_to(MOBILE).is_empty());
    s.stop().await;
}
