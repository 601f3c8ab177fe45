//! EncryptedAssertion for service providers that ask for it: the signed assertion encrypted
//! with a fresh AES-256-GCM key, the key wrapped with RSA-OAEP-MGF1P (SHA-1 OAEP digest and
//! MGF1, the variant Debian's xmlsec and the SP libraries built on it understand) for the SP's
//! encryption certificate. Built with OpenSSL; samael can decrypt but not encrypt.

use super::error::SamlError;
use super::xml::NS_DS;
use base64::Engine as _;
use openssl::rsa::Padding;
use openssl::symm::{Cipher, encrypt_aead};
use openssl::x509::X509;

const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const GCM_IV: usize = 12;
const GCM_TAG: usize = 16;

/// `<saml:EncryptedAssertion>` holding `assertion` (signed XML) for the certificate `cert_der`.
pub fn encrypted_assertion(assertion: &str, cert_der: &[u8]) -> Result<String, SamlError> {
    let cert = X509::from_der(cert_der).map_err(SamlError::internal)?;
    let rsa = cert
        .public_key()
        .and_then(|k| k.rsa())
        .map_err(|_| SamlError::internal("the SP's encryption certificate is not RSA"))?;
    let key = crate::core::random::bytes(32).map_err(SamlError::internal)?;
    let iv = crate::core::random::bytes(GCM_IV).map_err(SamlError::internal)?;
    let mut tag = [0u8; GCM_TAG];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        &key,
        Some(&iv),
        &[],
        assertion.as_bytes(),
        &mut tag,
    )
    .map_err(SamlError::internal)?;
    let mut wrapped = vec![0u8; usize::try_from(rsa.size()).map_err(SamlError::internal)?];
    let n = rsa
        .public_encrypt(&key, &mut wrapped, Padding::PKCS1_OAEP)
        .map_err(SamlError::internal)?;
    wrapped.truncate(n);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let data = [iv.as_slice(), &ciphertext, &tag].concat();
    Ok(format!(
        "<saml:EncryptedAssertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">\
         <xenc:EncryptedData xmlns:xenc=\"{NS_XENC}\" Type=\"{NS_XENC}Element\">\
         <xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>\
         <ds:KeyInfo xmlns:ds=\"{NS_DS}\"><xenc:EncryptedKey>\
         <xenc:EncryptionMethod Algorithm=\"{NS_XENC}rsa-oaep-mgf1p\">\
         <ds:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/></xenc:EncryptionMethod>\
         <xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData>\
         </xenc:EncryptedKey></ds:KeyInfo>\
         <xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData>\
         </xenc:EncryptedData></saml:EncryptedAssertion>",
        key = b64(&wrapped),
        data = b64(&data),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::symm::decrypt_aead;

    #[test]
    fn the_recipient_key_opens_what_was_sealed() {
        let ring = crate::core::keys::KeyRing::in_memory(chrono::Utc::now()).unwrap();
        let key = ring.active(crate::core::keys::JwsAlg::RS256).unwrap();
        let out = encrypted_assertion("<a>secret</a>", key.certificate_der()).unwrap();
        assert!(!out.contains("secret"));
        let doc = roxmltree::Document::parse(&out).unwrap();
        let values: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name((NS_XENC, "CipherValue")))
            .map(|n| {
                base64::engine::general_purpose::STANDARD
                    .decode(n.text().unwrap())
                    .unwrap()
            })
            .collect();
        let rsa = key.pkey().rsa().unwrap();
        let mut aes = vec![0; rsa.size() as usize];
        let n = rsa
            .private_decrypt(&values[0], &mut aes, Padding::PKCS1_OAEP)
            .unwrap();
        let d = &values[1];
        let plain = decrypt_aead(
            Cipher::aes_256_gcm(),
            &aes[..n],
            Some(&d[..GCM_IV]),
            &[],
            &d[GCM_IV..d.len() - GCM_TAG],
            &d[d.len() - GCM_TAG..],
        )
        .unwrap();
        assert_eq!(plain, b"<a>secret</a>");
        // An EC certificate cannot receive an encrypted assertion.
        let ec = ring.active(crate::core::keys::JwsAlg::ES256).unwrap();
        assert!(encrypted_assertion("<a/>", ec.certificate_der()).is_err());
    }
}
