//! The SAML 2.0 IdP against the running server: metadata, SSO over both bindings with crafted
//! AuthnRequests signed by a test SP key, and refused fixtures each paired with an accepted
//! one that differs only by the defect. Signatures of answers are checked with Debian's
//! `xmlsec1` when it is installed.

use crate::support::*;
use base64::Engine as _;
use pasarela::core::engine::Actor;
use pasarela::core::keys::{JwsAlg, KeyRing, SigningKey};
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::core::session::{SessionCookie, SsoSession};
use pasarela::saml::{binding, xml};
use pasarela::server::Running;
use std::sync::Arc;

const SP: &str = "https://sp.example.es";
const DEST: &str = "http://localhost:8080/saml/sso";

struct Fixture {
    d: Deployment,
    server: Running,
    sp_key: Arc<SigningKey>,
    citizen: pasarela::core::citizen::Citizen,
    client: reqwest::Client,
}

/// A deployment with one SP (test key), Lucía registered and active, and the server up.
async fn fixture() -> Fixture {
    fixture_with(&[]).await
}

/// Like [`fixture`], with more `admin sp add` options.
async fn fixture_with(sp_options: &[&str]) -> Fixture {
    fixture_config("", sp_options).await
}

/// Like [`fixture_with`], with `extra` configuration.
async fn fixture_config(extra: &str, sp_options: &[&str]) -> Fixture {
    let d = journey_deployment(extra);
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let sp_key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(sp_key.certificate_der());
    let md = d.dir.path().join("sp.xml");
    std::fs::write(&md, sp_metadata(SP, &cert)).unwrap();
    let mut add = vec![
        "admin",
        "sp",
        "add",
        "--metadata",
        md.to_str().unwrap(),
        "--min-level",
        "low",
    ];
    add.extend_from_slice(sp_options);
    d.cli_ok(&add);
    let args = register_args("12345678Z");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.cli_ok(&args);
    let server = d.start().await;
    let state = server.state.clone();
    let citizen = activate_registered(&state, "12345678Z", "Marmota-Azul-2024!").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Fixture {
        d,
        server,
        sp_key,
        citizen,
        client,
    }
}

impl Fixture {
    fn base(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// A live session with password + SMS (substantial) and its cookie header.
    async fn session(
        &self,
        methods: &[AuthMethod],
        level: LevelOfAssurance,
    ) -> (SsoSession, String) {
        let state = &self.server.state;
        let (s, c) = state
            .engine
            .create_session(
                self.citizen.id,
                methods,
                level,
                None,
                None,
                &state.config.sessions,
            )
            .await
            .unwrap();
        let cookie = format!("{}={}", SessionCookie::name(false), c.value());
        (s, cookie)
    }

    async fn post_sso(&self, xml_text: &str, relay: Option<&str>, cookie: Option<&str>) -> Page {
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml_text);
        let mut form = vec![("SAMLRequest", b64.as_str())];
        if let Some(r) = relay {
            form.push(("RelayState", r));
        }
        let mut req = self
            .client
            .post(format!("{}/saml/sso", self.base()))
            .form(&form);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        page(req.send().await.unwrap()).await
    }

    async fn get(&self, path_and_query: &str, cookie: Option<&str>) -> Page {
        let mut req = self.client.get(format!("{}{path_and_query}", self.base()));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        page(req.send().await.unwrap()).await
    }

    fn redirect_query(&self, xml_text: &str, relay: Option<&str>) -> String {
        binding::redirect_encode("SAMLRequest", xml_text, relay, &self.sp_key).unwrap()
    }

    fn signed(&self, xml_text: &str) -> String {
        xml::sign(xml_text, &self.sp_key).unwrap()
    }

    fn idp_cert_pem(&self) -> String {
        let key = self.server.state.keys.active(JwsAlg::RS256).unwrap();
        key.certificate_pem().unwrap()
    }
}

async fn page(res: reqwest::Response) -> Page {
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    Page {
        status,
        location,
        body: res.text().await.unwrap(),
    }
}

/// Request options that make the fixtures differ by one defect at a time.
struct Req<'a> {
    id: String,
    destination: &'a str,
    acs: Option<&'a str>,
    acs_index: Option<u16>,
    context: Option<(&'a str, &'a str)>,
    passive: bool,
    force: bool,
    signature: bool,
}

impl<'a> Req<'a> {
    fn new() -> Self {
        Self {
            id: format!("_{}", pasarela::core::random::digits(20).unwrap()),
            destination: DEST,
            acs: Some("https://sp.example.es/acs"),
            acs_index: None,
            context: Some(("minimum", "substantial")),
            passive: false,
            force: false,
            signature: false,
        }
    }

    /// The AuthnRequest XML; with `signature`, carrying the template for `key`.
    fn xml(&self, key: &SigningKey) -> String {
        let acs = self
            .acs
            .map(|a| format!(" AssertionConsumerServiceURL=\"{a}\""))
            .unwrap_or_default();
        let index = self
            .acs_index
            .map(|i| format!(" AssertionConsumerServiceIndex=\"{i}\""))
            .unwrap_or_default();
        let ctx = self
            .context
            .map(|(cmp, level)| {
                format!(
                    "<samlp:RequestedAuthnContext Comparison=\"{cmp}\"><saml:AuthnContextClassRef>http://eidas.europa.eu/LoA/{level}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"
                )
            })
            .unwrap_or_default();
        let sig = if self.signature {
            xml::signature_template(&self.id, key)
        } else {
            String::new()
        };
        format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" xmlns:eidas=\"http://eidas.europa.eu/saml-extensions\" \
             ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{dest}\"{acs}{index} \
             ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" IsPassive=\"{passive}\" ForceAuthn=\"{force}\">\
             <saml:Issuer>{SP}</saml:Issuer>{sig}\
             <samlp:Extensions><eidas:SPType>public</eidas:SPType><eidas:RequestedAttributes>\
             <eidas:RequestedAttribute Name=\"http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier\" isRequired=\"true\"/>\
             <eidas:RequestedAttribute Name=\"http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName\" isRequired=\"true\"/>\
             <eidas:RequestedAttribute Name=\"http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName\" isRequired=\"true\"/>\
             <eidas:RequestedAttribute Name=\"http://eidas.europa.eu/attributes/naturalperson/DateOfBirth\" isRequired=\"true\"/>\
             </eidas:RequestedAttributes></samlp:Extensions>\
             <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" AllowCreate=\"true\"/>{ctx}\
             </samlp:AuthnRequest>",
            id = self.id,
            now = xml::instant(chrono::Utc::now()),
            dest = self.destination,
            passive = self.passive,
            force = self.force,
        )
    }
}

/// The Response posted back in `page`'s form, decoded, and its RelayState.
fn answer(page: &Page) -> (String, Option<String>) {
    assert_eq!(page.status, 200, "{}", page.body);
    let b64 = hidden_value(&page.body, "SAMLResponse").expect("a SAMLResponse form");
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap();
    (
        xml,
        hidden_value(&page.body, "RelayState").map(|r| html_unescape(&r)),
    )
}

fn status_of(xml_text: &str) -> String {
    let doc = roxmltree::Document::parse(xml_text).unwrap();
    doc.descendants()
        .rfind(|n| n.has_tag_name("StatusCode"))
        .and_then(|n| n.attribute("Value"))
        .unwrap()
        .to_owned()
}

fn have_xmlsec1() -> bool {
    std::process::Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `xmlsec1 --verify` of the signature under `node` (an XPath) with `cert_pem`.
fn xmlsec1_verify(
    dir: &std::path::Path,
    xml_text: &str,
    cert_pem: &str,
    id_attr: &str,
    node: &str,
) {
    let doc = dir.join("doc.xml");
    let cert = dir.join("idp.pem");
    std::fs::write(&doc, xml_text).unwrap();
    std::fs::write(&cert, cert_pem).unwrap();
    let out = std::process::Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem"])
        .arg(&cert)
        .args(["--id-attr:ID", id_attr])
        .args(["--node-xpath", node])
        .arg(&doc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmlsec1 refused the signature at {node}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn saml_metadata_is_signed_and_complete() {
    let f = fixture().await;
    let p = f.get("/saml/metadata", None).await;
    assert_eq!(p.status, 200);
    let md = &p.body;
    for needle in [
        "entityID=\"http://localhost:8080/saml/metadata\"",
        "WantAuthnRequestsSigned=\"true\"",
        "validUntil=",
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"http://localhost:8080/saml/sso\"",
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"http://localhost:8080/saml/sso\"",
        "SingleLogoutService",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "<ds:X509Certificate>",
    ] {
        assert!(md.contains(needle), "metadata lacks {needle}: {md}");
    }
    // Every published key (active and next during rotation) is listed.
    let published = f.server.state.keys.published().len();
    assert_eq!(md.matches("<md:KeyDescriptor").count(), published);
    if have_xmlsec1() {
        xmlsec1_verify(
            f.d.dir.path(),
            md,
            &f.idp_cert_pem(),
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
            "/*/*[local-name()='Signature']",
        );
    }
}

/// Checks a successful Response: both signatures (xmlsec1), session index, level, attributes.
fn check_success(f: &Fixture, xml_text: &str, req_id: &str, session: &SsoSession, level: &str) {
    assert_eq!(
        status_of(xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:Success",
        "{xml_text}"
    );
    let doc = roxmltree::Document::parse(xml_text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("InResponseTo"), Some(req_id));
    assert_eq!(
        root.attribute("Destination"),
        Some("https://sp.example.es/acs")
    );
    let find = |name: &str| doc.descendants().find(|n| n.has_tag_name(name)).unwrap();
    assert_eq!(
        find("AuthnStatement").attribute("SessionIndex"),
        Some(session.id.as_str())
    );
    assert_eq!(
        find("AuthnContextClassRef").text(),
        Some(format!("http://eidas.europa.eu/LoA/{level}").as_str())
    );
    assert_eq!(find("Audience").text(), Some(SP));
    assert_eq!(
        find("SubjectConfirmationData").attribute("InResponseTo"),
        Some(req_id)
    );
    assert_eq!(
        find("NameID").attribute("Format"),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    );
    let value = |friendly: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("Attribute") && n.attribute("FriendlyName") == Some(friendly))
            .and_then(|a| a.descendants().find(|n| n.has_tag_name("AttributeValue")))
            .and_then(|v| v.text())
            .map(str::to_owned)
    };
    assert_eq!(
        value("PersonIdentifier").as_deref(),
        Some("ES/ES/12345678Z")
    );
    assert_eq!(value("CurrentGivenName").as_deref(), Some("Lucía"));
    assert_eq!(value("CurrentFamilyName").as_deref(), Some("García Pérez"));
    assert_eq!(value("DateOfBirth").as_deref(), Some("1980-02-29"));
    let sigs = doc
        .descendants()
        .filter(|n| n.has_tag_name(("http://www.w3.org/2000/09/xmldsig#", "Signature")))
        .count();
    assert_eq!(sigs, 2, "Response and Assertion are both signed");
    assert!(xml_text.contains("http://www.w3.org/2001/04/xmlenc#sha256"));
    assert!(!xml_text.contains("xmldsig#sha1"));
    if have_xmlsec1() {
        let pem = f.idp_cert_pem();
        xmlsec1_verify(
            f.d.dir.path(),
            xml_text,
            &pem,
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "/*/*[local-name()='Signature']",
        );
        xmlsec1_verify(
            f.d.dir.path(),
            xml_text,
            &pem,
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "//*[local-name()='Assertion']/*[local-name()='Signature']",
        );
    }
}

#[tokio::test]
async fn saml_sso_over_post_answers_a_signed_response_and_echoes_relay_state() {
    let f = fixture().await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let mut r = Req::new();
    r.signature = true;
    let relay = "a ~*b &\"<x>' %41+";
    let p = f
        .post_sso(&f.signed(&r.xml(&f.sp_key)), Some(relay), Some(&cookie))
        .await;
    let (xml_text, echoed) = answer(&p);
    assert_eq!(echoed.as_deref(), Some(relay));
    check_success(&f, &xml_text, &r.id, &session, "substantial");
    let csp = p.body.contains("<button type=\"submit\"");
    assert!(csp, "the form works without JavaScript");
}

#[tokio::test]
async fn saml_sso_over_redirect_answers_a_signed_response_and_echoes_relay_state() {
    let f = fixture().await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let r = Req::new();
    let relay = "ruta ~ con *estrellas* y espacios";
    let q = f.redirect_query(&r.xml(&f.sp_key), Some(relay));
    let p = f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await;
    let (xml_text, echoed) = answer(&p);
    assert_eq!(echoed.as_deref(), Some(relay));
    check_success(&f, &xml_text, &r.id, &session, "substantial");
    // The same request with the RelayState percent-encoded differently (%20 instead of +) is
    // other bytes than the ones signed: refused.
    let r2 = Req::new();
    let q = f
        .redirect_query(&r2.xml(&f.sp_key), Some(relay))
        .replace('+', "%20");
    assert_eq!(
        f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
        400
    );
}

#[tokio::test]
async fn saml_unsigned_requests_are_refused() {
    let f = fixture().await;
    let (_, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    // Redirect: the same request without SigAlg/Signature.
    let r = Req::new();
    let signed_q = f.redirect_query(&r.xml(&f.sp_key), None);
    let unsigned_q = signed_q.split("&SigAlg=").next().unwrap().to_owned();
    assert_eq!(
        f.get(&format!("/saml/sso?{unsigned_q}"), Some(&cookie))
            .await
            .status,
        400
    );
    assert_eq!(
        f.get(&format!("/saml/sso?{signed_q}"), Some(&cookie))
            .await
            .status,
        200
    );
    // POST: the same request without its enveloped signature.
    let mut r = Req::new();
    assert_eq!(
        f.post_sso(&r.xml(&f.sp_key), None, Some(&cookie))
            .await
            .status,
        400
    );
    r.signature = true;
    assert_eq!(
        f.post_sso(&f.signed(&r.xml(&f.sp_key)), None, Some(&cookie))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn saml_wrong_destination_wrong_acs_and_replays_are_refused() {
    let f = fixture().await;
    let (_, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let send = |r: &Req| f.redirect_query(&r.xml(&f.sp_key), None);
    // Destination.
    let mut r = Req::new();
    r.destination = "http://localhost:8080/saml/other";
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        400
    );
    r.destination = DEST;
    r.id = Req::new().id;
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        200
    );
    // ACS URL not in the metadata vs. the second registered one.
    let mut r = Req::new();
    r.acs = Some("https://evil.example/acs");
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        400
    );
    r.acs = Some("https://sp.example.es/acs2");
    r.id = Req::new().id;
    let p = f
        .get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
        .await;
    assert!(p.body.contains("action=\"https://sp.example.es/acs2\""));
    // ACS index: 1 is registered, 7 is not.
    let mut r = Req::new();
    r.acs = None;
    r.acs_index = Some(7);
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        400
    );
    r.acs_index = Some(1);
    r.id = Req::new().id;
    let p = f
        .get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
        .await;
    assert!(p.body.contains("action=\"https://sp.example.es/acs2\""));
    // Replay: the very same signed request twice.
    let q = send(&Req::new());
    assert_eq!(
        f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
        200
    );
    assert_eq!(
        f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
        400
    );
}

#[tokio::test]
async fn saml_a_wrapped_request_is_refused() {
    let f = fixture().await;
    let (_, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let mut inner = Req::new();
    inner.signature = true;
    let signed = f.signed(&inner.xml(&f.sp_key));
    // The signed request hidden inside an unsigned one with another ID and ACS.
    let mut outer = Req::new();
    outer.acs = Some("https://sp.example.es/acs2");
    let wrapper = outer.xml(&f.sp_key).replacen(
        "<samlp:Extensions>",
        &format!("<samlp:Extensions>{signed}"),
        1,
    );
    assert_eq!(f.post_sso(&wrapper, None, Some(&cookie)).await.status, 400);
    assert_eq!(f.post_sso(&signed, None, Some(&cookie)).await.status, 200);
}

#[tokio::test]
async fn saml_high_from_a_password_and_sms_session_is_no_authn_context() {
    let f = fixture().await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let mut r = Req::new();
    r.context = Some(("minimum", "high"));
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
    );
    assert!(!xml_text.contains("Assertion"));
    let mut r = Req::new();
    r.context = Some(("minimum", "substantial"));
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    check_success(&f, &xml_text, &r.id, &session, "substantial");
    // exact low does not accept a substantial session, maximum substantial does.
    let mut r = Req::new();
    r.context = Some(("maximum", "substantial"));
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
}

#[tokio::test]
async fn saml_without_a_session_passive_is_no_passive_and_otherwise_login_then_resume() {
    let f = fixture().await;
    let mut r = Req::new();
    r.passive = true;
    let q = f.redirect_query(&r.xml(&f.sp_key), Some("rs"));
    let (xml_text, relay) = answer(&f.get(&format!("/saml/sso?{q}"), None).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
    );
    assert_eq!(relay.as_deref(), Some("rs"));

    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), Some("rs"));
    let p = f.get(&format!("/saml/sso?{q}"), None).await;
    assert_eq!(p.status, 303);
    let to = p.location.unwrap();
    assert!(
        to.starts_with("/login?continue=%2Fsaml%2Fsso%2Fresume%3Fid%3D"),
        "{to}"
    );
    assert!(to.ends_with("&acr=substantial"), "{to}");
    let resume = url::form_urlencoded::parse(to.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "continue")
        .unwrap()
        .1
        .into_owned();
    // The citizen logs in (here: a session made directly) and comes back.
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Otp],
            LevelOfAssurance::Substantial,
        )
        .await;
    let (xml_text, relay) = answer(&f.get(&resume, Some(&cookie)).await);
    check_success(&f, &xml_text, &r.id, &session, "substantial");
    assert_eq!(relay.as_deref(), Some("rs"));
    // The pending request is used once.
    assert_eq!(f.get(&resume, Some(&cookie)).await.status, 400);
}

#[tokio::test]
async fn saml_force_authn_sends_a_signed_in_citizen_to_log_in_again() {
    let f = fixture().await;
    let (_, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let mut r = Req::new();
    r.force = true;
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let p = f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303);
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    assert_eq!(
        f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
        200
    );
}

#[tokio::test]
async fn saml_dtds_and_deflate_bombs_are_refused() {
    let f = fixture().await;
    let mut r = Req::new();
    r.signature = true;
    let signed = f.signed(&r.xml(&f.sp_key));
    let with_dtd = format!("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{signed}");
    assert_eq!(f.post_sso(&with_dtd, None, None).await.status, 400);
    let bomb = format!("<a>{}</a>", " ".repeat(5_000_000));
    let q = binding::redirect_encode("SAMLRequest", &bomb, None, &f.sp_key).unwrap();
    assert_eq!(f.get(&format!("/saml/sso?{q}"), None).await.status, 400);
}

#[tokio::test]
async fn saml_sp_commands_register_list_show_and_remove() {
    let d = Deployment::new("");
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
    let md = d.dir.path().join("sp.xml");
    std::fs::write(&md, sp_metadata(SP, &cert)).unwrap();
    let added = d.cli_json(&[
        "admin",
        "sp",
        "add",
        "--metadata",
        md.to_str().unwrap(),
        "--min-level",
        "high",
        "--encrypt",
        "--sp-type",
        "private",
    ]);
    assert_eq!(added["entity_id"], SP);
    assert_eq!(added["min_level"], "high");
    assert_eq!(added["sp_type"], "private");
    assert_eq!(added["encrypt_assertions"], true);
    assert_eq!(added["acs"].as_array().unwrap().len(), 2);
    let list = d.cli_json(&["admin", "sp", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let shown = d.cli_json(&["admin", "sp", "show", SP]);
    assert_eq!(shown["acs"][1]["location"], "https://sp.example.es/acs2");
    d.cli_json(&["admin", "sp", "remove", SP]);
    assert!(!d.cli(&["admin", "sp", "show", SP]).status.success());
    assert_eq!(
        d.cli_json(&["admin", "sp", "list"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// A LogoutRequest from the SP for `name_id` and `session_index`.
fn logout_request(id: &str, name_id: &str, session_index: &str) -> String {
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
         ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"http://localhost:8080/saml/slo\">\
         <saml:Issuer>{SP}</saml:Issuer>\
         <saml:NameID Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\">{name_id}</saml:NameID>\
         <samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>",
        now = xml::instant(chrono::Utc::now()),
    )
}

#[tokio::test]
async fn saml_sp_initiated_logout_ends_the_session_and_answers_signed() {
    let f = fixture().await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    let doc = roxmltree::Document::parse(&xml_text).unwrap();
    let name_id = doc
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();

    // Unsigned: refused, and the session lives on.
    let unsigned = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo1", &name_id, session.id.as_str()),
        Some("back"),
        &f.sp_key,
    )
    .unwrap();
    let unsigned = unsigned.split("&SigAlg=").next().unwrap();
    assert_eq!(
        f.get(&format!("/saml/slo?{unsigned}"), Some(&cookie))
            .await
            .status,
        400
    );
    // Another citizen's NameID: nothing ends.
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo2", "someone-else", session.id.as_str()),
        None,
        &f.sp_key,
    )
    .unwrap();
    assert_eq!(
        f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await.status,
        303
    );
    let engine = &f.server.state.engine;
    let live = engine.store.session(&session.id).await.unwrap().unwrap();
    assert!(live.ended_at.is_none());

    // Signed, right NameID and SessionIndex: the session ends, a signed LogoutResponse goes
    // back over Redirect with the RelayState, and the browser's cookie is cleared.
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo3", &name_id, session.id.as_str()),
        Some("back"),
        &f.sp_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, "https://sp.example.es/slo");
    let m = binding::redirect_decode(query, "SAMLResponse", 65_536).unwrap();
    assert_eq!(m.relay_state.as_deref(), Some("back"));
    let (alg, sig, signed) = m.signature.unwrap();
    let idp = f.server.state.keys.active(JwsAlg::RS256).unwrap();
    binding::verify_redirect(&alg, &sig, &signed, &[idp.certificate_der().to_vec()]).unwrap();
    assert!(m.xml.contains("InResponseTo=\"_lo3\""));
    assert_eq!(
        status_of(&m.xml),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    let ended = engine.store.session(&session.id).await.unwrap().unwrap();
    assert!(ended.ended_at.is_some());
    // Replayed: refused.
    assert_eq!(
        f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await.status,
        400
    );
}

/// Runs xmlsec1 with `args` and the document `xml_text`; returns stdout.
fn xmlsec1(dir: &std::path::Path, args: &[&str], xml_text: &str) -> String {
    let doc = dir.join("in.xml");
    std::fs::write(&doc, xml_text).unwrap();
    let out = std::process::Command::new("xmlsec1")
        .args(args)
        .arg(&doc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmlsec1 {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn saml_encrypted_assertions_open_with_the_sp_key_and_keep_their_signature() {
    let f = fixture_with(&["--encrypt"]).await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    assert!(xml_text.contains("EncryptedAssertion"));
    assert!(!xml_text.contains("12345678Z") && !xml_text.contains("AuthnStatement"));
    if !have_xmlsec1() {
        return;
    }
    let dir = f.d.dir.path();
    xmlsec1_verify(
        dir,
        &xml_text,
        &f.idp_cert_pem(),
        "urn:oasis:names:tc:SAML:2.0:protocol:Response",
        "/*/*[local-name()='Signature']",
    );
    let sp_pem = dir.join("sp.key");
    let pem = f.sp_key.pkey().private_key_to_pem_pkcs8().unwrap();
    std::fs::write(&sp_pem, pem).unwrap();
    let decrypted = xmlsec1(
        dir,
        &["--decrypt", "--privkey-pem", sp_pem.to_str().unwrap()],
        &xml_text,
    );
    assert!(decrypted.contains(&format!("SessionIndex=\"{}\"", session.id.as_str())));
    assert!(decrypted.contains("ES/ES/12345678Z"));
    xmlsec1_verify(
        dir,
        &decrypted,
        &f.idp_cert_pem(),
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        "//*[local-name()='Assertion']/*[local-name()='Signature']",
    );
}

#[tokio::test]
async fn saml_an_sp_may_get_ecdsa_signatures() {
    let f = fixture_with(&["--sign-with-ec"]).await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    assert!(xml_text.contains("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"));
    assert!(!xml_text.contains("rsa-sha256"));
    if have_xmlsec1() {
        let ec = f.server.state.keys.active(JwsAlg::ES256).unwrap();
        let pem = ec.certificate_pem().unwrap();
        let dir = f.d.dir.path();
        xmlsec1_verify(
            dir,
            &xml_text,
            &pem,
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "/*/*[local-name()='Signature']",
        );
        xmlsec1_verify(
            dir,
            &xml_text,
            &pem,
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "//*[local-name()='Assertion']/*[local-name()='Signature']",
        );
    }
    assert!(xml_text.contains(session.id.as_str()));
}

#[tokio::test]
async fn saml_comments_in_signed_values_and_duplicate_ids_are_refused() {
    let f = fixture().await;
    let (_, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    // A comment inside the signed Issuer (the signature, over exclusive c14n without
    // comments, still verifies): refused; the same request without it: accepted.
    let mut r = Req::new();
    r.signature = true;
    let commented = r.xml(&f.sp_key).replace(
        "<saml:Issuer>https://sp.example.es</saml:Issuer>",
        "<saml:Issuer>https://sp.example.es<!-- x --></saml:Issuer>",
    );
    assert_eq!(
        f.post_sso(&f.signed(&commented), None, Some(&cookie))
            .await
            .status,
        400
    );
    let mut r = Req::new();
    r.signature = true;
    assert_eq!(
        f.post_sso(&f.signed(&r.xml(&f.sp_key)), None, Some(&cookie))
            .await
            .status,
        200
    );
    // A second element carrying the request's ID: refused; another ID: accepted.
    for (dup, status) in [(true, 400), (false, 200)] {
        let mut r = Req::new();
        r.signature = true;
        let other = if dup {
            r.id.clone()
        } else {
            format!("{}x", r.id)
        };
        let x = r.xml(&f.sp_key).replace(
            "<eidas:SPType>",
            &format!("<eidas:Other xmlns:eidas=\"http://eidas.europa.eu/saml-extensions\" ID=\"{other}\"/><eidas:SPType>"),
        );
        // Signed as it is: the signature covers the duplicate too.
        let signed = f.signed(&x);
        assert_eq!(
            f.post_sso(&signed, None, Some(&cookie)).await.status,
            status,
            "dup={dup}"
        );
    }
}

#[tokio::test]
async fn saml_logout_is_propagated_to_the_other_sps_of_the_session() {
    let f = fixture().await;
    // A second SP with its own key.
    const SP2: &str = "https://sp2.example.es";
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let sp2_key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(sp2_key.certificate_der());
    let md = f.d.dir.path().join("sp2.xml");
    std::fs::write(&md, sp_metadata(SP2, &cert)).unwrap();
    f.d.cli_ok(&[
        "admin",
        "sp",
        "add",
        "--metadata",
        md.to_str().unwrap(),
        "--min-level",
        "low",
    ]);

    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    // SSO to both SPs in the same session.
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml1, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    let r2 = Req::new();
    let x2 = r2
        .xml(&sp2_key)
        .replace(
            "<saml:Issuer>https://sp.example.es</saml:Issuer>",
            &format!("<saml:Issuer>{SP2}</saml:Issuer>"),
        )
        .replace("https://sp.example.es/acs", &format!("{SP2}/acs"));
    let q2 = binding::redirect_encode("SAMLRequest", &x2, None, &sp2_key).unwrap();
    answer(&f.get(&format!("/saml/sso?{q2}"), Some(&cookie)).await);
    let name_id = roxmltree::Document::parse(&xml1)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();

    // SP 1 logs out: the browser is sent to SP 2 with a signed LogoutRequest.
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo9", &name_id, session.id.as_str()),
        Some("sp1-state"),
        &f.sp_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, format!("{SP2}/slo"));
    let m = binding::redirect_decode(query, "SAMLRequest", 65_536).unwrap();
    let (alg, sig, signed) = m.signature.unwrap();
    let idp = f.server.state.keys.active(JwsAlg::RS256).unwrap();
    binding::verify_redirect(&alg, &sig, &signed, &[idp.certificate_der().to_vec()]).unwrap();
    assert!(m.xml.contains(&format!(
        "<samlp:SessionIndex>{}</samlp:SessionIndex>",
        session.id.as_str()
    )));
    let request_id = roxmltree::Document::parse(&m.xml)
        .unwrap()
        .root_element()
        .attribute("ID")
        .unwrap()
        .to_owned();
    let relay = m.relay_state.unwrap();
    let ended = f
        .server
        .state
        .engine
        .store
        .session(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert!(ended.ended_at.is_some());

    // SP 2 answers; a LogoutResponse for another request is refused first.
    let logout_response = |irt: &str, id: &str| {
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
             ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"http://localhost:8080/saml/slo\" InResponseTo=\"{irt}\">\
             <saml:Issuer>{SP2}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
             </samlp:LogoutResponse>",
            now = xml::instant(chrono::Utc::now()),
        )
    };
    let wrong = binding::redirect_encode(
        "SAMLResponse",
        &logout_response("_other", "_r1"),
        Some(&relay),
        &sp2_key,
    )
    .unwrap();
    assert_eq!(f.get(&format!("/saml/slo?{wrong}"), None).await.status, 400);
    let right = binding::redirect_encode(
        "SAMLResponse",
        &logout_response(&request_id, "_r2"),
        Some(&relay),
        &sp2_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{right}"), None).await;
    // Then SP 1 gets its LogoutResponse, with its RelayState.
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, "https://sp.example.es/slo");
    let m = binding::redirect_decode(query, "SAMLResponse", 65_536).unwrap();
    assert!(m.xml.contains("InResponseTo=\"_lo9\""));
    assert_eq!(m.relay_state.as_deref(), Some("sp1-state"));
}

#[tokio::test]
async fn saml_an_sp_type_other_than_the_registered_one_is_refused() {
    let f = fixture().await;
    let (_, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    for (sp_type, status) in [("private", 400), ("public", 200)] {
        let r = Req::new();
        let x = r.xml(&f.sp_key).replace(
            "<eidas:SPType>public</eidas:SPType>",
            &format!("<eidas:SPType>{sp_type}</eidas:SPType>"),
        );
        let q = f.redirect_query(&x, None);
        assert_eq!(
            f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
            status
        );
    }
}

#[tokio::test]
async fn saml_logout_over_post_needs_the_enveloped_signature() {
    let f = fixture().await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml1, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    let name_id = roxmltree::Document::parse(&xml1)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();
    let post = |xml_text: String| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml_text);
        f.client
            .post(format!("{}/saml/slo", f.base()))
            .header("cookie", cookie.clone())
            .form(&[("SAMLRequest", b64.as_str()), ("RelayState", "r")])
            .send()
    };
    let with_template = |id: &str| {
        logout_request(id, &name_id, session.id.as_str()).replace(
            "<saml:NameID",
            &format!("{}<saml:NameID", xml::signature_template(id, &f.sp_key)),
        )
    };
    // Unsigned: refused, the session lives on.
    let res = post(logout_request("_lp1", &name_id, session.id.as_str()))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let engine = &f.server.state.engine;
    assert!(
        engine
            .store
            .session(&session.id)
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_none()
    );
    // Signed: the session ends and the answer goes to the SP's (Redirect) SLO endpoint.
    let res = post(f.signed(&with_template("_lp2"))).await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("https://sp.example.es/slo?SAMLResponse="),
        "{to}"
    );
    assert!(
        engine
            .store
            .session(&session.id)
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_some()
    );
}

/// `r`'s request with Cl@ve requested attributes added to its eIDAS RequestedAttributes.
fn with_clave(xml_text: &str, attributes: &str) -> String {
    xml_text.replace(
        "</eidas:RequestedAttributes>",
        &format!("{attributes}</eidas:RequestedAttributes>"),
    )
}

fn excluded(idp: &str) -> String {
    format!(
        "<eidas:RequestedAttribute Name=\"http://es.minhafp.clave/{idp}\" isRequired=\"false\"/>"
    )
}

fn top_status_of(xml_text: &str) -> String {
    let doc = roxmltree::Document::parse(xml_text).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name("StatusCode"))
        .and_then(|n| n.attribute("Value"))
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn saml_clave_excluded_idps_restrict_the_login_methods() {
    let f = fixture().await;
    let (_, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    // Excluding IdPs that stand for no pasarela method changes nothing: the password + SMS
    // session answers at once, and the Cl@ve RelayState attribute is echoed.
    let r = Req::new();
    let x = with_clave(
        &r.xml(&f.sp_key),
        &format!(
            "{}{}<eidas:RequestedAttribute Name=\"http://es.minhafp.clave/RelayState\" isRequired=\"false\"><eidas:AttributeValue>sede~7</eidas:AttributeValue></eidas:RequestedAttribute>",
            excluded("AEATIdP"),
            excluded("EIDASIdP")
        ),
    );
    let q = f.redirect_query(&x, None);
    let (xml_text, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    assert!(
        xml_text.contains("Name=\"http://es.minhafp.clave/RelayState\""),
        "{xml_text}"
    );
    assert!(
        xml_text.contains(">sede~7</saml:AttributeValue>"),
        "{xml_text}"
    );

    // Excluding GISSIdP (Cl@ve permanente = password + SMS): the SMS session does not count,
    // the citizen is sent to log in with the authenticator app only.
    let r = Req::new();
    let q = f.redirect_query(&with_clave(&r.xml(&f.sp_key), &excluded("GISSIdP")), None);
    let p = f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.unwrap();
    assert!(to.starts_with("/login?continue="), "{to}");
    assert!(to.ends_with("&methods=otp,hwk"), "{to}");
    // Lucía has no authenticator app: the login cannot go on, and no SMS is sent.
    let b = Browser::new(f.server.addr);
    assert_eq!(b.get(&to).await.status, 200);
    let sent = f.d.sms_to("+34600111222").len();
    let p = b
        .post(
            "/login",
            &[
                ("identifier", "12345678Z"),
                ("password", "Marmota-Azul-2024!"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("role=\"alert\""), "{}", p.body);
    assert_eq!(f.d.sms_to("+34600111222").len(), sent);
    // Paired: the same login without the restriction goes on to the SMS code.
    let b = Browser::new(f.server.addr);
    let plain = to.replace("&methods=otp,hwk", "");
    assert_eq!(b.get(&plain).await.status, 200);
    let p = b
        .post(
            "/login",
            &[
                ("identifier", "12345678Z"),
                ("password", "Marmota-Azul-2024!"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/login/code"), "{}", p.body);
    assert_eq!(f.d.sms_to("+34600111222").len(), sent + 1);

    // Excluding GISSIdP and CLVMOVILIdP leaves no method reaching any level: a SAML error,
    // never a login.
    let r = Req::new();
    let x = with_clave(
        &r.xml(&f.sp_key),
        &format!("{}{}", excluded("GISSIdP"), excluded("CLVMOVILIdP")),
    );
    let q = f.redirect_query(&x, Some("rs"));
    let (xml_text, relay) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    assert_eq!(
        top_status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:Responder"
    );
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
    );
    assert_eq!(relay.as_deref(), Some("rs"));
}

#[tokio::test]
async fn saml_logout_from_pasarela_reaches_every_sp_and_ends_on_the_logged_out_page() {
    let f = fixture().await;
    let b = Browser::new(f.server.addr);
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let first = b.get(&format!("/saml/sso?{q}")).await;
    let resumed = log_in_through_pages(&f.d, &b, &first, "Marmota-Azul-2024!").await;
    let (xml1, _) = answer(&resumed);
    assert_eq!(
        status_of(&xml1),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    let doc = roxmltree::Document::parse(&xml1).unwrap();
    let name_id = doc
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();
    let session_index = doc
        .descendants()
        .find(|n| n.has_tag_name("AuthnStatement"))
        .and_then(|n| n.attribute("SessionIndex"))
        .unwrap()
        .to_owned();

    let live = f
        .server
        .state
        .engine
        .store
        .citizen_sessions(f.citizen.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.ended_at.is_none())
        .unwrap();
    let rp = oidc_client_in_session(&f, &live.id, 1).await;
    // The account page's button posts to /logout.
    assert_eq!(b.get("/account").await.status, 200);
    let p = b.post("/logout", &[]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, format!("{SP}/slo"));
    let m = binding::redirect_decode(query, "SAMLRequest", 65_536).unwrap();
    let (alg, sig, signed) = m.signature.unwrap();
    let idp = f.server.state.keys.active(JwsAlg::RS256).unwrap();
    binding::verify_redirect(&alg, &sig, &signed, &[idp.certificate_der().to_vec()]).unwrap();
    assert!(m.xml.contains(&format!(
        "<samlp:SessionIndex>{session_index}</samlp:SessionIndex>"
    )));
    assert!(m.xml.contains(&name_id), "{}", m.xml);
    // The session is already over, on the server.
    let sessions = f
        .server
        .state
        .engine
        .store
        .citizen_sessions(f.citizen.id)
        .await
        .unwrap();
    assert!(!sessions.is_empty());
    assert!(sessions.iter().all(|s| s.ended_at.is_some()));
    assert_eq!(b.get("/account").await.status, 303);
    // The OIDC client of the session was told over the back channel.
    assert_eq!(logout_token_sid(&f, &rp).await, live.id.to_string());

    let request_id = roxmltree::Document::parse(&m.xml)
        .unwrap()
        .root_element()
        .attribute("ID")
        .unwrap()
        .to_owned();
    let relay = m.relay_state.unwrap();
    let logout_response = |irt: &str, id: &str| {
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
             ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"http://localhost:8080/saml/slo\" InResponseTo=\"{irt}\">\
             <saml:Issuer>{SP}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
             </samlp:LogoutResponse>",
            now = xml::instant(chrono::Utc::now()),
        )
    };
    // An answer to another request is refused; the right one ends on the logged-out page.
    let wrong = binding::redirect_encode(
        "SAMLResponse",
        &logout_response("_other", "_w1"),
        Some(&relay),
        &f.sp_key,
    )
    .unwrap();
    assert_eq!(b.get(&format!("/saml/slo?{wrong}")).await.status, 400);
    let right = binding::redirect_encode(
        "SAMLResponse",
        &logout_response(&request_id, "_w2"),
        Some(&relay),
        &f.sp_key,
    )
    .unwrap();
    let p = b.get(&format!("/saml/slo?{right}")).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/logout/done"));
    let done = b.follow(&p).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("role=\"status\""), "{}", done.body);
    // The chain is used once.
    assert_eq!(b.get(&format!("/saml/slo?{right}")).await.status, 400);
}

#[tokio::test]
async fn saml_logout_without_a_saml_sp_shows_the_logged_out_page_at_once() {
    let f = fixture().await;
    let b = Browser::new(f.server.addr);
    let p = Page {
        status: 303,
        location: Some("/login?continue=%2Faccount".into()),
        body: String::new(),
    };
    let account = log_in_through_pages(&f.d, &b, &p, "Marmota-Azul-2024!").await;
    assert_eq!(account.status, 200);
    let p = b.post("/logout", &[]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("role=\"status\""));
    assert_eq!(b.get("/account").await.status, 303);
}

#[tokio::test]
async fn saml_service_providers_from_the_configuration_are_registered_at_start() {
    let d = journey_deployment("");
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
    let md = d.dir.path().join("configured-sp.xml");
    std::fs::write(&md, sp_metadata("https://conf.example.es", &cert)).unwrap();
    let mut text = std::fs::read_to_string(&d.config_path).unwrap();
    text.push_str(&format!(
        "\n[saml]\n[[saml.service_providers]]\nmetadata_file = \"{}\"\nmin_level = \"low\"\n\
         attributes = [\"PersonIdentifier\"]\n\
         name_id_format = \"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"\n\
         encrypt = true\nsp_type = \"private\"\nsigning_alg = \"ecdsa-sha256\"\n\
         display_name = \"Sede de prueba\"\n",
        md.display()
    ));
    std::fs::write(&d.config_path, &text).unwrap();
    // Not there before the server starts; there, with every option, once it has.
    assert!(
        !d.cli(&["admin", "sp", "show", "https://conf.example.es"])
            .status
            .success()
    );
    let server = d.start().await;
    let v = d.cli_json(&["admin", "sp", "show", "https://conf.example.es"]);
    assert_eq!(v["min_level"], "low");
    assert_eq!(v["attributes"], serde_json::json!(["PersonIdentifier"]));
    assert_eq!(
        v["name_id_format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    );
    assert_eq!(v["encrypt_assertions"], true);
    assert_eq!(v["sp_type"], "private");
    assert_eq!(v["sign_with_ec"], true);
    assert_eq!(v["display_name"], "Sede de prueba");
    drop(server);
    // A configured SP whose metadata cannot be read stops the start, naming the key.
    text.push_str("[[saml.service_providers]]\nmetadata_file = \"/nonexistent/sp.xml\"\n");
    std::fs::write(&d.config_path, &text).unwrap();
    let err = pasarela::server::start(d.config(), Arc::new(pasarela::clock::SystemClock))
        .await
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("saml.service_providers"),
        "{err:#}"
    );
    // An unknown Cl@ve IdP in the table is refused when the configuration is read.
    let bad = text.replace("[saml]\n", "[saml]\nclave_idp_methods = { FooIdP = [] }\n");
    std::fs::write(&d.config_path, bad).unwrap();
    let err = pasarela::config::Config::load(&d.config_path).unwrap_err();
    assert!(err.0.contains("saml.clave_idp_methods.FooIdP"), "{}", err.0);
}

/// An OIDC client `bc` with a back-channel logout URI on a local mock that expects `n`
/// logout tokens, recorded as served by `session`.
async fn oidc_client_in_session(
    f: &Fixture,
    session: &pasarela::core::session::SessionId,
    n: u64,
) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let rp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bc"))
        .respond_with(ResponseTemplate::new(200))
        .expect(n)
        .mount(&rp)
        .await;
    let bc_uri = format!("{}/bc", rp.uri());
    f.d.cli_json(&[
        "admin",
        "client",
        "add",
        "bc",
        "--redirect-uri",
        "http://localhost:9999/cb",
        "--backchannel-logout-uri",
        &bc_uri,
    ]);
    f.server
        .state
        .engine
        .record_relying_party(session, "bc", "oidc")
        .await
        .unwrap();
    rp
}

/// The `sid` of the one logout token `rp` received.
async fn logout_token_sid(f: &Fixture, rp: &wiremock::MockServer) -> String {
    let received = rp.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&received[0].body)
            .into_owned()
            .collect();
    let claims = pasarela::oidc::id_token::verify_own(
        &f.server.state.keys,
        "http://localhost:8080",
        &form["logout_token"],
    )
    .expect("signed by a published key");
    assert_eq!(claims["aud"], "bc");
    claims["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn saml_sp_initiated_logout_tells_the_oidc_clients_of_the_session() {
    let f = fixture().await;
    let (session, cookie) = f
        .session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await;
    let rp = oidc_client_in_session(&f, &session.id, 1).await;
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml1, _) = answer(&f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await);
    let name_id = roxmltree::Document::parse(&xml1)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();
    // Nothing is sent before the logout.
    assert!(rp.received_requests().await.unwrap().is_empty());
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo_oidc", &name_id, session.id.as_str()),
        None,
        &f.sp_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(logout_token_sid(&f, &rp).await, session.id.to_string());
}

#[tokio::test]
async fn saml_clave_excluding_giss_forces_a_new_login_with_the_app_only() {
    use pasarela::core::credentials::TotpSecret;
    let f = fixture().await;
    let engine = &f.server.state.engine;
    let enrolment = engine
        .start_totp_enrolment(f.citizen.id, "pasarela")
        .await
        .unwrap();
    let secret = TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
    let now = chrono::Utc::now();
    let code = secret.code_at(now).unwrap();
    assert!(
        engine
            .confirm_totp_enrolment(f.citizen.id, &code, &Actor::system())
            .await
            .unwrap()
    );
    // Lucía signs in with password + SMS (switching from the app to SMS).
    let b = Browser::new(f.server.addr);
    assert_eq!(b.get("/login?continue=%2Faccount").await.status, 200);
    let p = b
        .post(
            "/login",
            &[
                ("identifier", "12345678Z"),
                ("password", "Marmota-Azul-2024!"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/login/code"));
    let totp_page = b.follow(&p).await;
    assert!(totp_page.body.contains("action=\"/login/sms\""));
    let p = b.post("/login/sms", &[]).await;
    assert_eq!(p.location.as_deref(), Some("/login/code"));
    b.follow(&p).await;
    let sms = f.d.last_sms_code("+34600111222");
    let p = b.post("/login/code", &[("code", sms.as_str())]).await;
    assert_eq!(p.location.as_deref(), Some("/account"), "{}", p.body);
    let sessions = engine.store.citizen_sessions(f.citizen.id).await.unwrap();
    let old = sessions
        .iter()
        .find(|s| s.ended_at.is_none())
        .unwrap()
        .clone();
    assert!(old.methods_set().contains(&AuthMethod::Sms));

    // The SP excludes GISSIdP (Cl@ve permanente): the SMS session does not answer, and the
    // login offers the app only, without the switch to SMS.
    let r = Req::new();
    let q = f.redirect_query(&with_clave(&r.xml(&f.sp_key), &excluded("GISSIdP")), None);
    let p = b.get(&format!("/saml/sso?{q}")).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let login = p.location.unwrap();
    assert!(login.ends_with("&methods=otp,hwk"), "{login}");
    assert_eq!(b.get(&login).await.status, 200);
    let sent = f.d.sms_to("+34600111222").len();
    let p = b
        .post(
            "/login",
            &[
                ("identifier", "12345678Z"),
                ("password", "Marmota-Azul-2024!"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/login/code"));
    let code_page = b.follow(&p).await;
    assert!(!code_page.body.contains("action=\"/login/sms\""));
    // Asking for SMS anyway sends nothing.
    b.post("/login/sms", &[]).await;
    assert_eq!(f.d.sms_to("+34600111222").len(), sent);
    let next = secret.code_at(now + chrono::Duration::seconds(30)).unwrap();
    let p = b.post("/login/code", &[("code", next.as_str())]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let resumed = b.follow(&p).await;
    let (xml_text, _) = answer(&resumed);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    // A new session, made with the app only, answered; the SMS one was ended, not extended.
    let index = roxmltree::Document::parse(&xml_text)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("AuthnStatement"))
        .and_then(|n| n.attribute("SessionIndex"))
        .unwrap()
        .to_owned();
    assert_ne!(index, old.id.as_str());
    let sessions = engine.store.citizen_sessions(f.citizen.id).await.unwrap();
    let new = sessions.iter().find(|s| s.id.as_str() == index).unwrap();
    assert!(!new.methods_set().contains(&AuthMethod::Sms));
    assert!(new.methods_set().contains(&AuthMethod::Otp));
    let old_now = sessions.iter().find(|s| s.id == old.id).unwrap();
    assert!(old_now.ended_at.is_some());
}

/// The `AuthnContextClassRef` of a successful Response.
fn authn_context_of(xml_text: &str) -> String {
    roxmltree::Document::parse(xml_text)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("AuthnContextClassRef"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned()
}

/// Step-up over SAML, and one level for one session whatever the protocol: a password-only
/// session asked for substantial is raised with the SMS code alone (same `SessionIndex`);
/// `ForceAuthn` asks for the password instead; and an OIDC client served from the same
/// session gets as `acr` exactly the `AuthnContextClassRef` the SP got.
#[tokio::test]
async fn saml_step_up_raises_the_session_and_oidc_acr_agrees_with_the_authn_context() {
    let f = fixture().await;
    let (session, cookie) = f.session(&[AuthMethod::Pwd], LevelOfAssurance::Low).await;
    let b = Browser::new(f.server.addr);
    b.plant(&cookie);
    // Low is enough for a request of minimum low.
    let mut r = Req::new();
    r.context = Some(("minimum", "low"));
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let low = answer(&b.get(&format!("/saml/sso?{q}")).await).0;
    assert_eq!(authn_context_of(&low), "http://eidas.europa.eu/LoA/low");

    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let p = b.get(&format!("/saml/sso?{q}")).await;
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
        .get("/oidc/authorize?client_id=mismo&response_type=code&scope=openid&redirect_uri=http%3A%2F%2Flocalhost%3A9999%2Fcb")
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
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let login = b.get(&format!("/saml/sso?{q}")).await.location.unwrap();
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
    let f = fixture_config(tables, &[]).await;
    let (session, cookie) = f.session(&[AuthMethod::Pwd], LevelOfAssurance::High).await;
    let b = Browser::new(f.server.addr);
    b.plant(&cookie);
    let mut r = Req::new();
    r.context = Some(("minimum", "high"));
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&b.get(&format!("/saml/sso?{q}")).await);
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
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    let (xml_text, _) = answer(&b.get(&format!("/saml/sso?{q}")).await);
    assert_eq!(
        authn_context_of(&xml_text),
        "http://eidas.europa.eu/LoA/substantial"
    );
    let mut r = Req::new();
    r.context = Some(("minimum", "high"));
    let q = f.redirect_query(&r.xml(&f.sp_key), Some("rs"));
    let p = b.get(&format!("/saml/sso?{q}")).await;
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
