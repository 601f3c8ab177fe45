//! XML plumbing for the SAML layer: namespaces, escaping, strict parsing (no DTDs, no
//! entities, size-capped), and XML signatures through xmlsec (via `samael`): we only build the
//! signature *template*; digesting, canonicalising and signing are xmlsec's.

use super::error::SamlError;
use crate::core::keys::{KeyFamily, SigningKey};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, CryptoProvider, ReduceMode, XmlSec,
};

/// SAML 2.0 protocol namespace.
pub const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 assertion namespace.
pub const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 metadata namespace.
pub const NS_MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML signature namespace.
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// eIDAS SAML extensions namespace.
pub const NS_EIDAS: &str = "http://eidas.europa.eu/saml-extensions";
/// eIDAS natural-person attributes namespace.
pub const NS_EIDAS_NATURAL: &str = "http://eidas.europa.eu/attributes/naturalperson";
/// HTTP-Redirect binding.
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding.
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// The SOAP binding URI (SAML Bindings §3.2): back-channel, no browser.
pub const BINDING_SOAP: &str = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";
/// RSA-SHA256 signature method.
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// ECDSA-SHA256 signature method.
pub const ALG_ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
/// RSA-SHA512 signature method.
pub const ALG_RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";

/// Signature algorithms accepted from service providers (no SHA-1).
pub const ACCEPTED_XML_ALGS: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// Escapes text for an XML element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A SAML `dateTime` in UTC with second precision.
pub fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A fresh message or assertion ID (an NCName: starts with `_`).
pub fn new_id() -> Result<String, SamlError> {
    let bytes = crate::core::random::bytes(20).map_err(SamlError::internal)?;
    Ok(format!("_{}", hex::encode(bytes)))
}

/// Decoded XML text after the checks every incoming message passes: size cap, UTF-8, no
/// document type declaration (so no entities, internal or external), well-formed.
pub fn checked_text(bytes: &[u8], max: usize) -> Result<String, SamlError> {
    if bytes.len() > max {
        return Err(SamlError::malformed("message too large"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| SamlError::malformed("not UTF-8"))?;
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(SamlError::malformed(
            "document type declarations are refused",
        ));
    }
    // roxmltree refuses DTDs by default and is strict about well-formedness, where libxml2
    // (inside xmlsec) would try to recover.
    let doc =
        roxmltree::Document::parse(text).map_err(|e| SamlError::malformed(format!("XML: {e}")))?;
    // Comments are left out of the canonical form a signature covers, so a comment inside a
    // signed value lets two readers see two values: no SAML message needs one.
    if doc.descendants().any(|n| n.is_comment() || n.is_pi()) {
        return Err(SamlError::malformed(
            "comments and processing instructions are refused",
        ));
    }
    // One ID, one element: a duplicate is how signature wrapping points two readers at two
    // elements.
    let mut ids = std::collections::HashSet::new();
    for id in doc.descendants().filter_map(|n| n.attribute("ID")) {
        if !ids.insert(id) {
            return Err(SamlError::malformed("duplicate ID"));
        }
    }
    Ok(text.to_owned())
}

/// Parses text already checked by [`checked_text`] (or produced by xmlsec from it).
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, SamlError> {
    roxmltree::Document::parse(text).map_err(|e| SamlError::malformed(format!("XML: {e}")))
}

/// The first child element of `node` named `name` in namespace `ns`.
pub fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: &str,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

/// Every child element of `node` named `name` in namespace `ns`.
pub fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

/// Whether `node` is the element `name` in namespace `ns`.
pub fn is(node: roxmltree::Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

/// The text of an element, trimmed (comments are not text: a comment inside a value splits
/// nothing here, and signed values are read from the xmlsec output, which keeps comments out
/// of exclusive canonicalisation).
pub fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The signature method URI for a key.
pub fn signature_method(key: &SigningKey) -> &'static str {
    match key.family() {
        KeyFamily::Rsa => ALG_RSA_SHA256,
        KeyFamily::Ec => ALG_ECDSA_SHA256,
    }
}

/// An enveloped-signature template over the element with `id`: exclusive canonicalisation,
/// SHA-256 digest, the key's SHA-256 signature method, and the key's certificate.
pub fn signature_template(id: &str, key: &SigningKey) -> String {
    let cert = base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
    format!(
        "<ds:Signature xmlns:ds=\"{NS_DS}\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
         <ds:SignatureMethod Algorithm=\"{alg}\"/>\
         <ds:Reference URI=\"#{id}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\
         <ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
         </ds:Transforms>\
         <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\
         <ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>\
         <ds:SignatureValue></ds:SignatureValue>\
         <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate>\
         </ds:X509Data></ds:KeyInfo></ds:Signature>",
        alg = signature_method(key),
        id = escape(id),
    )
}

/// Signs `xml`, whose first `ds:Signature` (in document order) is a template from
/// [`signature_template`], with `key`. Returns the document without its XML declaration, so
/// it can be embedded as it is (exclusive canonicalisation keeps the signature valid there).
pub fn sign(xml: &str, key: &SigningKey) -> Result<String, SamlError> {
    let der = key
        .pkey()
        .private_key_to_der()
        .map_err(SamlError::internal)?;
    let signed = XmlSec::sign_xml(xml, &der).map_err(SamlError::internal)?;
    Ok(strip_declaration(&signed).to_owned())
}

/// `xml` without a leading `<?xml ...?>` declaration and surrounding whitespace.
pub fn strip_declaration(xml: &str) -> &str {
    let t = xml.trim();
    match t.find("?>") {
        Some(end) if t.starts_with("<?xml") => t[end + 2..].trim(),
        _ => t,
    }
}

/// Verifies the enveloped signature of a message against the service provider's
/// certificates and returns only what the signature covers: the signed root element, whose ID
/// must be `root_id`. Exactly one signature is allowed, as a child of the root, referencing
/// the root: anything else (a wrapped or second signature) is refused.
pub fn verified_root(xml: &str, root_id: &str, certs: &[Vec<u8>]) -> Result<String, SamlError> {
    {
        let doc = parse(xml)?;
        let root = doc.root_element();
        let sigs: Vec<_> = doc
            .descendants()
            .filter(|n| is(*n, NS_DS, "Signature"))
            .collect();
        let [sig] = sigs.as_slice() else {
            return Err(SamlError::signature("exactly one signature is required"));
        };
        if sig.parent_element() != Some(root) {
            return Err(SamlError::signature(
                "the signature must sign the message itself",
            ));
        }
        let refs: Vec<_> = sig
            .descendants()
            .filter(|n| is(*n, NS_DS, "Reference"))
            .collect();
        let [reference] = refs.as_slice() else {
            return Err(SamlError::signature("exactly one reference is required"));
        };
        if reference.attribute("URI") != Some(&format!("#{root_id}")) {
            return Err(SamlError::signature(
                "the reference must point at the message",
            ));
        }
    }
    if certs.is_empty() {
        return Err(SamlError::signature("no signing certificate registered"));
    }
    let certs: Vec<CertificateDer> = certs.iter().cloned().map(CertificateDer::from).collect();
    let reduced = XmlSec::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        &certs,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(ACCEPTED_XML_ALGS),
    )
    .map_err(|e| SamlError::signature(format!("signature: {e}")))?;
    let doc = parse(&reduced)?;
    if doc.root_element().attribute("ID") != Some(root_id) {
        return Err(SamlError::signature(
            "the signed element is not the message",
        ));
    }
    Ok(reduced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }

    #[test]
    fn doctype_and_entities_are_refused_and_size_is_capped() {
        let dtd = "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>";
        assert!(checked_text(dtd.as_bytes(), 1000).is_err());
        assert!(checked_text(b"<r>ok</r>", 1000).is_ok());
        assert!(checked_text(b"<r>ok</r>", 5).is_err());
        assert!(checked_text(b"<r>unclosed", 1000).is_err());
        assert!(checked_text(b"<r><v>a<!---->b</v></r>", 1000).is_err());
        assert!(checked_text(b"<r><v>ab</v></r>", 1000).is_ok());
        assert!(checked_text(b"<r ID=\"_a\"><v ID=\"_a\"/></r>", 1000).is_err());
        assert!(checked_text(b"<r ID=\"_a\"><v ID=\"_b\"/></r>", 1000).is_ok());
    }

    #[test]
    fn declaration_is_stripped() {
        assert_eq!(strip_declaration("<?xml version=\"1.0\"?>\n<a/>\n"), "<a/>");
        assert_eq!(strip_declaration("<a/>"), "<a/>");
    }
}
