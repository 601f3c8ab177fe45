//! The activation pages against the real server: activation (Cl@ve permanente), forgotten
//! password, invitation letter and the ANSES ways (trámite number, identity questions).

use crate::harness::{Browser, Deployment, Page, journey_deployment, register_args};
use pasarela::core::credentials::{Lang, PasswordContext, PolicyPreset, check};
use pasarela::server::Running;
use std::sync::Arc;
use std::time::Duration;

const ID: &str = "12345678Z";
const EMAIL: &str = "lucia@example.es";
const MOBILE: &str = "+34600111222";
const PASSWORD: &str = "pradera-naranja-47-vuelo";
const BLOCKED: &str =
    "Este código está bloqueado: regístrese de nuevo en una oficina o solicite un nuevo código.";

/// Registers Lucía with `extra` CLI options; returns her activation code.
fn register(d: &Deployment, extra: &[&str]) -> String {
    let mut args = register_args(ID);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.cli_json(&args)["activation_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn show(d: &Deployment) -> serde_json::Value {
    d.cli_json(&["admin", "citizen", "show", ID])
}

fn audit_kinds(d: &Deployment) -> Vec<String> {
    d.cli_json(&["admin", "audit", "--citizen", ID, "--limit", "10000"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn redirect(p: &Page, to: &str) {
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some(to));
}

async fn setup(extra: &str, register_extra: &[&str]) -> (Deployment, Running, Browser, String) {
    let d = journey_deployment(extra);
    let server = d.start().await;
    let code = register(&d, register_extra);
    let b = Browser::new(server.addr);
    (d, server, b, code)
}

/// Walks `/activate` up to the password page with `code`.
async fn to_password(d: &Deployment, b: &Browser, code: &str) {
    b.get("/activate").await;
    let p = b
        .post(
            "/activate",
            &[("identifier", ID), ("email", EMAIL), ("code", code)],
        )
        .await;
    redirect(&p, "/activate/policy");
    b.follow(&p).await;
    let p = b.post("/activate/policy", &[("accept", "yes")]).await;
    redirect(&p, "/activate/code");
    b.follow(&p).await;
    let sms = d.last_sms_code(MOBILE);
    let p = b.post("/activate/code", &[("code", &sms)]).await;
    redirect(&p, "/activate/password");
    b.follow(&p).await;
}

/// The whole activation with `code`.
async fn activate(d: &Deployment, b: &Browser, code: &str) {
    to_password(d, b, code).await;
    let p = b
        .post(
            "/activate/password",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    redirect(&p, "/activate/done");
    assert_eq!(show(d)["citizen"]["status"], "active");
}

async fn password_matches(server: &Running, password: &str) -> bool {
    let engine = &server.state.engine;
    let c = engine.find_citizen(ID).await.unwrap();
    let stored = engine.store.password(c.id).await.unwrap().unwrap();
    server
        .state
        .hasher
        .verify(password, &stored.phc)
        .await
        .unwrap()
        .matches
}

#[tokio::test]
async fn a_citizen_activates_step_by_step_and_no_step_can_be_skipped() {
    let (d, server, b, code) = setup("", &[]).await;
    for page in ["/activate/policy", "/activate/code", "/activate/password"] {
        redirect(&b.get(page).await, "/activate");
    }
    let p = b.get("/activate").await;
    assert_eq!(p.status, 200);
    for attr in [
        "autocomplete=\"username\"",
        "autocomplete=\"email\"",
        "inputmode=\"numeric\"",
        "name=\"csrf\"",
    ] {
        assert!(p.body.contains(attr), "{attr}");
    }
    // A forged form (no token) is refused.
    let forged = b
        .client
        .post(format!("{}/activate", b.base))
        .form(&[
            ("identifier", ID),
            ("email", EMAIL),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let p = b
        .post(
            "/activate",
            &[("identifier", ID), ("email", EMAIL), ("code", &code)],
        )
        .await;
    redirect(&p, "/activate/policy");
    // Later steps send back to where the journey stands.
    redirect(&b.get("/activate/password").await, "/activate/policy");
    redirect(
        &b.post("/activate/code", &[("code", "123456")]).await,
        "/activate/policy",
    );
    let p = b.follow(&p).await;
    assert!(p.body.contains("2026-1"), "policy version shown");
    assert!(p.body.contains("NUNCA"));
    assert!(
        p.body.contains("*222") && !p.body.contains(MOBILE),
        "masked mobile"
    );
    let p = b.post("/activate/policy", &[]).await;
    assert!(p.body.contains("role=\"alert\""), "acceptance is required");
    assert!(d.sms_to(MOBILE).is_empty());
    let p = b.post("/activate/policy", &[("accept", "yes")]).await;
    redirect(&p, "/activate/code");
    redirect(&b.get("/activate/password").await, "/activate/code");
    let p = b.follow(&p).await;
    assert!(p.body.contains("autocomplete=\"one-time-code\""));
    assert!(p.body.contains("action=\"/activate/resend\""));
    let sms = d.last_sms_code(MOBILE);
    let wrong = if sms == "000000" { "111111" } else { "000000" };
    let p = b.post("/activate/code", &[("code", wrong)]).await;
    assert!(p.body.contains("Intentos restantes: 4"), "{}", p.body);
    // A resend right away is refused politely.
    let p = b.post("/activate/resend", &[]).await;
    redirect(&p, "/activate/code");
    let p = b.follow(&p).await;
    assert!(p.body.contains("Espere"), "{}", p.body);
    let p = b.post("/activate/code", &[("code", &sms)]).await;
    redirect(&p, "/activate/password");
    let p = b.follow(&p).await;
    assert_eq!(p.body.matches("autocomplete=\"new-password\"").count(), 2);
    assert!(p.body.contains("<li>"), "the rules are listed");
    let p = b
        .post(
            "/activate/password",
            &[
                ("password", PASSWORD),
                ("password_confirm", "otra-cosa-distinta-9"),
            ],
        )
        .await;
    assert!(p.body.contains("Las dos contraseñas no coinciden."));
    assert_eq!(show(&d)["citizen"]["status"], "registered");
    let p = b
        .post(
            "/activate/password",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    redirect(&p, "/activate/done");
    let p = b.follow(&p).await;
    assert!(p.body.contains("href=\"/login\""));
    assert_eq!(show(&d)["citizen"]["status"], "active");
    assert!(password_matches(&server, PASSWORD).await);
    // The journey is over.
    redirect(&b.get("/activate/password").await, "/activate");
    let kinds = audit_kinds(&d);
    for k in [
        "activation_code.accepted",
        "policy.accepted",
        "citizen.activated",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    // The code now only recovers: a second activation is told the account is active.
    let p = b
        .post(
            "/activate",
            &[("identifier", ID), ("email", EMAIL), ("code", &code)],
        )
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("/recover"));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn the_sixth_wrong_code_blocks_and_then_even_the_right_one_is_refused() {
    let (d, server, b, code) = setup("", &[]).await;
    let wrong = format!("{:08}", (code.parse::<u64>().unwrap() + 1) % 100_000_000);
    b.get("/activate").await;
    for _ in 0..5 {
        let p = b
            .post(
                "/activate",
                &[("identifier", ID), ("email", EMAIL), ("code", &wrong)],
            )
            .await;
        assert_eq!(p.status, 200);
        assert!(p.body.contains("role=\"alert\""));
        assert!(p.body.contains("Tras 5 intentos erróneos"), "{}", p.body);
    }
    // A wrong email answers like a wrong code (and counts like one: see the engine).
    let p = b
        .post(
            "/activate",
            &[
                ("identifier", ID),
                ("email", "otra@example.es"),
                ("code", &code),
            ],
        )
        .await;
    assert!(p.body.contains(BLOCKED), "6th wrong blocks: {}", p.body);
    let p = b
        .post(
            "/activate",
            &[("identifier", ID), ("email", EMAIL), ("code", &code)],
        )
        .await;
    assert!(p.body.contains(BLOCKED), "right code, blocked");
    assert_eq!(p.status, 200);
    let state = show(&d);
    assert_eq!(state["activation_code"]["failures"], 6);
    assert!(!state["activation_code"]["blocked_at"].is_null());
    let kinds = audit_kinds(&d);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "activation_code.blocked")
            .count(),
        1
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn fifty_parallel_wrong_codes_are_counted_exactly_and_block_once() {
    let (d, server, b, code) = setup("", &[]).await;
    let wrong = format!("{:08}", (code.parse::<u64>().unwrap() + 1) % 100_000_000);
    b.get("/activate").await;
    let b = Arc::new(b);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (b, wrong) = (b.clone(), wrong.clone());
            tokio::spawn(async move {
                b.post(
                    "/activate",
                    &[("identifier", ID), ("email", EMAIL), ("code", &wrong)],
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        let p = t.await.unwrap();
        assert_eq!(p.status, 200, "{}", p.body);
    }
    let state = show(&d);
    assert_eq!(state["activation_code"]["failures"], 50);
    assert!(!state["activation_code"]["blocked_at"].is_null());
    let p = b
        .post(
            "/activate",
            &[("identifier", ID), ("email", EMAIL), ("code", &code)],
        )
        .await;
    assert!(p.body.contains(BLOCKED));
    let kinds = audit_kinds(&d);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "activation_code.blocked")
            .count(),
        1
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn the_anses_preset_refuses_passwords_with_each_rule_message() {
    let (d, server, b, code) = setup("[credentials]\npassword_policy = \"anses\"\n", &[]).await;
    to_password(&d, &b, &code).await;
    let citizen = server.state.engine.find_citizen(ID).await.unwrap();
    let ctx = PasswordContext::from_citizen(&citizen);
    for bad in ["Abcd1234", "Abb12345"] {
        let violations = check(PolicyPreset::Anses, bad, &ctx).unwrap_err();
        assert!(!violations.is_empty());
        let p = b
            .post(
                "/activate/password",
                &[("password", bad), ("password_confirm", bad)],
            )
            .await;
        assert_eq!(p.status, 200);
        assert!(p.body.contains("role=\"alert\""));
        for v in violations {
            let m = escape(&v.message(Lang::Es));
            assert!(p.body.contains(&m), "{bad}: {m} in {}", p.body);
        }
    }
    assert_eq!(show(&d)["citizen"]["status"], "registered");
    let good = "Pradera47Vuelo";
    check(PolicyPreset::Anses, good, &ctx).unwrap();
    let p = b
        .post(
            "/activate/password",
            &[("password", good), ("password_confirm", good)],
        )
        .await;
    redirect(&p, "/activate/done");
    assert_eq!(show(&d)["citizen"]["status"], "active");
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn a_forgotten_password_is_reset_with_the_activation_code_and_an_sms() {
    let (d, server, b, code) = setup("", &[]).await;
    // Not active yet: recovery sends to activation.
    b.get("/recover").await;
    let p = b
        .post("/recover", &[("identifier", ID), ("code", &code)])
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("href=\"/activate\"") || p.body.contains("actívela"));
    activate(&d, &b, &code).await;

    let b = Browser::new(server.addr);
    for page in ["/recover/code", "/recover/password"] {
        redirect(&b.get(page).await, "/recover");
    }
    let p = b.get("/recover").await;
    assert!(p.body.contains("href=\"/letter\"") && p.body.contains("href=\"/anses\""));
    let wrong = format!("{:08}", (code.parse::<u64>().unwrap() + 1) % 100_000_000);
    let p = b
        .post("/recover", &[("identifier", ID), ("code", &wrong)])
        .await;
    assert!(p.body.contains("role=\"alert\""));
    let sms_before = d.sms_to(MOBILE).len();
    let p = b
        .post("/recover", &[("identifier", ID), ("code", &code)])
        .await;
    redirect(&p, "/recover/code");
    assert_eq!(d.sms_to(MOBILE).len(), sms_before + 1);
    redirect(&b.get("/recover/password").await, "/recover/code");
    let p = b.follow(&p).await;
    assert!(p.body.contains("action=\"/recover/resend\""));
    let sms = d.last_sms_code(MOBILE);
    let p = b.post("/recover/code", &[("code", &sms)]).await;
    redirect(&p, "/recover/password");
    b.follow(&p).await;
    let new = "otono-tranvia-93-cometa";
    let p = b
        .post(
            "/recover/password",
            &[("password", new), ("password_confirm", new)],
        )
        .await;
    redirect(&p, "/recover/done");
    let p = b.follow(&p).await;
    assert!(p.body.contains("href=\"/login\""));
    assert!(password_matches(&server, new).await);
    assert!(!password_matches(&server, PASSWORD).await);
    assert!(!d.emails_to(EMAIL).is_empty(), "an email notice");
    assert!(audit_kinds(&d).iter().any(|k| k == "password.reset"));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn an_invitation_letter_gets_an_activation_code_by_sms() {
    let (d, server, b, _) = setup("", &[]).await;
    let letter = d.cli_json(&["admin", "letter", "issue", ID]);
    let csv = letter["csv"].as_str().unwrap().to_owned();
    let p = b.get("/letter").await;
    assert!(p.body.contains("name=\"csv\""));
    let p = b
        .post(
            "/letter",
            &[("identifier", ID), ("csv", "AAAA-BBBB-CCCC-DDDD")],
        )
        .await;
    assert!(p.body.contains("role=\"alert\""));
    assert!(d.sms_to(MOBILE).is_empty());
    let p = b
        .post("/letter", &[("identifier", ID), ("csv", &csv)])
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("href=\"/activate\""), "{}", p.body);
    let code = d.last_sms_code(MOBILE);
    assert_eq!(code.len(), 8);
    activate(&d, &b, &code).await;
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn the_dni_tramite_number_gets_an_activation_code_by_sms() {
    let tramite = "00123456789";
    let (d, server, b, _) = setup("", &["--tramite", tramite]).await;
    let p = b.get("/anses").await;
    assert!(p.body.contains("name=\"tramite\"") && p.body.contains("href=\"/anses/questions\""));
    let p = b
        .post("/anses", &[("identifier", ID), ("tramite", "00123456780")])
        .await;
    assert!(p.body.contains("Intentos restantes: 2"), "{}", p.body);
    let p = b
        .post("/anses", &[("identifier", ID), ("tramite", tramite)])
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("href=\"/activate\""), "{}", p.body);
    let code = d.last_sms_code(MOBILE);
    assert_eq!(code.len(), 8);
    activate(&d, &b, &code).await;
    let kinds = audit_kinds(&d);
    assert!(kinds.iter().any(|k| k == "proofing.online_verified"));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

/// The label of option `q`-`i`, if the page has it.
fn option_label(body: &str, q: usize, i: usize) -> Option<String> {
    let marker = format!("<label for=\"q{q}-{i}\">");
    let start = body.find(&marker)? + marker.len();
    let len = body[start..].find("</label>")?;
    Some(body[start..start + len].to_owned())
}

/// Answers every question of the quiz on `body` wrongly, knowing the true facts.
fn wrong_answers(body: &str, truths: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut q = 0;
    while body.contains(&format!("name=\"q{q}\"")) {
        let mut labels = Vec::new();
        while let Some(l) = option_label(body, q, labels.len()) {
            labels.push(l);
        }
        // Any real option that is not the truth: wrong whether the truth is shown or not
        // (when it is not, "none of these", the last option, is the right answer).
        let pick = labels[..labels.len() - 1]
            .iter()
            .position(|l| !truths.contains(&l.as_str()))
            .unwrap();
        out.push((format!("q{q}"), pick.to_string()));
        q += 1;
    }
    assert!(q > 0, "no questions in {body}");
    out
}

#[tokio::test]
async fn three_failed_question_rounds_leave_only_an_office_visit() {
    let truths = ["ACME SA", "BANCO ACME"];
    let (d, server, b, _) = setup(
        "",
        &["--fact", "employer=ACME SA", "--fact", "bank=BANCO ACME"],
    )
    .await;
    let p = b.get("/anses/questions").await;
    assert!(p.body.contains("action=\"/anses/questions/start\""));
    let p = b
        .post("/anses/questions/start", &[("identifier", ID)])
        .await;
    redirect(&p, "/anses/questions");
    let mut page = b.follow(&p).await;
    assert!(page.body.contains("<fieldset>") && page.body.contains("<legend>"));
    assert!(page.body.contains("Ninguna de las anteriores"));
    for left in [2, 1] {
        let answers = wrong_answers(&page.body, &truths);
        let fields: Vec<(&str, &str)> = answers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        page = b.post("/anses/questions", &fields).await;
        assert!(
            page.body.contains(&format!("Intentos restantes: {left}")),
            "{}",
            page.body
        );
    }
    let answers = wrong_answers(&page.body, &truths);
    let fields: Vec<(&str, &str)> = answers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let p = b.post("/anses/questions", &fields).await;
    assert!(p.body.contains("forma presencial"), "{}", p.body);
    // Every online way is closed now.
    b.get("/anses/questions").await;
    let p = b
        .post("/anses/questions/start", &[("identifier", ID)])
        .await;
    assert!(p.body.contains("forma presencial"), "{}", p.body);
    let p = b
        .post("/anses", &[("identifier", ID), ("tramite", "00123456789")])
        .await;
    assert!(p.body.contains("forma presencial"), "{}", p.body);
    assert!(d.sms_to(MOBILE).is_empty());
    let kinds = audit_kinds(&d);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "proofing.online_exhausted")
            .count(),
        1
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn an_expired_code_has_its_own_message() {
    let (_d, server, b, code) = setup("", &[]).await;
    let engine = &server.state.engine;
    let c = engine.find_citizen(ID).await.unwrap();
    let purpose = pasarela::core::activation::PURPOSE_ACTIVATION;
    let mut record = engine
        .store
        .activation_code(c.id, purpose)
        .await
        .unwrap()
        .unwrap();
    record.expires_at = chrono::Utc::now() - chrono::Duration::minutes(1);
    engine.store.put_activation_code(&record).await.unwrap();
    b.get("/activate").await;
    let p = b
        .post(
            "/activate",
            &[("identifier", ID), ("email", EMAIL), ("code", &code)],
        )
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Este código ha caducado."), "{}", p.body);
    let p = b
        .post("/recover", &[("identifier", ID), ("code", &code)])
        .await;
    assert!(p.body.contains("Este código ha caducado."), "{}", p.body);
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn a_failing_sms_gateway_says_try_again() {
    let d = Deployment::new(
        "[sms]\nprovider = \"http\"\n\
         [sms.http]\nurl = \"http://127.0.0.1:9/sms\"\nbody = { to = \"{{to}}\", text = \"{{text}}\" }\n\
         retries = 0\ntimeout_ms = 1000\n\
         [credentials.argon2]\nmemory_kib = 1024\niterations = 1\n",
    );
    let server = d.start().await;
    let code = register(&d, &[]);
    let b = Browser::new(server.addr);
    const FAILED: &str = "No hemos podido enviar el código. Inténtelo de nuevo.";
    b.get("/activate").await;
    let p = b
        .post(
            "/activate",
            &[("identifier", ID), ("email", EMAIL), ("code", &code)],
        )
        .await;
    redirect(&p, "/activate/policy");
    b.follow(&p).await;
    let p = b.post("/activate/policy", &[("accept", "yes")]).await;
    redirect(&p, "/activate/code");
    let p = b.follow(&p).await;
    assert!(p.body.contains(FAILED), "{}", p.body);
    let p = b.post("/activate/resend", &[]).await;
    redirect(&p, "/activate/code");
    let p = b.follow(&p).await;
    assert!(p.body.contains(FAILED), "{}", p.body);
    // The password step stays out of reach.
    redirect(&b.get("/activate/password").await, "/activate/code");
    let letter = d.cli_json(&["admin", "letter", "issue", ID]);
    b.get("/letter").await;
    let p = b
        .post(
            "/letter",
            &[("identifier", ID), ("csv", letter["csv"].as_str().unwrap())],
        )
        .await;
    assert!(p.body.contains(FAILED), "{}", p.body);
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn every_page_is_translated() {
    let (_d, server, b, _) = setup("", &[]).await;
    for lang in ["es", "ca", "en"] {
        for page in [
            "/activate",
            "/recover",
            "/letter",
            "/anses",
            "/anses/questions",
            "/activate/done",
            "/recover/done",
        ] {
            let p = b.get(&format!("{page}?lang={lang}")).await;
            assert_eq!(p.status, 200, "{page}");
            assert!(p.body.contains(&format!("lang=\"{lang}\"")));
            assert!(!p.body.contains("act-"), "{lang} {page}: {}", p.body);
        }
    }
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}
