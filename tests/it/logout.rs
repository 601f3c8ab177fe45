//! One logout: however a session ends (the OIDC end-session endpoint, the logout page, SAML
//! single logout, the account's session list, a password reset), its OIDC clients get a
//! back-channel logout token, its SAML SPs are reached (the browser walks through those
//! with a front-channel endpoint when it is there; otherwise SOAP, or an audit record), and
//! a refresh token issued in it is refused with `invalid_grant`.
//!
//! One local mock plays the OIDC client's back-channel endpoint (`/bc`) and one SP's SOAP
//! SingleLogoutService (`/soap`).

use crate::harness::*;
use base64::Engine as _;
use pasarela::core::citizen::Citizen;
use pasarela::core::keys::{JwsAlg, KeyRing, SigningKey};
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::core::session::{SessionCookie, SsoSession};
use pasarela::saml::{binding, xml};
use pasarela::server::Running;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ID: &str = "12345678Z";
const MOBILE: &str = "+34600111222";
const PASSWORD: &str = "Tortuga-Marina-Azul-2031";
const ISSUER: &str = "http://localhost:8080";
const CB: &str = "http://localhost:9999/cb";
const BYE: &str = "http://localhost:9999/bye";
/// An SP with a front-channel SingleLogoutService only.
const SP_FRONT: &str = "https://sp.example.es";
/// An SP with a SOAP SingleLogoutService too.
const SP_SOAP: &str = "https://soap-sp.example.es";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

struct World {
    d: Deployment,
    server: Running,
    mock: MockServer,
    sp_key: Arc<SigningKey>,
    citizen: Citizen,
    secret: String,
    activation_code: String,
}

/// SP metadata for `entity` whose SLO endpoints are HTTP-Redirect and, with `soap`, SOAP.
fn metadata(entity: &str, cert: &str, soap: Option<&str>) -> String {
    let md = sp_metadata(entity, cert);
    match soap {
        Some(location) => md.replace(
            "<md:NameIDFormat>",
            &format!(
                "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:SOAP\" Location=\"{location}\"/><md:NameIDFormat>"
            ),
        ),
        None => md,
    }
}

/// The SOAP answer of the SP: a LogoutResponse with Success.
fn soap_answer() -> String {
    format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>\
         <samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r1\" Version=\"2.0\" IssueInstant=\"{now}\">\
         <samlp:Status><samlp:StatusCode Value=\"{SUCCESS}\"/></samlp:Status></samlp:LogoutResponse>\
         </SOAP-ENV:Body></SOAP-ENV:Envelope>",
        now = xml::instant(chrono::Utc::now()),
    )
}

/// Lucía registered and active, the two SPs and the OIDC client `rp` (back channel on the
/// mock) registered, the server up.
async fn world() -> World {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bc"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/soap"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/xml")
                .set_body_string(soap_answer()),
        )
        .mount(&mock)
        .await;
    let d = journey_deployment("");
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let sp_key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(sp_key.certificate_der());
    let soap = format!("{}/soap", mock.uri());
    for (n, (entity, soap)) in [(SP_FRONT, None), (SP_SOAP, Some(soap.as_str()))]
        .into_iter()
        .enumerate()
    {
        let file = d.dir.path().join(format!("sp{n}.xml"));
        std::fs::write(&file, metadata(entity, &cert, soap)).unwrap();
        let file = file.to_str().unwrap();
        d.cli_ok(&[
            "admin",
            "sp",
            "add",
            "--metadata",
            file,
            "--min-level",
            "low",
        ]);
    }
    let shown = d.cli_json(&["admin", "sp", "show", SP_SOAP]);
    assert!(shown.to_string().contains(&soap), "{shown}");
    let bc = format!("{}/bc", mock.uri());
    let added = d.cli_json(&[
        "admin",
        "client",
        "add",
        "rp",
        "--skip-consent",
        "--redirect-uri",
        CB,
        "--post-logout-redirect-uri",
        BYE,
        "--backchannel-logout-uri",
        &bc,
    ]);
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    let args = register_args(ID);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let activation_code = d.cli_json(&args)["activation_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let server = d.start().await;
    let citizen = activate_registered(&server.state, ID, PASSWORD).await;
    World {
        d,
        server,
        mock,
        sp_key,
        citizen,
        secret,
        activation_code,
    }
}

/// What one session holds: its browser, an ID token and a refresh token of `rp`.
struct Signed {
    browser: Browser,
    session: SsoSession,
    id_token: String,
    refresh_token: String,
}

impl World {
    /// A new browser signed in, served `rp` (a code exchanged for tokens) and both SPs.
    async fn sign_in(&self) -> Signed {
        let state = &self.server.state;
        let (session, cookie) = state
            .engine
            .create_session(
                self.citizen.id,
                &[AuthMethod::Pwd, AuthMethod::Sms],
                LevelOfAssurance::Substantial,
                Some("Test browser".into()),
                None,
                &state.config.sessions,
            )
            .await
            .unwrap();
        let browser = Browser::new(self.server.addr);
        browser.plant(&format!(
            "{}={}",
            SessionCookie::name(false),
            cookie.value()
        ));
        let p = browser
            .get(&format!(
                "/oidc/authorize?client_id=rp&response_type=code&scope=openid&redirect_uri={CB}&state=s"
            ))
            .await;
        let location = p.location.expect("a redirect to the client");
        let code = query_of(&location)["code"].clone();
        let (status, tokens) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
            ])
            .await;
        assert_eq!(status, 200, "{tokens}");
        for sp in [SP_FRONT, SP_SOAP] {
            state
                .engine
                .record_relying_party(&session.id, sp, "saml")
                .await
                .unwrap();
        }
        Signed {
            browser,
            session,
            id_token: tokens["id_token"].as_str().unwrap().to_owned(),
            refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let res = reqwest::Client::new()
            .post(format!("http://{}/oidc/token", self.server.addr))
            .basic_auth("rp", Some(&self.secret))
            .form(form)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    /// Asserts that `s`'s refresh token is refused with `invalid_grant`.
    async fn refresh_refused(&self, s: &Signed) {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", s.refresh_token.as_str()),
        ];
        let (status, body) = self.token(&form).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "invalid_grant");
    }

    /// The `sid` of every logout token the client received so far, each verified.
    async fn logout_token_sids(&self) -> Vec<String> {
        let mut sids = Vec::new();
        for r in self.mock.received_requests().await.unwrap() {
            if r.url.path() != "/bc" {
                continue;
            }
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(&r.body).into_owned().collect();
            let keys = &self.server.state.keys;
            let claims = pasarela::oidc::id_token::verify_own(keys, ISSUER, &form["logout_token"])
                .expect("signed by a published key");
            assert_eq!(claims["aud"], "rp");
            sids.push(claims["sid"].as_str().unwrap().to_owned());
        }
        sids
    }

    /// The SessionIndex of every SOAP LogoutRequest the SP received so far, each checked:
    /// signed by the IdP, from the IdP, to the SOAP endpoint, naming the citizen.
    async fn soap_session_indexes(&self) -> Vec<String> {
        let idp = self.server.state.keys.active(JwsAlg::RS256).unwrap();
        let name_id = self
            .server
            .state
            .engine
            .codes
            .hash(self.citizen.id, "saml-pairwise", SP_SOAP)
            .unwrap();
        let mut indexes = Vec::new();
        for r in self.mock.received_requests().await.unwrap() {
            if r.url.path() != "/soap" {
                continue;
            }
            assert_eq!(r.headers["content-type"], "text/xml; charset=utf-8");
            assert!(r.headers.contains_key("soapaction"));
            let body = String::from_utf8(r.body.clone()).unwrap();
            let start = body.find("<samlp:LogoutRequest").expect("a LogoutRequest");
            let end = body.find("</samlp:LogoutRequest>").unwrap() + 22;
            let request = &body[start..end];
            let id = roxmltree::Document::parse(request)
                .unwrap()
                .root_element()
                .attribute("ID")
                .unwrap()
                .to_owned();
            let signed = xml::verified_root(request, &id, &[idp.certificate_der().to_vec()])
                .expect("signed by the IdP");
            let doc = roxmltree::Document::parse(&signed).unwrap();
            let text = |tag: &str| {
                doc.descendants()
                    .find(|n| n.has_tag_name(tag))
                    .and_then(|n| n.text())
                    .unwrap()
                    .to_owned()
            };
            assert_eq!(text("Issuer"), format!("{ISSUER}/saml/metadata"));
            assert_eq!(text("NameID"), name_id);
            let destination = doc.root_element().attribute("Destination");
            assert_eq!(
                destination,
                Some(format!("{}/soap", self.mock.uri()).as_str())
            );
            indexes.push(text("SessionIndex"));
        }
        indexes
    }

    /// The details of the audit events of `kind` about the citizen.
    async fn audited(&self, kind: &str) -> Vec<Value> {
        let entries = self
            .server
            .state
            .engine
            .store
            .audit_entries(Some(self.citizen.id), 0, 10_000)
            .await
            .unwrap();
        entries
            .into_iter()
            .filter(|e| e.event.kind == kind)
            .map(|e| e.event.detail)
            .collect()
    }

    /// The SPs audited as unreachable without the browser, as (sp, session) pairs.
    async fn unreachable(&self) -> Vec<(String, String)> {
        let details = self.audited("saml.slo_unreachable").await;
        details
            .iter()
            .map(|d| {
                (
                    d["sp"].as_str().unwrap().into(),
                    d["session"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    async fn stop(self) {
        self.server.shutdown(Duration::from_secs(1)).await.unwrap();
    }
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn a_password_reset_tells_every_client_and_sp_of_every_session() {
    let w = world().await;
    let (one, two) = (w.sign_in().await, w.sign_in().await);
    let ids = sorted(vec![one.session.id.to_string(), two.session.id.to_string()]);
    assert!(w.logout_token_sids().await.is_empty());

    // The forgotten-password pages, in a browser with no session.
    let b = Browser::new(w.server.addr);
    b.get("/recover").await;
    let p = b
        .post(
            "/recover",
            &[("identifier", ID), ("code", &w.activation_code)],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/recover/code"), "{}", p.body);
    b.follow(&p).await;
    let sms = w.d.last_sms_code(MOBILE);
    let p = b.post("/recover/code", &[("code", &sms)]).await;
    assert_eq!(
        p.location.as_deref(),
        Some("/recover/password"),
        "{}",
        p.body
    );
    b.follow(&p).await;
    let new = "otono-tranvia-93-cometa";
    let p = b
        .post(
            "/recover/password",
            &[("password", new), ("password_confirm", new)],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/recover/done"), "{}", p.body);

    // Each session once: a logout token to the client, a SOAP LogoutRequest to the SP that
    // has a SOAP endpoint, an audit record for the one reachable only through a browser.
    assert_eq!(sorted(w.logout_token_sids().await), ids);
    assert_eq!(sorted(w.soap_session_indexes().await), ids);
    let soap = w.audited("saml.soap_logout").await;
    assert_eq!(soap.len(), 2);
    for d in &soap {
        assert_eq!((&d["sp"], &d["status"]), (&SP_SOAP.into(), &200.into()));
        assert_eq!(
            (&d["answered"], &d["cause"]),
            (&SUCCESS.into(), &"password_reset".into())
        );
    }
    let unreachable = w.unreachable().await;
    assert_eq!(unreachable.len(), 2);
    assert!(unreachable.iter().all(|(sp, _)| sp == SP_FRONT));
    assert_eq!(
        sorted(unreachable.into_iter().map(|(_, s)| s).collect()),
        ids
    );
    w.refresh_refused(&one).await;
    w.refresh_refused(&two).await;
    w.stop().await;
}

#[tokio::test]
async fn ending_sessions_from_the_account_list_tells_them_too() {
    let w = world().await;
    let this = w.sign_in().await;
    let other = w.sign_in().await;
    let page = this.browser.get("/account/sessions").await;
    assert_eq!(page.status, 200);
    let p = this
        .browser
        .post(
            "/account/sessions/end",
            &[("session", other.session.id.as_str())],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/account/sessions"));
    let id = vec![other.session.id.to_string()];
    assert_eq!(w.logout_token_sids().await, id);
    assert_eq!(w.soap_session_indexes().await, id);
    let unreachable = w.unreachable().await;
    assert_eq!(unreachable, vec![(SP_FRONT.into(), id[0].clone())]);
    w.refresh_refused(&other).await;

    // End all the others: each told once, this one untouched.
    let (third, fourth) = (w.sign_in().await, w.sign_in().await);
    this.browser.get("/account/sessions").await;
    let p = this.browser.post("/account/sessions/end-all", &[]).await;
    assert_eq!(p.location.as_deref(), Some("/account/sessions"));
    let ids = sorted(vec![
        other.session.id.to_string(),
        third.session.id.to_string(),
        fourth.session.id.to_string(),
    ]);
    assert_eq!(sorted(w.logout_token_sids().await), ids);
    assert_eq!(sorted(w.soap_session_indexes().await), ids);
    assert_eq!(w.unreachable().await.len(), 3);
    w.refresh_refused(&third).await;
    w.refresh_refused(&fourth).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", this.refresh_token.as_str()),
    ];
    let (status, body) = w.token(&form).await;
    assert_eq!(status, 200, "this session's grant lives on: {body}");
    w.stop().await;
}

/// The LogoutRequest in a redirect to an SP's SLO endpoint: (SP, ID, RelayState).
fn logout_request_of(location: &str) -> (String, String, String) {
    let (base, query) = location.split_once('?').expect("a query");
    let m = binding::redirect_decode(query, "SAMLRequest", 65_536).unwrap();
    let id = roxmltree::Document::parse(&m.xml)
        .unwrap()
        .root_element()
        .attribute("ID")
        .unwrap()
        .to_owned();
    let sp = base.strip_suffix("/slo").expect("an SP's SLO endpoint");
    (sp.to_owned(), id, m.relay_state.expect("a RelayState"))
}

/// The SP's signed LogoutResponse to `in_response_to`, over HTTP-Redirect.
fn logout_response(w: &World, sp: &str, in_response_to: &str, relay: &str) -> String {
    let xml_text = format!(
        "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
         ID=\"_a{n}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{ISSUER}/saml/slo\" InResponseTo=\"{in_response_to}\">\
         <saml:Issuer>{sp}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"{SUCCESS}\"/></samlp:Status>\
         </samlp:LogoutResponse>",
        n = pasarela::core::random::digits(12).unwrap(),
        now = xml::instant(chrono::Utc::now()),
    );
    binding::redirect_encode("SAMLResponse", &xml_text, Some(relay), &w.sp_key).unwrap()
}

#[tokio::test]
async fn the_oidc_logout_walks_the_browser_through_the_saml_sps_then_back() {
    let w = world().await;
    let s = w.sign_in().await;
    let q = format!(
        "/oidc/logout?id_token_hint={}&post_logout_redirect_uri={BYE}&state=st",
        s.id_token
    );
    let p = s.browser.get(&q).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let start = p.location.clone().unwrap();
    assert!(start.starts_with("/saml/slo/start?chain="), "{start}");
    // The client is told over the back channel at once; no SP is told over SOAP, since
    // the browser visits both; none is recorded unreachable.
    assert_eq!(w.logout_token_sids().await, vec![s.session.id.to_string()]);
    let mut visited = Vec::new();
    let mut p = s.browser.follow(&p).await;
    for _ in 0..2 {
        assert_eq!(p.status, 303, "{}", p.body);
        let (sp, id, relay) = logout_request_of(p.location.as_deref().unwrap());
        let answer = logout_response(&w, &sp, &id, &relay);
        visited.push(sp);
        p = s.browser.get(&format!("/saml/slo?{answer}")).await;
    }
    assert_eq!(
        sorted(visited),
        vec![SP_SOAP.to_owned(), SP_FRONT.to_owned()]
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        p.location.as_deref(),
        Some(format!("{BYE}?state=st").as_str())
    );
    assert!(w.soap_session_indexes().await.is_empty());
    assert!(w.unreachable().await.is_empty());
    // The chain starts once.
    let again = s.browser.get(&start).await;
    assert_eq!(again.location.as_deref(), Some("/logout/done"));
    w.refresh_refused(&s).await;
    w.stop().await;
}

#[tokio::test]
async fn refresh_is_refused_after_the_logout_page_and_saml_single_logout() {
    let w = world().await;
    // The logout page: the browser's chain reaches both SPs, so no SOAP and no record.
    let page_logout = w.sign_in().await;
    assert_eq!(page_logout.browser.get("/logout").await.status, 200);
    let p = page_logout.browser.post("/logout", &[]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    logout_request_of(p.location.as_deref().unwrap());
    assert_eq!(
        w.logout_token_sids().await,
        vec![page_logout.session.id.to_string()]
    );
    w.refresh_refused(&page_logout).await;

    // SAML single logout from the front-channel SP: it is answered, not told; the SOAP SP
    // is visited by the browser before the answer, so it is not told over SOAP either.
    let slo = w.sign_in().await;
    let name_id = w
        .server
        .state
        .engine
        .codes
        .hash(w.citizen.id, "saml-pairwise", SP_FRONT)
        .unwrap();
    let request = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
         ID=\"_slo1\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{ISSUER}/saml/slo\">\
         <saml:Issuer>{SP_FRONT}</saml:Issuer>\
         <saml:NameID Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\">{name_id}</saml:NameID>\
         <samlp:SessionIndex>{si}</samlp:SessionIndex></samlp:LogoutRequest>",
        now = xml::instant(chrono::Utc::now()),
        si = slo.session.id,
    );
    let q = binding::redirect_encode("SAMLRequest", &request, None, &w.sp_key).unwrap();
    let p = slo.browser.get(&format!("/saml/slo?{q}")).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let (sp, _, _) = logout_request_of(p.location.as_deref().unwrap());
    assert_eq!(sp, SP_SOAP, "the other SP, through the browser");
    assert_eq!(
        sorted(w.logout_token_sids().await),
        sorted(vec![
            page_logout.session.id.to_string(),
            slo.session.id.to_string()
        ])
    );
    assert!(w.soap_session_indexes().await.is_empty());
    assert!(w.unreachable().await.is_empty());
    w.refresh_refused(&slo).await;
    w.stop().await;
}

#[tokio::test]
async fn refresh_is_refused_in_an_ended_session_even_if_its_tokens_were_not_revoked() {
    let w = world().await;
    let s = w.sign_in().await;
    // The session ends in the store behind the engine's back, as if the revocation had
    // failed: the refresh grant still sees the session is over.
    let store = &w.server.state.engine.store;
    assert!(
        store
            .end_session(&s.session.id, chrono::Utc::now())
            .await
            .unwrap()
    );
    let hash = hex::encode(openssl::sha::sha256(s.refresh_token.as_bytes()));
    let record = store.token(&hash).await.unwrap().expect("stored");
    assert!(record.revoked_at.is_none(), "not revoked");
    w.refresh_refused(&s).await;
    // A live session's grant is not affected.
    let live = w.sign_in().await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", live.refresh_token.as_str()),
    ];
    assert_eq!(w.token(&form).await.0, 200);
    w.stop().await;
}
