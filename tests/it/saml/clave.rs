//! Cl@ve requested attributes: excluded IdPs restrict the login methods.

use super::*;

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

#[tokio::test]
async fn saml_clave_excluded_idps_restrict_the_login_methods() {
    let f = Sp::start().await;
    let (_, cookie) = f.signed_in().await;
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
    let (xml_text, _) = answer(&f.get(&f.sso_path(&x, None), Some(&cookie)).await);
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
    let p = f
        .get(
            &f.sso_path(&with_clave(&r.xml(&f.sp_key), &excluded("GISSIdP")), None),
            Some(&cookie),
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.unwrap();
    assert!(to.starts_with("/login?continue="), "{to}");
    assert!(to.ends_with("&methods=otp,hwk"), "{to}");
    // Lucía has no authenticator app: the login cannot go on, and no SMS is sent.
    let b = Browser::new(f.server.addr);
    assert_eq!(b.get(&to).await.status, 200);
    let sent = f.d.sms_to("+34600111222").len();
    let p = b.type_password(SP_PASSWORD).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("role=\"alert\""), "{}", p.body);
    assert_eq!(f.d.sms_to("+34600111222").len(), sent);
    // Paired: the same login without the restriction goes on to the SMS code.
    let b = Browser::new(f.server.addr);
    let plain = to.replace("&methods=otp,hwk", "");
    assert_eq!(b.get(&plain).await.status, 200);
    let p = b.type_password(SP_PASSWORD).await;
    assert_eq!(p.location.as_deref(), Some("/login/code"), "{}", p.body);
    assert_eq!(f.d.sms_to("+34600111222").len(), sent + 1);

    // Excluding GISSIdP and CLVMOVILIdP leaves no method reaching any level: a SAML error,
    // never a login.
    let r = Req::new();
    let x = with_clave(
        &r.xml(&f.sp_key),
        &format!("{}{}", excluded("GISSIdP"), excluded("CLVMOVILIdP")),
    );
    let (xml_text, relay) = answer(&f.get(&f.sso_path(&x, Some("rs")), Some(&cookie)).await);
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
async fn saml_clave_excluding_giss_forces_a_new_login_with_the_app_only() {
    use pasarela::core::credentials::TotpSecret;
    let f = Sp::start().await;
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
    let p = b.type_password(SP_PASSWORD).await;
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
    let p = b
        .get(&f.sso_path(&with_clave(&r.xml(&f.sp_key), &excluded("GISSIdP")), None))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let login = p.location.unwrap();
    assert!(login.ends_with("&methods=otp,hwk"), "{login}");
    assert_eq!(b.get(&login).await.status, 200);
    let sent = f.d.sms_to("+34600111222").len();
    let p = b.type_password(SP_PASSWORD).await;
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
