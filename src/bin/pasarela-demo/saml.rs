//! The SAML 2.0 service provider: its metadata, a signed AuthnRequest over HTTP-Redirect
//! with `RequestedAuthnContext Comparison="minimum"`, and the HTTP-POST Response checked
//! against pasarela's metadata certificate (signature by xmlsec via `samael`, Destination,
//! InResponseTo, Issuer, audience, validity window).

use crate::html;
use crate::services::{Identity, Level, Service, Via, service};
use crate::{AppState, Args, random_id, with_cookie};
use anyhow::{Context as _, anyhow, bail};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use openssl::pkey::{PKey, Private};
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, CryptoProvider, ReduceMode, XmlSec,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// The demo-only SP key pair (committed on purpose; never use it for anything real).
const DEMO_KEY: &str = include_str!("../../../config/demo/demo-sp-key.pem");
const DEMO_CERT: &str = include_str!("../../../config/demo/demo-sp-cert.pem");
/// Largest SAMLResponse accepted (base64 text).
const MAX_RESPONSE: usize = 256 * 1024;
/// How long an AuthnRequest waits for its Response.
const PENDING_TTL: Duration = Duration::from_secs(900);
/// Clock difference tolerated with the IdP.
const SKEW_SECS: i64 = 60;
const ACCEPTED: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::RsaSha512,
];

/// What the IdP's metadata says.
struct Idp {
    entity_id: String,
    sso_redirect: String,
    certs: Vec<Vec<u8>>,
}

struct PendingRequest {
    sid: String,
    service: Option<&'static str>,
    level: Level,
    at: Instant,
}

/// The SP: its key, the IdP's metadata (cached), requests waiting for their Response.
pub struct Saml {
    key: PKey<Private>,
    cert_b64: String,
    idp: Mutex<Option<(Instant, Arc<Idp>)>>,
    pending: Mutex<HashMap<String, PendingRequest>>,
}

/// Escapes text for XML.
fn esc(t: &str) -> String {
    html::esc(t)
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Saml {
    /// Reads the SP key pair (the demo one unless `--saml-key`/`--saml-cert`).
    pub fn load(args: &Args) -> anyhow::Result<Self> {
        let read = |p: &Option<std::path::PathBuf>, default: &str| -> anyhow::Result<String> {
            match p {
                Some(p) => std::fs::read_to_string(p).with_context(|| p.display().to_string()),
                None => Ok(default.to_owned()),
            }
        };
        let key = PKey::private_key_from_pem(read(&args.saml_key, DEMO_KEY)?.as_bytes())?;
        let cert = openssl::x509::X509::from_pem(read(&args.saml_cert, DEMO_CERT)?.as_bytes())?;
        Ok(Self {
            key,
            cert_b64: base64::engine::general_purpose::STANDARD.encode(cert.to_der()?),
            idp: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// The SP metadata for the demo at `args.public_url`.
    pub fn metadata(&self, args: &Args) -> String {
        format!(
            "<md:EntityDescriptor xmlns:md=\"{NS_MD}\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{entity}\">\n\
             <md:SPSSODescriptor AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\" protocolSupportEnumeration=\"{NS_SAMLP}\">\n\
             <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n\
             <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>\n\
             <md:AssertionConsumerService Binding=\"{BINDING_POST}\" Location=\"{acs}\" index=\"0\" isDefault=\"true\"/>\n\
             </md:SPSSODescriptor>\n</md:EntityDescriptor>\n",
            entity = esc(&entity_id(args)),
            acs = esc(&acs_url(args)),
            cert = self.cert_b64,
        )
    }

    /// pasarela's metadata, fetched at first use and every five minutes.
    async fn idp(&self, state: &AppState) -> anyhow::Result<Arc<Idp>> {
        if let Some((at, idp)) = self.idp.lock().unwrap().as_ref()
            && at.elapsed() < Duration::from_secs(300)
        {
            return Ok(idp.clone());
        }
        let url = state
            .args
            .saml_idp_metadata
            .clone()
            .unwrap_or_else(|| format!("{}/saml/metadata", state.args.issuer()));
        let text = state
            .http
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let idp = Arc::new(parse_idp_metadata(&text).with_context(|| url.clone())?);
        *self.idp.lock().unwrap() = Some((Instant::now(), idp.clone()));
        Ok(idp)
    }
}

fn entity_id(args: &Args) -> String {
    format!("{}/saml/metadata", args.public())
}

fn acs_url(args: &Args) -> String {
    format!("{}/saml/acs", args.public())
}

/// The IdP's entityID, Redirect SSO location and signing certificates.
fn parse_idp_metadata(text: &str) -> anyhow::Result<Idp> {
    let doc = roxmltree::Document::parse(text)?;
    let root = doc.root_element();
    let entity_id = root
        .attribute("entityID")
        .ok_or_else(|| anyhow!("no entityID"))?
        .to_owned();
    let idp = root
        .descendants()
        .find(|n| n.has_tag_name((NS_MD, "IDPSSODescriptor")))
        .ok_or_else(|| anyhow!("no IDPSSODescriptor"))?;
    let sso_redirect = idp
        .children()
        .find(|n| {
            n.has_tag_name((NS_MD, "SingleSignOnService"))
                && n.attribute("Binding") == Some(BINDING_REDIRECT)
        })
        .and_then(|n| n.attribute("Location"))
        .ok_or_else(|| anyhow!("no HTTP-Redirect SingleSignOnService"))?
        .to_owned();
    let mut certs = Vec::new();
    for kd in idp
        .children()
        .filter(|n| n.has_tag_name((NS_MD, "KeyDescriptor")))
        .filter(|n| n.attribute("use").is_none_or(|u| u == "signing"))
    {
        for c in kd
            .descendants()
            .filter(|n| n.has_tag_name("X509Certificate"))
        {
            let b64: String = c
                .text()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            certs.push(base64::engine::general_purpose::STANDARD.decode(b64)?);
        }
    }
    if certs.is_empty() {
        bail!("no signing certificate");
    }
    Ok(Idp {
        entity_id,
        sso_redirect,
        certs,
    })
}

/// `GET /saml/metadata`
pub async fn metadata_handler(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        state.saml.metadata(&state.args),
    )
        .into_response()
}

fn q(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// Sends the browser to pasarela with a signed AuthnRequest for at least `level`.
pub async fn start(
    state: &AppState,
    sid: &str,
    s: Option<&'static Service>,
    level: Level,
) -> Response {
    match request_url(state, sid, s, level).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            tracing::warn!("cannot start the SAML sign-in: {e:#}");
            html::error(
                StatusCode::BAD_GATEWAY,
                "pasarela no responde; inténtalo de nuevo en un momento.",
            )
        }
    }
}

async fn request_url(
    state: &AppState,
    sid: &str,
    s: Option<&'static Service>,
    level: Level,
) -> anyhow::Result<String> {
    use std::io::Write;
    let idp = state.saml.idp(state).await?;
    let id = format!("_{}", &random_id()[..40]);
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"{NS_SAMLP}\" xmlns:saml=\"{NS_SAML}\" \
         xmlns:eidas=\"http://eidas.europa.eu/saml-extensions\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{now}\" Destination=\"{dest}\" AssertionConsumerServiceURL=\"{acs}\" \
         ProtocolBinding=\"{BINDING_POST}\"><saml:Issuer>{issuer}</saml:Issuer>\
         <samlp:Extensions><eidas:SPType>public</eidas:SPType></samlp:Extensions>\
         <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" AllowCreate=\"true\"/>\
         <samlp:RequestedAuthnContext Comparison=\"minimum\"><saml:AuthnContextClassRef>{loa}</saml:AuthnContextClassRef>\
         </samlp:RequestedAuthnContext></samlp:AuthnRequest>",
        now = instant(Utc::now()),
        dest = esc(&idp.sso_redirect),
        acs = esc(&acs_url(&state.args)),
        issuer = esc(&entity_id(&state.args)),
        loa = level.uri(),
    );
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes())?;
    let deflated = enc.finish()?;
    let mut query = format!(
        "SAMLRequest={}",
        q(&base64::engine::general_purpose::STANDARD.encode(deflated))
    );
    if let Some(s) = s {
        query.push_str(&format!("&RelayState={}", q(s.name)));
    }
    query.push_str(&format!("&SigAlg={}", q(RSA_SHA256)));
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &state.saml.key)?;
    let sig = signer.sign_oneshot_to_vec(query.as_bytes())?;
    query.push_str(&format!(
        "&Signature={}",
        q(&base64::engine::general_purpose::STANDARD.encode(sig))
    ));
    {
        let mut pending = state.saml.pending.lock().unwrap();
        pending.retain(|_, p| p.at.elapsed() < PENDING_TTL);
        pending.insert(
            id,
            PendingRequest {
                sid: sid.to_owned(),
                service: s.map(|s| s.name),
                level,
                at: Instant::now(),
            },
        );
    }
    let sep = if idp.sso_redirect.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(format!("{}{sep}{query}", idp.sso_redirect))
}

/// What a Response said.
enum Outcome {
    Identity(Identity),
    /// A non-success status: the (second-level) code and the message.
    Refused(String, Option<String>),
}

/// `POST /saml/acs`
pub async fn acs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (_, cookie) = state.session(&headers);
    let outcome = match form.get("SAMLResponse") {
        Some(b64) if b64.len() <= MAX_RESPONSE => consume(&state, b64).await,
        _ => Err(anyhow!("no SAMLResponse")),
    };
    let res = match outcome {
        Ok((pending, Outcome::Identity(identity))) => {
            let s = pending.service.and_then(service);
            let got = identity.level();
            let acr = identity.acr.clone();
            state.with_session(&pending.sid, |se| se.identity = Some(identity));
            // The request's browser session now holds the identity.
            let cookie = format!(
                "sede_demo_sid={}; Path=/; HttpOnly; SameSite=Lax",
                pending.sid
            );
            let res = match s {
                Some(s) if got < s.level => html::refusal(
                    Some(s),
                    s.level,
                    Some(&acr),
                    "level_not_reached",
                    Some("pasarela answered a lower level than the service needs"),
                ),
                Some(s) => Redirect::to(&format!("/servicios/{}", s.name)).into_response(),
                None => Redirect::to("/").into_response(),
            };
            return with_cookie(res, cookie.parse().ok());
        }
        Ok((pending, Outcome::Refused(code, message))) => {
            let have = state.identity(&pending.sid).map(|i| i.acr);
            html::refusal(
                pending.service.and_then(service),
                Some(pending.level),
                have.as_deref(),
                &code,
                message.as_deref(),
            )
        }
        Err(e) => {
            tracing::warn!("SAML Response refused: {e:#}");
            html::error(
                StatusCode::BAD_REQUEST,
                &format!("Respuesta SAML rechazada: {e}"),
            )
        }
    };
    with_cookie(res, cookie)
}

fn parse_instant(v: Option<&str>) -> anyhow::Result<Option<DateTime<Utc>>> {
    v.map(|t| DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc)))
        .transpose()
        .map_err(Into::into)
}

/// Checks the Response and reads the identity from what its signature covers.
async fn consume(state: &AppState, b64: &str) -> anyhow::Result<(PendingRequest, Outcome)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.split_whitespace().collect::<String>())
        .context("base64")?;
    let xml = String::from_utf8(bytes).context("UTF-8")?;
    let (root_id, in_response_to, destination) = {
        let doc = roxmltree::Document::parse(&xml)?;
        let root = doc.root_element();
        if !root.has_tag_name((NS_SAMLP, "Response")) {
            bail!("not a Response");
        }
        let attr = |n: &str| root.attribute(n).map(str::to_owned);
        (attr("ID"), attr("InResponseTo"), attr("Destination"))
    };
    let root_id = root_id.ok_or_else(|| anyhow!("no ID"))?;
    let acs = acs_url(&state.args);
    if destination.as_deref() != Some(acs.as_str()) {
        bail!("Destination is not this ACS");
    }
    let in_response_to = in_response_to
        .filter(|id| {
            state
                .saml
                .pending
                .lock()
                .unwrap()
                .get(id)
                .is_some_and(|p| p.at.elapsed() < PENDING_TTL)
        })
        .ok_or_else(|| anyhow!("InResponseTo names no pending request"))?;
    let idp = state.saml.idp(state).await?;
    let certs: Vec<CertificateDer> = idp
        .certs
        .iter()
        .cloned()
        .map(CertificateDer::from)
        .collect();
    let signed = XmlSec::reduce_xml_to_signed_with_allowed_algorithms(
        &xml,
        &certs,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(ACCEPTED),
    )
    .map_err(|e| anyhow!("signature: {e}"))?;
    let doc = roxmltree::Document::parse(&signed)?;
    let root = doc.root_element();
    if !root.has_tag_name((NS_SAMLP, "Response")) || root.attribute("ID") != Some(&root_id) {
        bail!("the signature does not cover the Response");
    }
    let issuer = root
        .children()
        .find(|n| n.has_tag_name((NS_SAML, "Issuer")))
        .and_then(|n| n.text());
    if issuer != Some(idp.entity_id.as_str()) {
        bail!("Issuer is not pasarela");
    }
    // Only a verified answer uses up its request (a forged one leaves it pending).
    let pending = state
        .saml
        .pending
        .lock()
        .unwrap()
        .remove(&in_response_to)
        .ok_or_else(|| anyhow!("InResponseTo names no pending request"))?;
    let status = root
        .children()
        .find(|n| n.has_tag_name((NS_SAMLP, "Status")))
        .ok_or_else(|| anyhow!("no Status"))?;
    let codes: Vec<&str> = status
        .descendants()
        .filter(|n| n.has_tag_name((NS_SAMLP, "StatusCode")))
        .filter_map(|n| n.attribute("Value"))
        .collect();
    if codes.first() != Some(&SUCCESS) {
        let code = codes.last().copied().unwrap_or("unknown");
        let code = code.rsplit(':').next().unwrap_or(code).to_owned();
        let message = status
            .descendants()
            .find(|n| n.has_tag_name((NS_SAMLP, "StatusMessage")))
            .and_then(|n| n.text())
            .map(str::to_owned);
        return Ok((pending, Outcome::Refused(code, message)));
    }
    let assertion = root
        .children()
        .find(|n| n.has_tag_name((NS_SAML, "Assertion")))
        .ok_or_else(|| anyhow!("no (plain) Assertion"))?;
    let now = Utc::now();
    let skew = chrono::Duration::seconds(SKEW_SECS);
    let find = |name: &str| {
        assertion
            .descendants()
            .find(|n| n.has_tag_name((NS_SAML, name)))
    };
    let conditions = find("Conditions").ok_or_else(|| anyhow!("no Conditions"))?;
    if parse_instant(conditions.attribute("NotBefore"))?.is_some_and(|t| now + skew < t)
        || parse_instant(conditions.attribute("NotOnOrAfter"))?.is_none_or(|t| now - skew >= t)
    {
        bail!("the assertion is outside its validity window");
    }
    let entity = entity_id(&state.args);
    if !conditions
        .descendants()
        .filter(|n| n.has_tag_name((NS_SAML, "Audience")))
        .any(|n| n.text() == Some(entity.as_str()))
    {
        bail!("the assertion is not for this SP");
    }
    let scd =
        find("SubjectConfirmationData").ok_or_else(|| anyhow!("no SubjectConfirmationData"))?;
    if scd.attribute("Recipient") != Some(acs.as_str())
        || scd.attribute("InResponseTo") != root.attribute("InResponseTo")
        || parse_instant(scd.attribute("NotOnOrAfter"))?.is_none_or(|t| now - skew >= t)
    {
        bail!("the subject confirmation does not match");
    }
    let name_id = find("NameID")
        .and_then(|n| n.text())
        .ok_or_else(|| anyhow!("no NameID"))?
        .to_owned();
    let acr = find("AuthnContextClassRef")
        .and_then(|n| n.text())
        .ok_or_else(|| anyhow!("no AuthnContextClassRef"))?
        .trim()
        .to_owned();
    let auth_time = find("AuthnStatement")
        .and_then(|n| n.attribute("AuthnInstant"))
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp());
    let mut attrs = HashMap::new();
    for a in assertion
        .descendants()
        .filter(|n| n.has_tag_name((NS_SAML, "Attribute")))
    {
        let key = a
            .attribute("FriendlyName")
            .or_else(|| a.attribute("Name"))
            .unwrap_or_default()
            .to_owned();
        let value = a
            .children()
            .find(|n| n.has_tag_name((NS_SAML, "AttributeValue")))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned();
        attrs.insert(key, value);
    }
    let name = format!(
        "{} {}",
        attrs
            .get("CurrentGivenName")
            .map(String::as_str)
            .unwrap_or_default(),
        attrs
            .get("CurrentFamilyName")
            .map(String::as_str)
            .unwrap_or_default()
    )
    .trim()
    .to_owned();
    // The eIDAS PersonIdentifier is `ES/ES/<document>`; the document is its last part.
    let identifier = attrs
        .get("PersonIdentifier")
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned())
        .unwrap_or(name_id);
    Ok((
        pending,
        Outcome::Identity(Identity {
            via: Via::Saml,
            name,
            identifier,
            acr,
            auth_time,
            access_token: None,
            id_token: None,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn the_committed_dev_metadata_is_what_the_demo_serves() {
        let args = Args::parse_from(["pasarela-demo"]);
        let saml = Saml::load(&args).unwrap();
        let committed = include_str!("../../../config/demo/sede-demo-sp.xml");
        assert_eq!(saml.metadata(&args), committed);
    }
}
