//! Metadata and SSO over both bindings: signed answers, RelayState, levels, `IsPassive` and
//! `ForceAuthn`.

use super::*;

#[tokio::test]
async fn saml_metadata_is_signed_and_complete() {
    let f = Sp::start().await;
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

#[tokio::test]
async fn saml_sso_over_post_answers_a_signed_response_and_echoes_relay_state() {
    let f = Sp::start().await;
    let (session, cookie) = f.signed_in().await;
    let mut r = Req::new();
    r.signature = true;
    let relay = "a ~*b &\"<x>' %41+";
    let p = f.post(&r, Some(relay), Some(&cookie)).await;
    let (xml_text, echoed) = answer(&p);
    assert_eq!(echoed.as_deref(), Some(relay));
    check_success(&f, &xml_text, &r.id, &session, "substantial");
    let csp = p.body.contains("<button type=\"submit\"");
    assert!(csp, "the form works without JavaScript");
}

#[tokio::test]
async fn saml_sso_over_redirect_answers_a_signed_response_and_echoes_relay_state() {
    let f = Sp::start().await;
    let (session, cookie) = f.signed_in().await;
    let r = Req::new();
    let relay = "ruta ~ con *estrellas* y espacios";
    let p = f.redirect(&r, Some(relay), Some(&cookie)).await;
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
async fn saml_high_from_a_password_and_sms_session_is_no_authn_context() {
    let f = Sp::start().await;
    let (session, cookie) = f.signed_in().await;
    let mut r = Req::new();
    r.context = Some(("minimum", "high"));
    let (xml_text, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
    );
    assert!(!xml_text.contains("Assertion"));
    let mut r = Req::new();
    r.context = Some(("minimum", "substantial"));
    let (xml_text, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
    check_success(&f, &xml_text, &r.id, &session, "substantial");
    // exact low does not accept a substantial session, maximum substantial does.
    let mut r = Req::new();
    r.context = Some(("maximum", "substantial"));
    let (xml_text, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
}

#[tokio::test]
async fn saml_without_a_session_passive_is_no_passive_and_otherwise_login_then_resume() {
    let f = Sp::start().await;
    let mut r = Req::new();
    r.passive = true;
    let (xml_text, relay) = answer(&f.redirect(&r, Some("rs"), None).await);
    assert_eq!(
        status_of(&xml_text),
        "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
    );
    assert_eq!(relay.as_deref(), Some("rs"));

    let r = Req::new();
    let p = f.redirect(&r, Some("rs"), None).await;
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
    let f = Sp::start().await;
    let (_, cookie) = f.signed_in().await;
    let mut r = Req::new();
    r.force = true;
    let p = f.redirect(&r, None, Some(&cookie)).await;
    assert_eq!(p.status, 303);
    let r = Req::new();
    let q = f.redirect_query(&r.xml(&f.sp_key), None);
    assert_eq!(
        f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
        200
    );
}
