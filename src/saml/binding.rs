//! The HTTP-Redirect and HTTP-POST bindings: decoding (size-capped, inflate-capped),
//! verifying a Redirect signature over the exact query bytes received, encoding answers, and
//! the auto-submitting form.

use super::error::SamlError;
use super::xml::{self, ALG_ECDSA_SHA256, ALG_RSA_SHA256};
use crate::core::keys::{JwsAlg, SigningKey, verify_signature};
use base64::Engine as _;
use std::io::Read;

/// A message received over HTTP-Redirect.
#[derive(Debug)]
pub struct RedirectMessage {
    /// The inflated XML, checked by [`xml::checked_text`].
    pub xml: String,
    /// RelayState, decoded.
    pub relay_state: Option<String>,
    /// `(SigAlg, Signature, signed bytes)` when the query carries a signature.
    pub signature: Option<(String, Vec<u8>, String)>,
}

fn decode_component(raw: &str) -> String {
    // Query values are form-encoded: `+` is a space, `%2B` a plus.
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn b64(text: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = text.split_ascii_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| SamlError::malformed("not base64"))
}

/// Decodes `param` (`SAMLRequest` or `SAMLResponse`) from a raw query string, keeping the raw
/// bytes the signature covers: `param=..&RelayState=..&SigAlg=..` exactly as sent.
pub fn redirect_decode(
    raw_query: &str,
    param: &str,
    max: usize,
) -> Result<RedirectMessage, SamlError> {
    let (mut message, mut relay, mut sig_alg, mut signature) = (None, None, None, None);
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match name {
            n if n == param => &mut message,
            "RelayState" => &mut relay,
            "SigAlg" => &mut sig_alg,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(SamlError::malformed(format!("repeated {name}")));
        }
    }
    let raw_message = message.ok_or_else(|| SamlError::malformed(format!("no {param}")))?;
    let deflated = b64(&decode_component(raw_message))?;
    if deflated.len() > max {
        return Err(SamlError::malformed("message too large"));
    }
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .take(max as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|_| SamlError::malformed("not DEFLATE"))?;
    if inflated.len() > max {
        return Err(SamlError::malformed("inflated message too large"));
    }
    let xml = xml::checked_text(&inflated, max)?;
    let signature = match (sig_alg, signature) {
        (Some(alg), Some(sig)) => {
            let mut signed = format!("{param}={raw_message}");
            if let Some(r) = relay {
                signed.push_str(&format!("&RelayState={r}"));
            }
            signed.push_str(&format!("&SigAlg={alg}"));
            Some((decode_component(alg), b64(&decode_component(sig))?, signed))
        }
        (None, None) => None,
        _ => return Err(SamlError::signature("SigAlg and Signature go together")),
    };
    Ok(RedirectMessage {
        xml,
        relay_state: relay.map(decode_component),
        signature,
    })
}

/// Verifies a Redirect-binding signature against any of `certs` (DER).
pub fn verify_redirect(
    alg: &str,
    sig: &[u8],
    signed: &str,
    certs: &[Vec<u8>],
) -> Result<(), SamlError> {
    let jws = match alg {
        ALG_RSA_SHA256 => JwsAlg::RS256,
        ALG_ECDSA_SHA256 => JwsAlg::ES256,
        _ => return Err(SamlError::signature("signature algorithm not accepted")),
    };
    let ok = certs.iter().any(|der| {
        openssl::x509::X509::from_der(der)
            .and_then(|c| c.public_key())
            .is_ok_and(|key| {
                verify_signature(&key, jws, signed.as_bytes(), sig)
                    || (jws == JwsAlg::ES256 && verify_der_ecdsa(&key, signed, sig))
            })
    });
    if ok {
        Ok(())
    } else {
        Err(SamlError::signature("Redirect signature does not verify"))
    }
}

fn verify_der_ecdsa(
    key: &openssl::pkey::PKey<openssl::pkey::Public>,
    signed: &str,
    sig: &[u8],
) -> bool {
    openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), key)
        .and_then(|mut v| {
            v.update(signed.as_bytes())?;
            v.verify(sig)
        })
        .unwrap_or(false)
}

/// Decodes a message posted over HTTP-POST (base64, size-capped, checked XML).
pub fn post_decode(value: &str, max: usize) -> Result<String, SamlError> {
    if value.len() > max.saturating_mul(4) / 3 + 4 {
        return Err(SamlError::malformed("message too large"));
    }
    xml::checked_text(&b64(value)?, max)
}

/// Percent-encodes a query value: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// stay, a space becomes `+`, every other byte is `%XX`. Python's `urlencode` (pysaml2,
/// python3-saml) encodes the same way, and SP libraries that check a Redirect signature over
/// a query they re-encode themselves (pysaml2 does) only accept a query encoded like theirs;
/// the WHATWG form encoding differs on `~` and `*`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Encodes a message for HTTP-Redirect and signs the query with `key`: returns the query
/// string (without `?`).
pub fn redirect_encode(
    param: &str,
    xml_text: &str,
    relay_state: Option<&str>,
    key: &SigningKey,
) -> Result<String, SamlError> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml_text.as_bytes())
        .map_err(SamlError::internal)?;
    let deflated = enc.finish().map_err(SamlError::internal)?;
    let q = query_escape;
    let mut query = format!(
        "{param}={}",
        q(&base64::engine::general_purpose::STANDARD.encode(deflated))
    );
    if let Some(r) = relay_state {
        query.push_str(&format!("&RelayState={}", q(r)));
    }
    let (alg, jws) = match key.family() {
        crate::core::keys::KeyFamily::Rsa => (ALG_RSA_SHA256, JwsAlg::RS256),
        crate::core::keys::KeyFamily::Ec => (ALG_ECDSA_SHA256, JwsAlg::ES256),
    };
    query.push_str(&format!("&SigAlg={}", q(alg)));
    let sig = key.sign(jws, query.as_bytes())?;
    query.push_str(&format!(
        "&Signature={}",
        q(&base64::engine::general_purpose::STANDARD.encode(sig))
    ));
    Ok(query)
}

/// The origin (`scheme://host[:port]`) of a URL, for the form's Content-Security-Policy.
fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "'none'".into())
}

/// An HTTP-POST binding page: a form that posts `param` (and RelayState) to `action`,
/// submitted by a tiny script where scripts run and by its visible button where they do not.
/// Returns the page and its Content-Security-Policy (the script is allowed by its nonce, the
/// form only towards the destination's origin).
pub fn post_form(
    action: &str,
    param: &str,
    xml_text: &str,
    relay_state: Option<&str>,
) -> Result<(String, String), SamlError> {
    let nonce = crate::core::random::token(16).map_err(SamlError::internal)?;
    let value = base64::engine::general_purpose::STANDARD.encode(xml_text.as_bytes());
    let relay = relay_state
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">",
                xml::escape(r)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"utf-8\">\
         <title>pasarela</title><link rel=\"stylesheet\" href=\"/static/pasarela.css\"></head>\
         <body><main><form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"{param}\" value=\"{value}\">{relay}\
         <p>Pulse el botón para volver al servicio. · Premeu el botó per tornar al servei. · \
         Press the button to return to the service.</p>\
         <button type=\"submit\">Continuar / Continue</button></form></main>\
         <script nonce=\"{nonce}\">document.forms[0].submit();</script></body></html>",
        action = xml::escape(action),
    );
    let csp = format!(
        "default-src 'none'; style-src 'self'; script-src 'nonce-{nonce}'; \
         form-action {}; base-uri 'none'; frame-ancestors 'none'",
        origin(action)
    );
    Ok((html, csp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> String {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        let b = base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap());
        url::form_urlencoded::byte_serialize(b.as_bytes()).collect()
    }

    #[test]
    fn query_values_are_encoded_like_python_urlencode() {
        // Python: urllib.parse.urlencode({"v": "a~b*c d/é+"}) == "v=a~b%2Ac+d%2F%C3%A9%2B"
        assert_eq!(query_escape("a~b*c d/é+"), "a~b%2Ac+d%2F%C3%A9%2B");
        assert_eq!(decode_component(&query_escape("a~b*c d/é+")), "a~b*c d/é+");
    }

    #[test]
    fn a_deflate_bomb_is_refused_and_a_small_message_passes() {
        let bomb = format!("<a>{}</a>", " ".repeat(10_000_000));
        let q = format!("SAMLRequest={}", deflate(bomb.as_bytes()));
        assert!(redirect_decode(&q, "SAMLRequest", 65_536).is_err());
        let q = format!("SAMLRequest={}&RelayState=a+b%7E", deflate(b"<a/>"));
        let m = redirect_decode(&q, "SAMLRequest", 65_536).unwrap();
        assert_eq!(m.xml, "<a/>");
        assert_eq!(m.relay_state.as_deref(), Some("a b~"));
    }

    #[test]
    fn a_missing_sigalg_is_an_error_not_a_panic() {
        let q = format!("SAMLRequest={}&Signature=AAAA", deflate(b"<a/>"));
        assert!(redirect_decode(&q, "SAMLRequest", 65_536).is_err());
    }

    #[test]
    fn redirect_signatures_verify_over_the_bytes_as_sent() {
        let ring = crate::core::keys::KeyRing::in_memory(chrono::Utc::now()).unwrap();
        for alg in [JwsAlg::RS256, JwsAlg::ES256] {
            let key = ring.active(alg).unwrap();
            let q = redirect_encode("SAMLRequest", "<a/>", Some("x ~*"), &key).unwrap();
            let m = redirect_decode(&q, "SAMLRequest", 65_536).unwrap();
            let (a, s, signed) = m.signature.unwrap();
            let certs = vec![key.certificate_der().to_vec()];
            verify_redirect(&a, &s, &signed, &certs).unwrap();
            // Another encoding of the same RelayState is other bytes: not what was signed.
            let tampered = signed.replace("RelayState=x+", "RelayState=x%20");
            assert!(verify_redirect(&a, &s, &tampered, &certs).is_err());
        }
    }

    #[test]
    fn the_form_posts_without_javascript() {
        let (html, csp) = post_form(
            "https://sp.example/acs",
            "SAMLResponse",
            "<r/>",
            Some("a\"b"),
        )
        .unwrap();
        assert!(html.contains("<button type=\"submit\">"));
        assert!(html.contains("value=\"a&quot;b\""));
        assert!(csp.contains("form-action https://sp.example;"));
    }
}
