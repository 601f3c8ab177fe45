//! Levels of assurance end to end, through the real login pages: a session below the level a
//! service asks for is stepped up with only the missing factor; the floor (the client's or
//! the named service's minimum, an essential `acr`) is never crossed downwards; a level out of
//! the citizen's reach is explained and answered `unmet_authentication_requirements`; and the
//! ANSES example configuration gives nivel 2 to online proofing and nivel 3 only after an
//! office sets the proofing level.

use crate::harness::*;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

const CB: &str = "http://localhost:9999/cb";
const SECRET: &str = "secreto-de-la-sede-de-pruebas-2026";
const MOBILE: &str = "+34600111222";

/// `[[oidc.clients]]` entries: `alta` (minimum high) and `sede` (minimum low, with services
/// that have their own minimum, as the demo e-office).
fn clients() -> String {
    let hash = hex::encode(openssl::sha::sha256(SECRET.as_bytes()));
    let client = |id: &str, min: &str| {
        format!(
            "\n[[oidc.clients]]\nid = \"{id}\"\nredirect_uris = [\"{CB}\"]\n\
             client_secret_sha256 = \"{hash}\"\nmin_level = \"{min}\"\nskip_consent = true\n"
        )
    };
    format!(
        "{}{}[[oidc.clients.services]]\nname = \"vida-laboral\"\nmin_level = \"substantial\"\n\
         [[oidc.clients.services]]\nname = \"cobro\"\ndisplay_name = \"Cambio de lugar de cobro\"\n\
         min_level = \"high\"\n",
        client("alta", "high"),
        client("sede", "low")
    )
}

/// A deployment with `extra` config, the clients, Lucía registered with `register` extra
/// options and activated through the engine.
async fn start(extra: &str, register: &[&str]) -> Live {
    let d = journey_deployment(&format!("{extra}\n{}", clients()));
    Live::with_lucia(d, register, PASSWORD).await.0
}

fn authorize(client: &str, extra: &[(&str, &str)]) -> String {
    authorize_url(client, CB, "openid", extra)
}

/// The query of a redirect to the client's callback.
fn at_callback(p: &Page) -> HashMap<String, String> {
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.as_deref().unwrap();
    assert!(to.starts_with(CB), "{to}");
    query_of(to)
}

/// The login URL an authorization request was sent to.
fn to_login(p: &Page) -> String {
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.clone().unwrap();
    assert!(to.starts_with("/login?"), "{to}");
    to
}

/// The ID token claims for `code` (its signature is checked by the OIDC suites).
async fn id_token(op: &Live, client: &str, code: &str) -> Value {
    let body = exchange_code(&op.b, client, SECRET, CB, code).await;
    jwt_part(body["id_token"].as_str().unwrap(), 1)
}

/// The `href` of the link with `id` on `page`, unescaped.
fn link(page: &Page, id: &str) -> String {
    let at = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let tag = &page.body[page.body[..at].rfind('<').unwrap()..];
    let href = tag.find("href=\"").unwrap() + 6;
    let len = tag[href..].find('"').unwrap();
    html_unescape(&tag[href..href + len])
}

/// The page the login at `login` shows for a level out of reach; it names `how` (the method
/// or the office that would reach it).
async fn unreachable(op: &Live, login: &str, how: &str) -> Page {
    let page = op.b.get(login).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body.contains("id=\"level-unreachable\""),
        "{}",
        page.body
    );
    assert!(page.body.contains(how), "{how}: {}", page.body);
    page
}

/// Lucía's whole login (password, SMS code) from `login`; the ID token's claims for `sede`.
async fn logged_in(op: &Live, login: &str) -> Value {
    let next = password(op, login).await;
    let q = sms_then_callback(op, &next).await;
    id_token(op, "sede", &q["code"]).await
}

/// The step-up the login at `login` goes to at once: the code page, no password asked.
async fn step_up_page(op: &Live, login: &str) -> Page {
    let step = op.b.get(login).await;
    assert_eq!(
        step.location.as_deref(),
        Some("/login/code"),
        "{}",
        step.body
    );
    let page = op.b.follow(&step).await;
    assert!(page.body.contains("id=\"step-up\""), "{}", page.body);
    page
}

/// Posts Lucía's password on the login form at `login`; returns where it goes next.
async fn password(op: &Live, login: &str) -> Page {
    password_as(op, login, "12345678Z", PASSWORD).await
}

/// Enters the last SMS code on the code page `page` leads to; returns the callback query.
async fn sms_then_callback(op: &Live, page: &Page) -> HashMap<String, String> {
    assert_eq!(
        page.location.as_deref(),
        Some("/login/code"),
        "{}",
        page.body
    );
    let code_page = op.b.follow(page).await;
    assert_eq!(code_page.status, 200);
    let code = op.d.last_sms_code(MOBILE);
    let done = op.b.post("/login/code", &[("code", &code)]).await;
    let resumed = op.b.follow(&done).await;
    at_callback(&resumed)
}

#[tokio::test]
async fn a_session_below_the_service_is_stepped_up_with_the_sms_code_alone() {
    let op = start("[login]\nsecond_factor = \"when_needed\"\n", &[]).await;
    // The e-office's own minimum is low: the password alone.
    let login = to_login(&op.b.get(&authorize("sede", &[("state", "a")])).await);
    // The form's answer redirects to the e-office: its origin is allowed as a form target
    // (Chromium applies form-action to the redirects after a submission).
    let res =
        op.b.client
            .get(format!("{}{login}", op.b.base))
            .send()
            .await
            .unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("form-action 'self' http://localhost:9999;"),
        "{csp}"
    );
    let after = password(&op, &login).await;
    let q = at_callback(&op.b.follow(&after).await);
    assert_eq!(q["state"], "a");
    let first = id_token(&op, "sede", &q["code"]).await;
    assert_eq!(first["acr"], "http://eidas.europa.eu/LoA/low");
    assert_eq!(first["amr"], serde_json::json!(["pwd"]));
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // "Informe de vida laboral" needs substantial: only the SMS code is asked for.
    let login = to_login(
        &op.b
            .get(&authorize(
                "sede",
                &[("state", "b"), ("service", "vida-laboral")],
            ))
            .await,
    );
    assert!(
        login.contains("acr=substantial") && !login.contains("fresh=1"),
        "{login}"
    );
    let code_page = step_up_page(&op, &login).await;
    assert!(!code_page.body.contains("current-password"));
    let code = op.d.last_sms_code(MOBILE);
    let done = op.b.post("/login/code", &[("code", &code)]).await;
    let q = at_callback(&op.b.follow(&done).await);
    assert_eq!(q["state"], "b");
    let raised = id_token(&op, "sede", &q["code"]).await;
    assert_eq!(raised["acr"], SUBSTANTIAL);
    assert_eq!(raised["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    assert_eq!(raised["sub"], first["sub"]);
    assert!(raised["auth_time"].as_i64() > first["auth_time"].as_i64());
    let e = &op.server.state.engine;
    let citizen = e.find_citizen("12345678Z").await.unwrap();
    let sessions = e
        .sessions_of(citizen.id, &op.server.state.config.sessions)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1, "the same session, raised");

    // "Cambio de lugar de cobro" needs high, which needs a certificate here: the page says
    // so, and the e-office gets unmet_authentication_requirements, never a code.
    let login = to_login(
        &op.b
            .get(&authorize("sede", &[("state", "c"), ("service", "cobro")]))
            .await,
    );
    let page = unreachable(&op, &login, "certificado electrónico").await;
    assert!(
        page.body.contains("Sustancial"),
        "the current level: {}",
        page.body
    );
    let back = op.b.get(&link(&page, "level-back")).await;
    let q = at_callback(&back);
    assert_eq!(q["error"], "unmet_authentication_requirements");
    assert_eq!(q["state"], "c");
    assert!(!q.contains_key("code"));
    // The session is untouched.
    let after = e
        .sessions_of(citizen.id, &op.server.state.config.sessions)
        .await
        .unwrap();
    assert_eq!(
        after[0].level,
        pasarela::core::level::LevelOfAssurance::Substantial
    );

    // prompt=login (and max_age) demand a fresh login: the password, not a step-up.
    let login = to_login(
        &op.b
            .get(&authorize(
                "sede",
                &[("prompt", "login"), ("service", "vida-laboral")],
            ))
            .await,
    );
    assert!(login.contains("fresh=1"), "{login}");
    assert_eq!(logged_in(&op, &login).await["acr"], SUBSTANTIAL);
    op.stop().await;
}

#[tokio::test]
async fn a_client_whose_minimum_is_high_never_gets_a_code_for_a_substantial_session() {
    let op = start("", &[]).await;
    // A substantial session (password + SMS, Cl@ve style: the code at every login).
    let login = to_login(
        &op.b
            .get(&authorize("sede", &[("service", "vida-laboral")]))
            .await,
    );
    assert_eq!(logged_in(&op, &login).await["acr"], SUBSTANTIAL);

    for extra in [
        vec![("prompt", "none")],
        vec![("prompt", "none"), ("acr_values", "low")],
    ] {
        let q = at_callback(&op.b.get(&authorize("alta", &extra)).await);
        assert_eq!(q["error"], "login_required", "{extra:?}");
        assert!(!q.contains_key("code"));
    }
    for extra in [vec![], vec![("acr_values", "low substantial")]] {
        let login = to_login(&op.b.get(&authorize("alta", &extra)).await);
        let page = unreachable(&op, &login, "certificado electrónico").await;
        // Going back (or forging the flag) answers the error, never a code.
        let q = at_callback(&op.b.get(&link(&page, "level-back")).await);
        assert_eq!(q["error"], "unmet_authentication_requirements", "{extra:?}");
        assert!(!q.contains_key("code"));
    }
    // An essential acr below the client's minimum does not lower it either.
    let essential = r#"{"id_token":{"acr":{"essential":true,"values":["low"]}}}"#;
    let login = to_login(&op.b.get(&authorize("alta", &[("claims", essential)])).await);
    let resume = url::Url::parse(&format!("http://x{login}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "continue")
        .unwrap()
        .1
        .into_owned();
    let q = at_callback(&op.b.get(&format!("{resume}&unmet=1")).await);
    assert_eq!(q["error"], "unmet_authentication_requirements");
    assert!(
        op.d.cli_json(&[
            "admin",
            "audit",
            "--citizen",
            "12345678Z",
            "--limit",
            "1000"
        ])
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "login.level_unreachable")
    );
    op.stop().await;
}

#[tokio::test]
async fn a_table_that_rates_three_factors_high_steps_up_with_the_app() {
    let table = "[[levels.methods]]\nmethods = [\"pwd\"]\nlevel = \"low\"\n\
                 [[levels.methods]]\nmethods = [\"pwd\", \"sms\"]\nlevel = \"substantial\"\n\
                 [[levels.methods]]\nmethods = [\"pwd\", \"sms\", \"otp\"]\nlevel = \"high\"\n";
    let op = start(table, &[]).await;
    let e = &op.server.state.engine;
    let citizen = e.find_citizen("12345678Z").await.unwrap();
    let enrolment = e
        .start_totp_enrolment(citizen.id, "pasarela")
        .await
        .unwrap();
    let secret =
        pasarela::core::credentials::TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
    let now = chrono::Utc::now();
    let actor = pasarela::core::engine::Actor::operator("test");
    assert!(
        e.confirm_totp_enrolment(citizen.id, &secret.code_at(now).unwrap(), &actor)
            .await
            .unwrap()
    );
    // Substantial with password + SMS (the app would do as well; SMS is asked when the
    // service wants only substantial and the table lists SMS first).
    let login = to_login(
        &op.b
            .get(&authorize("sede", &[("service", "vida-laboral")]))
            .await,
    );
    assert_eq!(logged_in(&op, &login).await["acr"], SUBSTANTIAL);
    // High: only the app's code is missing, and no switch to SMS is offered (it would not
    // reach high).
    let login = to_login(&op.b.get(&authorize("sede", &[("service", "cobro")])).await);
    let page = step_up_page(&op, &login).await;
    assert!(
        !page.body.contains("action=\"/login/sms\""),
        "{}",
        page.body
    );
    let code = secret.code_at(now + chrono::Duration::seconds(30)).unwrap();
    let done = op.b.post("/login/code", &[("code", &code)]).await;
    let q = at_callback(&op.b.follow(&done).await);
    let claims = id_token(&op, "sede", &q["code"]).await;
    assert_eq!(claims["acr"], HIGH);
    assert_eq!(
        claims["amr"],
        serde_json::json!(["pwd", "sms", "otp", "mfa"])
    );
    op.stop().await;
}

/// A shipped example configuration (`config/NAME`) as a test deployment: the file without its
/// `public_url` (the deployment sets its own), plus the clients.
fn example_deployment(name: &str) -> Deployment {
    let path = format!("{}/config/{name}", env!("CARGO_MANIFEST_DIR"));
    let text: String = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("public_url"))
        .map(|l| format!("{l}\n"))
        .collect();
    journey_deployment(&format!("{text}\n{}", clients()))
}

#[tokio::test]
async fn clave_asks_the_sms_code_at_every_login_and_high_needs_a_certificate() {
    let d = example_deployment("clave.example.toml");
    let op = Live::with_lucia(d, &[], PASSWORD).await.0;
    // The e-office's minimum is low, yet Cl@ve asks for the code: substantial.
    let login = to_login(&op.b.get(&authorize("sede", &[])).await);
    assert!(login.contains("acr=low"), "{login}");
    assert_eq!(logged_in(&op, &login).await["acr"], SUBSTANTIAL);
    let login = to_login(&op.b.get(&authorize("sede", &[("service", "cobro")])).await);
    let page = unreachable(&op, &login, "certificado electrónico").await;
    let q = at_callback(&op.b.get(&link(&page, "level-back")).await);
    assert_eq!(q["error"], "unmet_authentication_requirements");
    op.stop().await;
}

/// The ANSES example configuration, with a CUIL-holder and an Argentine mobile.
#[tokio::test]
async fn anses_online_proofing_is_nivel_2_and_nivel_3_needs_the_office() {
    const CUIL: &str = "20-12345678-6";
    const AR_MOBILE: &str = "+5491123456789";
    const TRAMITE: &str = "00123456789";
    let d = example_deployment("anses.example.toml");
    d.cli_ok(&[
        "admin",
        "citizen",
        "register",
        CUIL,
        "--given-name",
        "Martina",
        "--family-names",
        "Sosa",
        "--birth-date",
        "1985-07-09",
        "--email",
        "martina@example.com.ar",
        "--mobile",
        AR_MOBILE,
        "--tramite",
        TRAMITE,
        "--proofing",
        "online",
    ]);
    let op = Live::start(d).await;
    let (d, b) = (&op.d, &op.b);
    // Online proofing with the DNI trámite number, then the activation pages.
    b.get("/anses").await;
    let p = b
        .post("/anses", &[("identifier", CUIL), ("tramite", TRAMITE)])
        .await;
    assert!(p.body.contains("href=\"/activate\""), "{}", p.body);
    let code = d.last_sms_code(AR_MOBILE);
    b.get("/activate").await;
    let p = b
        .post(
            "/activate",
            &[
                ("identifier", CUIL),
                ("email", "martina@example.com.ar"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/activate/policy"),
        "{}",
        p.body
    );
    b.follow(&p).await;
    let p = b.post("/activate/policy", &[("accept", "yes")]).await;
    b.follow(&p).await;
    let sms = d.last_sms_code(AR_MOBILE);
    let p = b.post("/activate/code", &[("code", &sms)]).await;
    b.follow(&p).await;
    let pw = "Clave2026Sosa";
    let p = b
        .post(
            "/activate/password",
            &[("password", pw), ("password_confirm", pw)],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/activate/done"), "{}", p.body);
    let shown = d.cli_json(&["admin", "citizen", "show", CUIL]);
    assert_eq!(shown["citizen"]["proofing"], "online", "{shown}");

    // Nivel 2: the password alone.
    let login = to_login(&b.get(&authorize("sede", &[("acr_values", "nivel2")])).await);
    let after = password_as(&op, &login, CUIL, pw).await;
    assert_ne!(
        after.location.as_deref(),
        Some("/login/code"),
        "no SMS for nivel 2"
    );
    let q = at_callback(&b.follow(&after).await);
    assert_eq!(id_token(&op, "sede", &q["code"]).await["acr"], SUBSTANTIAL);

    // The shipped e-office client: nivel 2 by default, nivel 3 for the guide's three services.
    let mi_anses = |service: Option<&str>| {
        let mut extra = vec![("prompt", "login")];
        if let Some(s) = service {
            extra.push(("service", s));
        }
        authorize_url(
            "mi-anses",
            "https://servicioscorp.anses.gob.ar/clavelogin/oidc/callback",
            "openid",
            &extra,
        )
    };
    assert!(to_login(&b.get(&mi_anses(None)).await).contains("acr=substantial"));
    for service in [
        "servicios-corporativos",
        "cambio-lugar-cobro",
        "reparacion-historica",
    ] {
        let login = to_login(&b.get(&mi_anses(Some(service))).await);
        assert!(login.contains("acr=high"), "{service}: {login}");
    }

    // Nivel 3 is out of reach of online proofing: the page sends Martina to an office.
    let essential3 = r#"{"id_token":{"acr":{"essential":true,"values":["nivel3"]}}}"#;
    let login = to_login(
        &op.b
            .get(&authorize("sede", &[("claims", essential3)]))
            .await,
    );
    let page = unreachable(&op, &login, "oficina").await;
    let q = at_callback(&op.b.get(&link(&page, "level-back")).await);
    assert_eq!(q["error"], "unmet_authentication_requirements");

    // The office checks her DNI: nivel 3 with the same password, at the next login.
    op.d.cli_ok(&[
        "admin",
        "citizen",
        "set-level",
        CUIL,
        "--proofing",
        "in_person",
    ]);
    let login = to_login(
        &op.b
            .get(&authorize("sede", &[("claims", essential3)]))
            .await,
    );
    let after = password_as(&op, &login, CUIL, pw).await;
    let q = at_callback(&op.b.follow(&after).await);
    assert_eq!(id_token(&op, "sede", &q["code"]).await["acr"], HIGH);
    op.stop().await;
}

/// Posts `identifier` and `password` on the login form at `login`.
async fn password_as(op: &Live, login: &str, identifier: &str, password: &str) -> Page {
    let form = op.b.get(login).await;
    assert!(form.body.contains("current-password"), "{}", form.body);
    op.b.post(
        "/login",
        &[("identifier", identifier), ("password", password)],
    )
    .await
}
