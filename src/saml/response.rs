//! Building the answer to an AuthnRequest: the Assertion, signed first, then the Response
//! around it, signed again (RSA-SHA256 or ECDSA-SHA256, exclusive c14n, SHA-256 digests), or
//! a signed Response carrying only an error status.

use super::error::{SamlError, StatusCode};
use super::xml::{self, NS_EIDAS_NATURAL, NS_SAML, NS_SAMLP};
use crate::core::keys::SigningKey;
use chrono::{DateTime, Duration, Utc};

/// An attribute asserted, in URI name format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Name (URI).
    pub name: String,
    /// FriendlyName.
    pub friendly: String,
    /// Value.
    pub value: String,
    /// `xsi:type` of the value (an eIDAS natural-person type or `xs:string`).
    pub xsi_type: String,
}

impl Attribute {
    /// An eIDAS natural-person attribute (`PersonIdentifier`, …) with its eIDAS type.
    pub fn eidas(friendly: &str, value: String) -> Self {
        Self {
            name: format!("{NS_EIDAS_NATURAL}/{friendly}"),
            friendly: friendly.to_owned(),
            value,
            xsi_type: format!("eidas-natural:{friendly}Type"),
        }
    }
}

/// What the assertion states.
#[derive(Debug, Clone)]
pub struct Statement<'a> {
    /// This IdP's entityID.
    pub idp: &'a str,
    /// The SP's entityID (Audience).
    pub sp: &'a str,
    /// The request's ID (InResponseTo).
    pub in_response_to: &'a str,
    /// The ACS URL (Destination and Recipient).
    pub acs: &'a str,
    /// NameID format.
    pub name_id_format: &'a str,
    /// NameID value.
    pub name_id: &'a str,
    /// The SSO session's stable id.
    pub session_index: &'a str,
    /// When the citizen authenticated.
    pub auth_instant: DateTime<Utc>,
    /// AuthnContextClassRef: the level of this session.
    pub level_uri: &'a str,
    /// Attributes released.
    pub attributes: &'a [Attribute],
    /// Now.
    pub now: DateTime<Utc>,
    /// Seconds the assertion may be presented.
    pub lifetime_secs: u32,
    /// Seconds of tolerated clock difference (NotBefore lies this far back).
    pub skew_secs: u32,
}

/// The signed Assertion (no XML declaration).
pub fn assertion(s: &Statement<'_>, key: &SigningKey) -> Result<String, SamlError> {
    let id = xml::new_id()?;
    let e = xml::escape;
    let now = xml::instant(s.now);
    let not_after = xml::instant(s.now + Duration::seconds(i64::from(s.lifetime_secs)));
    let not_before = xml::instant(s.now - Duration::seconds(i64::from(s.skew_secs)));
    let mut attrs = String::new();
    for a in s.attributes {
        attrs.push_str(&format!(
            "<saml:Attribute Name=\"{}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\" \
             FriendlyName=\"{}\"><saml:AttributeValue xsi:type=\"{}\">{}</saml:AttributeValue></saml:Attribute>",
            e(&a.name),
            e(&a.friendly),
            e(&a.xsi_type),
            e(&a.value)
        ));
    }
    let attribute_statement = if attrs.is_empty() {
        String::new()
    } else {
        format!("<saml:AttributeStatement>{attrs}</saml:AttributeStatement>")
    };
    let unsigned = format!(
        "<saml:Assertion xmlns:saml=\"{NS_SAML}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:eidas-natural=\"{NS_EIDAS_NATURAL}\" \
         ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\">\
         <saml:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">{idp}</saml:Issuer>{sig}\
         <saml:Subject><saml:NameID Format=\"{fmt}\" NameQualifier=\"{idp}\" SPNameQualifier=\"{sp}\">{name_id}</saml:NameID>\
         <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
         <saml:SubjectConfirmationData InResponseTo=\"{irt}\" NotOnOrAfter=\"{not_after}\" Recipient=\"{acs}\"/>\
         </saml:SubjectConfirmation></saml:Subject>\
         <saml:Conditions NotBefore=\"{not_before}\" NotOnOrAfter=\"{not_after}\">\
         <saml:AudienceRestriction><saml:Audience>{sp}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
         <saml:AuthnStatement AuthnInstant=\"{auth}\" SessionIndex=\"{si}\">\
         <saml:AuthnContext><saml:AuthnContextClassRef>{level}</saml:AuthnContextClassRef></saml:AuthnContext>\
         </saml:AuthnStatement>{attribute_statement}</saml:Assertion>",
        idp = e(s.idp),
        sig = xml::signature_template(&id, key),
        fmt = e(s.name_id_format),
        sp = e(s.sp),
        name_id = e(s.name_id),
        irt = e(s.in_response_to),
        acs = e(s.acs),
        auth = xml::instant(s.auth_instant),
        si = e(s.session_index),
        level = e(s.level_uri),
    );
    xml::sign(&unsigned, key)
}

/// A signed Response with `status` (Success with `assertion`, or an error without one).
pub fn response(
    idp: &str,
    destination: &str,
    in_response_to: &str,
    status: Result<&str, (StatusCode, &str)>,
    now: DateTime<Utc>,
    key: &SigningKey,
) -> Result<String, SamlError> {
    let id = xml::new_id()?;
    let e = xml::escape;
    let (status_xml, assertion) = match status {
        Ok(assertion) => (
            "<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>".to_owned(),
            assertion,
        ),
        Err((code, message)) => (
            format!(
                "<samlp:StatusCode Value=\"{}\"><samlp:StatusCode Value=\"{}\"/></samlp:StatusCode>\
                 <samlp:StatusMessage>{}</samlp:StatusMessage>",
                code.top(),
                code.uri(),
                e(message)
            ),
            "",
        ),
    };
    let unsigned = format!(
        "<samlp:Response xmlns:samlp=\"{NS_SAMLP}\" xmlns:saml=\"{NS_SAML}\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{now}\" Destination=\"{dest}\" InResponseTo=\"{irt}\">\
         <saml:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">{idp}</saml:Issuer>{sig}\
         <samlp:Status>{status_xml}</samlp:Status>{assertion}</samlp:Response>",
        now = xml::instant(now),
        dest = e(destination),
        irt = e(in_response_to),
        idp = e(idp),
        sig = xml::signature_template(&id, key),
    );
    xml::sign(&unsigned, key)
}

/// A LogoutResponse with status Success. With `key` it carries an enveloped signature (for
/// HTTP-POST); without, it is signed in the query string by the Redirect binding.
pub fn logout_response(
    idp: &str,
    destination: &str,
    in_response_to: &str,
    now: DateTime<Utc>,
    key: Option<&SigningKey>,
) -> Result<String, SamlError> {
    let id = xml::new_id()?;
    let e = xml::escape;
    let sig = key
        .map(|k| xml::signature_template(&id, k))
        .unwrap_or_default();
    let unsigned = format!(
        "<samlp:LogoutResponse xmlns:samlp=\"{NS_SAMLP}\" xmlns:saml=\"{NS_SAML}\" ID=\"{id}\" \
         Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{dest}\" InResponseTo=\"{irt}\">\
         <saml:Issuer>{idp}</saml:Issuer>{sig}<samlp:Status>\
         <samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
         </samlp:LogoutResponse>",
        now = xml::instant(now),
        dest = e(destination),
        irt = e(in_response_to),
        idp = e(idp),
    );
    match key {
        Some(k) => xml::sign(&unsigned, k),
        None => Ok(unsigned),
    }
}

/// A LogoutRequest from this IdP to an SP (propagating a logout), for the persistent NameID
/// and the SSO session's index. With `key` it carries an enveloped signature (HTTP-POST).
pub fn logout_request(
    idp: &str,
    destination: &str,
    id: &str,
    name_id: &str,
    session_index: &str,
    now: DateTime<Utc>,
    key: Option<&SigningKey>,
) -> Result<String, SamlError> {
    let e = xml::escape;
    let sig = key
        .map(|k| xml::signature_template(id, k))
        .unwrap_or_default();
    let unsigned = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"{NS_SAMLP}\" xmlns:saml=\"{NS_SAML}\" ID=\"{id}\" \
         Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{dest}\">\
         <saml:Issuer>{idp}</saml:Issuer>{sig}\
         <saml:NameID Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" \
         NameQualifier=\"{idp}\">{name_id}</saml:NameID>\
         <samlp:SessionIndex>{si}</samlp:SessionIndex></samlp:LogoutRequest>",
        id = e(id),
        now = xml::instant(now),
        dest = e(destination),
        idp = e(idp),
        name_id = e(name_id),
        si = e(session_index),
    );
    match key {
        Some(k) => xml::sign(&unsigned, k),
        None => Ok(unsigned),
    }
}
