//! The test SP: registered from its metadata with the real command line, AuthnRequests
//! crafted with one defect at a time and signed with the SP's key for the POST or Redirect
//! binding, and the Response read from the auto-posting form and checked with Debian's
//! `xmlsec1` when it is installed.

use super::{Live, Page, hidden_value, html_unescape, journey_deployment};
use base64::Engine as _;
use pasarela::core::citizen::Citizen;
use pasarela::core::keys::{JwsAlg, KeyRing, SigningKey};
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::core::session::SsoSession;
use pasarela::saml::{binding, xml};
use std::sync::Arc;

pub const SP: &str = "https://sp.example.es";
pub const DEST: &str = "http://localhost:8080/saml/sso";
/// The password the SAML suites activate Lucía with.
pub const SP_PASSWORD: &str = "Marmota-Azul-2024!";

/// A deployment with one SP (test key), Lucía registered and active, and the server up;
/// `client` sends cookies only when told to.
pub struct Sp {
    live: Live,
    pub sp_key: Arc<SigningKey>,
    pub citizen: Citizen,
    pub client: reqwest::Client,
}

impl std::ops::Deref for Sp {
    type Target = Live;
    fn deref(&self) -> &Live {
        &self.live
    }
}

impl Sp {
    pub async fn start() -> Self {
        Self::with(&[]).await
    }

    /// Like [`Sp::start`], with more `admin sp add` options.
    pub async fn with(sp_options: &[&str]) -> Self {
        Self::config("", sp_options).await
    }

    /// Like [`Sp::with`], with `extra` configuration.
    pub async fn config(extra: &str, sp_options: &[&str]) -> Self {
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
        let (live, citizen) = Live::with_lucia(d, &[], SP_PASSWORD).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Sp {
            live,
            sp_key,
            citizen,
            client,
        }
    }

    /// A live session of Lucía's with `methods` at `level`, and its cookie header.
    pub async fn session(
        &self,
        methods: &[AuthMethod],
        level: LevelOfAssurance,
    ) -> (SsoSession, String) {
        self.live.session(&self.citizen, methods, level).await
    }

    /// The usual session: password and SMS code, substantial.
    pub async fn signed_in(&self) -> (SsoSession, String) {
        self.session(
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
        )
        .await
    }

    /// Sends `r` over the HTTP-Redirect binding, signed with the SP's key, with `relay` and
    /// the session `cookie` when given.
    pub async fn redirect(&self, r: &Req<'_>, relay: Option<&str>, cookie: Option<&str>) -> Page {
        self.get(&self.sso_path(&r.xml(&self.sp_key), relay), cookie)
            .await
    }

    /// `/saml/sso?…` carrying `xml_text` over the HTTP-Redirect binding, signed.
    pub fn sso_path(&self, xml_text: &str, relay: Option<&str>) -> String {
        format!("/saml/sso?{}", self.redirect_query(xml_text, relay))
    }

    /// Sends `r` (made with `signature` set) over the HTTP-POST binding, its enveloped
    /// signature made with the SP's key, with `relay` and the session `cookie` when given.
    pub async fn post(&self, r: &Req<'_>, relay: Option<&str>, cookie: Option<&str>) -> Page {
        self.post_sso(&self.signed(&r.xml(&self.sp_key)), relay, cookie)
            .await
    }

    /// POSTs `xml_text` as the SAMLRequest to the SSO endpoint (HTTP-POST binding).
    pub async fn post_sso(
        &self,
        xml_text: &str,
        relay: Option<&str>,
        cookie: Option<&str>,
    ) -> Page {
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
        Page::of(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path_and_query: &str, cookie: Option<&str>) -> Page {
        let mut req = self.client.get(format!("{}{path_and_query}", self.base()));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        Page::of(req.send().await.unwrap()).await
    }

    /// The query of `xml_text` as a SAMLRequest in the HTTP-Redirect binding, signed.
    pub fn redirect_query(&self, xml_text: &str, relay: Option<&str>) -> String {
        binding::redirect_encode("SAMLRequest", xml_text, relay, &self.sp_key).unwrap()
    }

    /// `xml_text` with its enveloped signature template filled with the SP's key.
    pub fn signed(&self, xml_text: &str) -> String {
        xml::sign(xml_text, &self.sp_key).unwrap()
    }

    pub fn idp_cert_pem(&self) -> String {
        let key = self.server.state.keys.active(JwsAlg::RS256).unwrap();
        key.certificate_pem().unwrap()
    }
}

/// Request options that make the fixtures differ by one defect at a time.
pub struct Req<'a> {
    pub id: String,
    pub destination: &'a str,
    pub acs: Option<&'a str>,
    pub acs_index: Option<u16>,
    pub context: Option<(&'a str, &'a str)>,
    pub passive: bool,
    pub force: bool,
    pub signature: bool,
}

impl<'a> Req<'a> {
    pub fn new() -> Self {
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
    pub fn xml(&self, key: &SigningKey) -> String {
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

/// Checks a successful Response: both signatures (xmlsec1), session index, level, attributes.
pub fn check_success(f: &Sp, xml_text: &str, req_id: &str, session: &SsoSession, level: &str) {
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

/// The Response posted back in `page`'s form, decoded, and its RelayState.
pub fn answer(page: &Page) -> (String, Option<String>) {
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

pub fn status_of(xml_text: &str) -> String {
    let doc = roxmltree::Document::parse(xml_text).unwrap();
    doc.descendants()
        .rfind(|n| n.has_tag_name("StatusCode"))
        .and_then(|n| n.attribute("Value"))
        .unwrap()
        .to_owned()
}

pub fn top_status_of(xml_text: &str) -> String {
    let doc = roxmltree::Document::parse(xml_text).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name("StatusCode"))
        .and_then(|n| n.attribute("Value"))
        .unwrap()
        .to_owned()
}

/// The `AuthnContextClassRef` of a successful Response.
pub fn authn_context_of(xml_text: &str) -> String {
    roxmltree::Document::parse(xml_text)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("AuthnContextClassRef"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned()
}

/// A LogoutRequest from the SP for `name_id` and `session_index`.
pub fn logout_request(id: &str, name_id: &str, session_index: &str) -> String {
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
         ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"http://localhost:8080/saml/slo\">\
         <saml:Issuer>{SP}</saml:Issuer>\
         <saml:NameID Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\">{name_id}</saml:NameID>\
         <samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>",
        now = xml::instant(chrono::Utc::now()),
    )
}

pub fn have_xmlsec1() -> bool {
    std::process::Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `xmlsec1 --verify` of the signature under `node` (an XPath) with `cert_pem`.
pub fn xmlsec1_verify(
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

/// Runs xmlsec1 with `args` and the document `xml_text`; returns stdout.
pub fn xmlsec1(dir: &std::path::Path, args: &[&str], xml_text: &str) -> String {
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

/// SAML SP metadata for `entity` with `cert_b64` (base64 DER) for signing and encryption,
/// two HTTP-POST ACS endpoints (`/acs` index 0 default, `/acs2` index 1) and an SLO endpoint.
pub fn sp_metadata(entity: &str, cert_b64: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}">
<md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{entity}/slo"/>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs" index="0" isDefault="true"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs2" index="1"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}
