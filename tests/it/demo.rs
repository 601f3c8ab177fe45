//! The demo e-office (`pasarela-demo`) against the real server: the deployment carries the
//! demo section of config/dev.toml (its OIDC client, its SAML SP, `second_factor =
//! "when_needed"`) on fixed free ports, the demo citizen of `dev seed`, and the demo binary
//! started beside it. Over HTTP: the OIDC sign-in at a substantial service, the API's answers
//! (RFC 6750 and RFC 9470 challenges), the step-up request for a high service and the SAML
//! entry. In headless Chromium: the walk from the demo to pasarela's login and back, the
//! unreachable high level, and the step-up from low to substantial.

use crate::browser::{Chromium, chromedriver, connect};
use crate::harness::*;
use crate::walk::Driver;
use base64::Engine as _;
use fantoccini::Locator;
use pasarela::server::Running;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ID: &str = "12345678Z";
const PASSWORD: &str = "Prueba2026Clave";
const MOBILE: &str = "+34600111222";
/// The development secret of `sede-demo` (config/dev.toml holds its SHA-256).
const SECRET: &str = "sede-demo-secreto-solo-desarrollo";
const SECRET_SHA256: &str = "a2de59494967da9bba47722ce08f83cffc6e45e3eedec29113b9b4170df63463";
const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
const HIGH: &str = "http://eidas.europa.eu/LoA/high";
const LOW: &str = "http://eidas.europa.eu/LoA/low";
/// The demo's services as config/dev.toml declares them.
const SERVICES: &str = "\
[[oidc.clients.services]]\nname = \"informacion\"\nmin_level = \"low\"\n\
[[oidc.clients.services]]\nname = \"vida-laboral\"\nmin_level = \"substantial\"\n\
[[oidc.clients.services]]\nname = \"domicilio\"\nmin_level = \"substantial\"\n\
[[oidc.clients.services]]\nname = \"cobro\"\nmin_level = \"high\"\n";

/// The demo binary, killed on drop.
struct DemoProcess(Child);

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pasarela and the demo, each on its own port of 127.0.0.1.
struct Setup {
    d: Deployment,
    server: Running,
    _demo: DemoProcess,
    /// pasarela's issuer (`http://127.0.0.1:<port>`).
    issuer: String,
    /// The demo's URL.
    demo: String,
}

fn demo_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pasarela-demo"));
    for var in [
        "DEMO_BIND",
        "DEMO_PUBLIC_URL",
        "DEMO_ISSUER",
        "DEMO_CLIENT_ID",
        "DEMO_CLIENT_SECRET",
        "DEMO_SAML_IDP_METADATA",
        "DEMO_SAML_KEY",
        "DEMO_SAML_CERT",
    ] {
        c.env_remove(var);
    }
    c
}

async fn setup() -> Setup {
    let port = free_port();
    let demo_port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let demo = format!("http://127.0.0.1:{demo_port}");
    // The demo's SP metadata for its URL here, as it serves it.
    let md = demo_command()
        .args(["--public-url", &demo, "--print-saml-metadata"])
        .output()
        .unwrap();
    assert!(
        md.status.success(),
        "{}",
        String::from_utf8_lossy(&md.stderr)
    );
    // The demo section of config/dev.toml, with this run's URLs.
    let d = journey_deployment(&format!(
        "[login]\nsecond_factor = \"when_needed\"\n\
         [[oidc.clients]]\nid = \"sede-demo\"\nname = \"Sede electrónica (demo)\"\n\
         redirect_uris = [\"{demo}/oidc/callback\"]\n\
         post_logout_redirect_uris = [\"{demo}/salida\"]\n\
         client_secret_sha256 = \"{SECRET_SHA256}\"\nmin_level = \"low\"\nskip_consent = true\n\
         {SERVICES}"
    ));
    let sp = d.dir.path().join("sede-demo-sp.xml");
    std::fs::write(&sp, &md.stdout).unwrap();
    let text = std::fs::read_to_string(&d.config_path)
        .unwrap()
        .replace(
            "public_url = \"http://localhost:8080\"",
            &format!("public_url = \"{issuer}\""),
        )
        .replace(
            "bind = \"127.0.0.1:0\"",
            &format!("bind = \"127.0.0.1:{port}\""),
        )
        + &format!(
            "[[saml.service_providers]]\nmetadata_file = \"{}\"\nmin_level = \"low\"\n",
            sp.display()
        );
    std::fs::write(&d.config_path, text).unwrap();
    d.cli_ok(&["dev", "seed"]);
    let server = d.start().await;
    assert_eq!(server.addr.port(), port);
    let child = demo_command()
        .args([
            "--bind",
            &format!("127.0.0.1:{demo_port}"),
            "--public-url",
            &demo,
            "--issuer",
            &issuer,
            "--client-secret",
            SECRET,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let demo_process = DemoProcess(child);
    let http = reqwest::Client::new();
    for attempt in 0.. {
        match http.get(format!("{demo}/")).send().await {
            Ok(r) if r.status() == 200 => break,
            _ if attempt < 100 => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("the demo did not start: {other:?}"),
        }
    }
    Setup {
        d,
        server,
        _demo: demo_process,
        issuer,
        demo,
    }
}

/// A browser stand-in over absolute URLs: a cookie jar, redirects not followed.
struct Web {
    http: reqwest::Client,
}

impl Web {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn page(res: reqwest::Response) -> (u16, Option<String>, String) {
        let status = res.status().as_u16();
        let base = res.url().clone();
        let location = res
            .headers()
            .get("location")
            .map(|v| base.join(v.to_str().unwrap()).unwrap().to_string());
        (status, location, res.text().await.unwrap())
    }

    async fn get(&self, url: &str) -> (u16, Option<String>, String) {
        Self::page(self.http.get(url).send().await.unwrap()).await
    }

    async fn post(&self, url: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        Self::page(self.http.post(url).form(form).send().await.unwrap()).await
    }

    /// GETs `url` and follows redirects (at most 10); returns the final URL and page.
    async fn follow(&self, mut url: String) -> (String, u16, String) {
        for _ in 0..10 {
            let (status, location, body) = self.get(&url).await;
            match location {
                Some(next) if (300..400).contains(&status) => url = next,
                _ => return (url, status, body),
            }
        }
        panic!("too many redirects from {url}");
    }
}

/// Logs the demo citizen in on pasarela's form at `login_url` (password, then the SMS code
/// when asked) and follows the answer back; returns the final URL and page.
async fn log_in(s: &Setup, web: &Web, login_url: &str) -> (String, u16, String) {
    let (status, _, form) = web.get(login_url).await;
    assert_eq!(status, 200, "{form}");
    let csrf = hidden_value(&form, "csrf").expect("a csrf field");
    let (status, location, body) = web
        .post(
            &format!("{}/login", s.issuer),
            &[("csrf", &csrf), ("identifier", ID), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let mut next = location.unwrap();
    if next.ends_with("/login/code") {
        let code = s.d.last_sms_code(MOBILE);
        let (status, location, body) = web.post(&next, &[("csrf", &csrf), ("code", &code)]).await;
        assert_eq!(status, 303, "{body}");
        next = location.unwrap();
    }
    web.follow(next).await
}

#[tokio::test]
async fn demo_signs_in_over_oidc_answers_rfc_9470_and_enters_over_saml() {
    let s = setup().await;
    let web = Web::new();

    // The home page lists the four services and their levels.
    let (status, _, home) = web.get(&format!("{}/", s.demo)).await;
    assert_eq!(status, 200);
    for needle in [
        "Información pública",
        "Informe de vida laboral",
        "Cambio de domicilio",
        "Cambio de lugar de cobro",
        "Entrar con Cl@ve (OIDC)",
        "Entrar con SAML",
    ] {
        assert!(home.contains(needle), "{needle} missing: {home}");
    }

    // A substantial service without a session: an authorization request at that level.
    let (status, location, _) = web.get(&format!("{}/servicios/vida-laboral", s.demo)).await;
    assert_eq!(status, 303);
    let authorize = location.unwrap();
    assert!(
        authorize.starts_with(&format!("{}/oidc/authorize?", s.issuer)),
        "{authorize}"
    );
    let q = query_of(&authorize);
    assert_eq!(q["acr_values"], SUBSTANTIAL);
    assert_eq!(q["service"], "vida-laboral");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q.contains_key("nonce") && q.contains_key("state"));
    let claims: serde_json::Value = serde_json::from_str(&q["claims"]).unwrap();
    assert_eq!(
        claims,
        serde_json::json!({"id_token": {"acr": {"essential": true, "values": [SUBSTANTIAL]}}})
    );
    let (login, status, _) = web.follow(authorize).await;
    assert_eq!(status, 200);
    assert!(login.contains("/login?"), "{login}");
    let (url, status, page) = log_in(&s, &web, &login).await;
    assert_eq!(url, format!("{}/servicios/vida-laboral", s.demo), "{page}");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("data-acr=\"{SUBSTANTIAL}\"")),
        "{page}"
    );
    assert!(page.contains("Lucía García Pérez"), "{page}");
    assert!(page.contains(ID), "{page}");
    assert!(page.contains("Días en alta"), "the API's data: {page}");

    // A high service: the demo's API answers RFC 9470 and the demo asks pasarela for high.
    let (status, location, body) = web.get(&format!("{}/servicios/cobro", s.demo)).await;
    assert_eq!(status, 303, "{body}");
    let q = query_of(location.as_deref().unwrap());
    assert_eq!(q["acr_values"], HIGH);
    assert_eq!(q["service"], "cobro");
    assert!(q["claims"].contains(HIGH));

    // The API itself, with a token of this client obtained over the same SSO session.
    let (verifier, challenge) = (
        "dBjftJeZ4CVP-mB0Y3bJbBZyY1mLyK4Zm4ggXvebHzA",
        "jeKapnPfiU_wqJ_BaE7ygYSi_Jdlp6EJ8EvSCzMc5e4",
    );
    let redirect = format!("{}/oidc/callback", s.demo);
    let mut auth = url::Url::parse(&format!("{}/oidc/authorize", s.issuer)).unwrap();
    auth.query_pairs_mut()
        .append_pair("client_id", "sede-demo")
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", &redirect)
        .append_pair("acr_values", SUBSTANTIAL)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "api-test");
    let (status, location, body) = web.get(auth.as_str()).await;
    assert_eq!(status, 303, "{body}");
    let code = query_of(location.as_deref().unwrap())["code"].clone();
    let token: serde_json::Value = web
        .http
        .post(format!("{}/oidc/token", s.issuer))
        .basic_auth("sede-demo", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {token}"));
    let api = |name: &str, bearer: Option<&str>| {
        let mut req = web.http.get(format!("{}/api/servicios/{name}", s.demo));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        req.send()
    };
    let www = |r: &reqwest::Response| {
        r.headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let ok = api("vida-laboral", Some(access)).await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["acr"], SUBSTANTIAL);
    assert_eq!(body["servicio"], "vida-laboral");
    let refused = api("cobro", Some(access)).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        www(&refused).as_deref(),
        Some(
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"This service needs the level of assurance high\", \
             acr_values=\"http://eidas.europa.eu/LoA/high\""
        )
    );
    let none = api("cobro", None).await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(www(&none).as_deref(), Some("Bearer realm=\"sede-demo\""));
    let bad = api("vida-laboral", Some("not-a-token")).await.unwrap();
    assert_eq!(bad.status(), 401);
    assert!(
        www(&bad)
            .unwrap()
            .starts_with("Bearer realm=\"sede-demo\", error=\"invalid_token\""),
        "{:?}",
        www(&bad)
    );
    let public = api("informacion", None).await.unwrap();
    assert_eq!(public.status(), 200);

    // The SAML entry, over the same pasarela session (substantial): a signed AuthnRequest
    // asking for at least substantial, the Response posted to the demo's ACS.
    let (status, location, body) = web
        .get(&format!("{}/entrar/saml?servicio=domicilio", s.demo))
        .await;
    assert_eq!(status, 303, "{body}");
    let sso = location.unwrap();
    assert!(
        sso.starts_with(&format!("{}/saml/sso?SAMLRequest=", s.issuer)),
        "{sso}"
    );
    assert!(sso.contains("&Signature="), "{sso}");
    let (_, status, form) = web.follow(sso).await;
    assert_eq!(status, 200, "{form}");
    let response = hidden_value(&form, "SAMLResponse").expect("a SAMLResponse form");
    let relay = hidden_value(&form, "RelayState").map(|r| html_unescape(&r));
    assert_eq!(relay.as_deref(), Some("domicilio"));
    // A Response whose level was raised after signing is refused, and leaves the request
    // pending for the genuine one.
    let genuine = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&response)
            .unwrap(),
    )
    .unwrap();
    assert!(genuine.contains(SUBSTANTIAL), "{genuine}");
    let forged =
        base64::engine::general_purpose::STANDARD.encode(genuine.replace(SUBSTANTIAL, HIGH));
    let (status, _, body) = web
        .post(
            &format!("{}/saml/acs", s.demo),
            &[
                ("SAMLResponse", forged.as_str()),
                ("RelayState", "domicilio"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("signature"), "{body}");
    let (status, location, body) = web
        .post(
            &format!("{}/saml/acs", s.demo),
            &[
                ("SAMLResponse", response.as_str()),
                ("RelayState", "domicilio"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let (url, status, page) = web.follow(location.unwrap()).await;
    assert_eq!(url, format!("{}/servicios/domicilio", s.demo));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("por SAML"), "{page}");
    assert!(
        page.contains(&format!("data-acr=\"{SUBSTANTIAL}\"")),
        "{page}"
    );
    assert!(
        page.contains("Lucía García Pérez") && page.contains(ID),
        "{page}"
    );
    // The same Response again is refused: its request is no longer pending.
    let (status, _, _) = web
        .post(
            &format!("{}/saml/acs", s.demo),
            &[("SAMLResponse", response.as_str())],
        )
        .await;
    assert_eq!(status, 400);

    // Back over OIDC (pasarela's session answers at once), then "Salir": RP-initiated logout
    // ends pasarela's session too and comes back to the demo.
    let (url, status, page) = web.follow(format!("{}/entrar/oidc", s.demo)).await;
    assert_eq!(url, format!("{}/", s.demo), "{page}");
    assert!(page.contains("por OpenID Connect"), "{page}");
    let (status2, location, body) = web.post(&format!("{}/salir", s.demo), &[]).await;
    assert_eq!((status, status2), (200, 303), "{body}");
    let logout = location.unwrap();
    assert!(
        logout.starts_with(&format!("{}/oidc/logout?", s.issuer)),
        "{logout}"
    );
    let q = query_of(&logout);
    assert!(q.contains_key("id_token_hint"));
    assert_eq!(q["post_logout_redirect_uri"], format!("{}/salida", s.demo));
    let (url, status, page) = web.follow(logout).await;
    assert_eq!(url, format!("{}/salida", s.demo), "{page}");
    assert_eq!(status, 200);
    let (_, _, home) = web.get(&format!("{}/", s.demo)).await;
    assert!(home.contains("No has entrado"), "{home}");
    let (url, _, _) = web
        .follow(format!("{}/servicios/vida-laboral", s.demo))
        .await;
    assert!(
        url.contains("/login?"),
        "pasarela's session ended too: {url}"
    );
    s.server.shutdown(Duration::from_secs(1)).await.unwrap();
}

/// Chromium on absolute URLs.
async fn goto(c: &mut Chromium, url: &str) -> String {
    c.open(url).await
}

/// Clicks the element `#id` (a link) and waits for the next page.
async fn click(c: &Chromium, id: &str) -> String {
    let link = c
        .client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id}: {e}"));
    c.click_and_wait(link).await
}

async fn url_of(c: &Chromium) -> String {
    c.client.current_url().await.unwrap().to_string()
}

#[tokio::test]
async fn demo_walk_in_chromium_substantial_then_high_then_step_up_from_low() {
    let Some(driver) = chromedriver() else { return };
    let s = setup().await;

    // Substantial first, then a high service the demo citizen cannot reach.
    let client = connect(driver.port).await;
    let mut c = Chromium {
        client: client.clone(),
        base: String::new(),
    };
    goto(&mut c, &format!("{}/", s.demo)).await;
    assert_eq!(click(&c, "servicio-vida-laboral").await, "/login");
    assert!(url_of(&c).await.starts_with(&s.issuer));
    assert_eq!(
        c.submit(&[("identifier", ID), ("password", PASSWORD)])
            .await,
        "/login/code"
    );
    let code = s.d.last_sms_code(MOBILE);
    assert_eq!(
        c.submit(&[("code", &code)]).await,
        "/servicios/vida-laboral"
    );
    assert!(url_of(&c).await.starts_with(&s.demo));
    let html = c.html().await;
    assert!(
        html.contains(&format!("data-acr=\"{SUBSTANTIAL}\"")),
        "{html}"
    );

    goto(&mut c, &format!("{}/servicios/cobro", s.demo)).await;
    assert!(
        url_of(&c).await.starts_with(&s.issuer),
        "{}",
        url_of(&c).await
    );
    let html = c.html().await;
    assert!(
        html.contains("id=\"level-unreachable\""),
        "pasarela should explain how to get the level: {html}"
    );
    assert_eq!(click(&c, "level-back").await, "/oidc/callback");
    assert!(url_of(&c).await.starts_with(&s.demo));
    let html = c.html().await;
    assert!(html.contains("id=\"rechazo\""), "{html}");
    let text = |id: &str| {
        let client = client.clone();
        let id = id.to_owned();
        async move {
            client
                .find(Locator::Id(&id))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(text("nivel-necesario").await.starts_with("alto"));
    assert!(text("nivel-actual").await.starts_with("sustancial"));
    assert_eq!(text("error").await, "unmet_authentication_requirements");
    client.close().await.unwrap();

    // Low with the password alone, then the step-up to substantial asks only the SMS code.
    let client = connect(driver.port).await;
    let mut c = Chromium {
        client: client.clone(),
        base: String::new(),
    };
    goto(&mut c, &format!("{}/", s.demo)).await;
    assert_eq!(click(&c, "entrar-oidc").await, "/login");
    let sent = s.d.sms_to(MOBILE).len();
    assert_eq!(
        c.submit(&[("identifier", ID), ("password", PASSWORD)])
            .await,
        "/"
    );
    assert!(url_of(&c).await.starts_with(&s.demo));
    let html = c.html().await;
    assert!(html.contains(&format!("data-acr=\"{LOW}\"")), "{html}");
    assert_eq!(s.d.sms_to(MOBILE).len(), sent, "no SMS code at low");
    assert_eq!(click(&c, "servicio-vida-laboral").await, "/login/code");
    assert!(url_of(&c).await.starts_with(&s.issuer));
    let code = s.d.last_sms_code(MOBILE);
    assert_eq!(
        c.submit(&[("code", &code)]).await,
        "/servicios/vida-laboral"
    );
    let html = c.html().await;
    assert!(
        html.contains(&format!("data-acr=\"{SUBSTANTIAL}\"")),
        "{html}"
    );
    assert!(html.contains("Días en alta"), "{html}");
    client.close().await.unwrap();
    s.server.shutdown(Duration::from_secs(1)).await.unwrap();
}
