//! Encrypted assertions and ECDSA signatures for the SPs that ask for them.

use super::*;

#[tokio::test]
async fn saml_encrypted_assertions_open_with_the_sp_key_and_keep_their_signature() {
    let f = Sp::with(&["--encrypt"]).await;
    let (session, cookie) = f.signed_in().await;
    let r = Req::new();
    let (xml_text, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
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
    let f = Sp::with(&["--sign-with-ec"]).await;
    let (session, cookie) = f.signed_in().await;
    let r = Req::new();
    let (xml_text, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
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
