//! The identity provider's metadata: entityID, the signing certificates from the key ring
//! (active and next, so service providers learn a key before it signs), SSO and SLO for both
//! bindings, the NameID formats, `WantAuthnRequestsSigned`, `validUntil`; signed by the IdP.

use super::Endpoints;
use super::error::SamlError;
use super::sp::{NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED};
use super::xml::{self, BINDING_POST, BINDING_REDIRECT, NS_DS, NS_MD};
use crate::core::keys::SigningKey;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};

/// The signed metadata document.
pub fn build(
    endpoints: &Endpoints,
    published: &[std::sync::Arc<SigningKey>],
    signer: &SigningKey,
    now: DateTime<Utc>,
    valid_hours: u32,
) -> Result<String, SamlError> {
    let id = xml::new_id()?;
    let valid_until = xml::instant(now + Duration::hours(i64::from(valid_hours)));
    let mut keys = String::new();
    for key in published {
        let cert = base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
        keys.push_str(&format!(
            "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:KeyName>{kid}</ds:KeyName>\
             <ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>\
             </ds:KeyInfo></md:KeyDescriptor>",
            kid = xml::escape(key.kid())
        ));
    }
    let mut services = String::new();
    for binding in [BINDING_REDIRECT, BINDING_POST] {
        services.push_str(&format!(
            "<md:SingleLogoutService Binding=\"{binding}\" Location=\"{}\"/>",
            xml::escape(&endpoints.slo)
        ));
    }
    for f in [NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED] {
        services.push_str(&format!("<md:NameIDFormat>{f}</md:NameIDFormat>"));
    }
    for binding in [BINDING_REDIRECT, BINDING_POST] {
        services.push_str(&format!(
            "<md:SingleSignOnService Binding=\"{binding}\" Location=\"{}\"/>",
            xml::escape(&endpoints.sso)
        ));
    }
    let unsigned = format!(
        "<md:EntityDescriptor xmlns:md=\"{NS_MD}\" xmlns:ds=\"{NS_DS}\" ID=\"{id}\" \
         entityID=\"{entity}\" validUntil=\"{valid_until}\">{sig}\
         <md:IDPSSODescriptor WantAuthnRequestsSigned=\"true\" \
         protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
         {keys}{services}</md:IDPSSODescriptor></md:EntityDescriptor>",
        entity = xml::escape(&endpoints.entity_id),
        sig = xml::signature_template(&id, signer),
    );
    xml::sign(&unsigned, signer)
}
