//! Single logout: SP-initiated over both bindings, propagated to the other SPs and the OIDC
//! clients of the session, and logout from pasarela's own pages.

use super::*;

#[tokio::test]
async fn saml_sp_initiated_logout_ends_the_session_and_answers_signed() {
    let f = Sp::start().await;
    let (session, cookie) = f.signed_in().await;
    let r = Req::new();
    let (xml_text, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
    let doc = roxmltree::Document::parse(&xml_text).unwrap();
    let name_id = doc
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();

    // Unsigned: refused, and the session lives on.
    let unsigned = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo1", &name_id, session.id.as_str()),
        Some("back"),
        &f.sp_key,
    )
    .unwrap();
    let unsigned = unsigned.split("&SigAlg=").next().unwrap();
    assert_eq!(
        f.get(&format!("/saml/slo?{unsigned}"), Some(&cookie))
            .await
            .status,
        400
    );
    // Another citizen's NameID: nothing ends.
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo2", "someone-else", session.id.as_str()),
        None,
        &f.sp_key,
    )
    .unwrap();
    assert_eq!(
        f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await.status,
        303
    );
    let engine = &f.server.state.engine;
    let live = engine.store.session(&session.id).await.unwrap().unwrap();
    assert!(live.ended_at.is_none());

    // Signed, right NameID and SessionIndex: the session ends, a signed LogoutResponse goes
    // back over Redirect with the RelayState, and the browser's cookie is cleared.
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo3", &name_id, session.id.as_str()),
        Some("back"),
        &f.sp_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, "https://sp.example.es/slo");
    let m = binding::redirect_decode(query, "SAMLResponse", 65_536).unwrap();
    assert_eq!(m.relay_state.as_deref(), Some("back"));
    let (alg, sig, signed) = m.signature.unwrap();
    let idp = f.server.state.keys.active(JwsAlg::RS256).unwrap();
    binding::verify_redirect(&alg, &sig, &signed, &[idp.certificate_der().to_vec()]).unwrap();
    assert!(m.xml.contains("InResponseTo=\"_lo3\""));
    assert_eq!(
        status_of(&m.xml),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    let ended = engine.store.session(&session.id).await.unwrap().unwrap();
    assert!(ended.ended_at.is_some());
    // Replayed: refused.
    assert_eq!(
        f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await.status,
        400
    );
}

#[tokio::test]
async fn saml_logout_is_propagated_to_the_other_sps_of_the_session() {
    let f = Sp::start().await;
    // A second SP with its own key.
    const SP2: &str = "https://sp2.example.es";
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let sp2_key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(sp2_key.certificate_der());
    let md = f.d.dir.path().join("sp2.xml");
    std::fs::write(&md, sp_metadata(SP2, &cert)).unwrap();
    f.d.cli_ok(&[
        "admin",
        "sp",
        "add",
        "--metadata",
        md.to_str().unwrap(),
        "--min-level",
        "low",
    ]);

    let (session, cookie) = f.signed_in().await;
    // SSO to both SPs in the same session.
    let r = Req::new();
    let (xml1, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
    let r2 = Req::new();
    let x2 = r2
        .xml(&sp2_key)
        .replace(
            "<saml:Issuer>https://sp.example.es</saml:Issuer>",
            &format!("<saml:Issuer>{SP2}</saml:Issuer>"),
        )
        .replace("https://sp.example.es/acs", &format!("{SP2}/acs"));
    let q2 = binding::redirect_encode("SAMLRequest", &x2, None, &sp2_key).unwrap();
    answer(&f.get(&format!("/saml/sso?{q2}"), Some(&cookie)).await);
    let name_id = roxmltree::Document::parse(&xml1)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();

    // SP 1 logs out: the browser is sent to SP 2 with a signed LogoutRequest.
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo9", &name_id, session.id.as_str()),
        Some("sp1-state"),
        &f.sp_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, format!("{SP2}/slo"));
    let m = binding::redirect_decode(query, "SAMLRequest", 65_536).unwrap();
    let (alg, sig, signed) = m.signature.unwrap();
    let idp = f.server.state.keys.active(JwsAlg::RS256).unwrap();
    binding::verify_redirect(&alg, &sig, &signed, &[idp.certificate_der().to_vec()]).unwrap();
    assert!(m.xml.contains(&format!(
        "<samlp:SessionIndex>{}</samlp:SessionIndex>",
        session.id.as_str()
    )));
    let request_id = roxmltree::Document::parse(&m.xml)
        .unwrap()
        .root_element()
        .attribute("ID")
        .unwrap()
        .to_owned();
    let relay = m.relay_state.unwrap();
    let ended = f
        .server
        .state
        .engine
        .store
        .session(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert!(ended.ended_at.is_some());

    // SP 2 answers; a LogoutResponse for another request is refused first.
    let logout_response = |irt: &str, id: &str| {
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
             ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"http://localhost:8080/saml/slo\" InResponseTo=\"{irt}\">\
             <saml:Issuer>{SP2}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
             </samlp:LogoutResponse>",
            now = xml::instant(chrono::Utc::now()),
        )
    };
    let wrong = binding::redirect_encode(
        "SAMLResponse",
        &logout_response("_other", "_r1"),
        Some(&relay),
        &sp2_key,
    )
    .unwrap();
    assert_eq!(f.get(&format!("/saml/slo?{wrong}"), None).await.status, 400);
    let right = binding::redirect_encode(
        "SAMLResponse",
        &logout_response(&request_id, "_r2"),
        Some(&relay),
        &sp2_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{right}"), None).await;
    // Then SP 1 gets its LogoutResponse, with its RelayState.
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, "https://sp.example.es/slo");
    let m = binding::redirect_decode(query, "SAMLResponse", 65_536).unwrap();
    assert!(m.xml.contains("InResponseTo=\"_lo9\""));
    assert_eq!(m.relay_state.as_deref(), Some("sp1-state"));
}

#[tokio::test]
async fn saml_logout_over_post_needs_the_enveloped_signature() {
    let f = Sp::start().await;
    let (session, cookie) = f.signed_in().await;
    let r = Req::new();
    let (xml1, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
    let name_id = roxmltree::Document::parse(&xml1)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();
    let post = |xml_text: String| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml_text);
        f.client
            .post(format!("{}/saml/slo", f.base()))
            .header("cookie", cookie.clone())
            .form(&[("SAMLRequest", b64.as_str()), ("RelayState", "r")])
            .send()
    };
    let with_template = |id: &str| {
        logout_request(id, &name_id, session.id.as_str()).replace(
            "<saml:NameID",
            &format!("{}<saml:NameID", xml::signature_template(id, &f.sp_key)),
        )
    };
    // Unsigned: refused, the session lives on.
    let res = post(logout_request("_lp1", &name_id, session.id.as_str()))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let engine = &f.server.state.engine;
    assert!(
        engine
            .store
            .session(&session.id)
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_none()
    );
    // Signed: the session ends and the answer goes to the SP's (Redirect) SLO endpoint.
    let res = post(f.signed(&with_template("_lp2"))).await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("https://sp.example.es/slo?SAMLResponse="),
        "{to}"
    );
    assert!(
        engine
            .store
            .session(&session.id)
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_some()
    );
}

#[tokio::test]
async fn saml_logout_from_pasarela_reaches_every_sp_and_ends_on_the_logged_out_page() {
    let f = Sp::start().await;
    let b = Browser::new(f.server.addr);
    let r = Req::new();
    let first = b.get(&f.sso_path(&r.xml(&f.sp_key), None)).await;
    let resumed = log_in_through_pages(&f.d, &b, &first, SP_PASSWORD).await;
    let (xml1, _) = answer(&resumed);
    assert_eq!(
        status_of(&xml1),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    let doc = roxmltree::Document::parse(&xml1).unwrap();
    let name_id = doc
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();
    let session_index = doc
        .descendants()
        .find(|n| n.has_tag_name("AuthnStatement"))
        .and_then(|n| n.attribute("SessionIndex"))
        .unwrap()
        .to_owned();

    let live = f
        .server
        .state
        .engine
        .store
        .citizen_sessions(f.citizen.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.ended_at.is_none())
        .unwrap();
    let rp = oidc_client_in_session(&f, &live.id, 1).await;
    // The account page's button posts to /logout.
    assert_eq!(b.get("/account").await.status, 200);
    let p = b.post("/logout", &[]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.unwrap();
    let (base, query) = to.split_once('?').unwrap();
    assert_eq!(base, format!("{SP}/slo"));
    let m = binding::redirect_decode(query, "SAMLRequest", 65_536).unwrap();
    let (alg, sig, signed) = m.signature.unwrap();
    let idp = f.server.state.keys.active(JwsAlg::RS256).unwrap();
    binding::verify_redirect(&alg, &sig, &signed, &[idp.certificate_der().to_vec()]).unwrap();
    assert!(m.xml.contains(&format!(
        "<samlp:SessionIndex>{session_index}</samlp:SessionIndex>"
    )));
    assert!(m.xml.contains(&name_id), "{}", m.xml);
    // The session is already over, on the server.
    let sessions = f
        .server
        .state
        .engine
        .store
        .citizen_sessions(f.citizen.id)
        .await
        .unwrap();
    assert!(!sessions.is_empty());
    assert!(sessions.iter().all(|s| s.ended_at.is_some()));
    assert_eq!(b.get("/account").await.status, 303);
    // The OIDC client of the session was told over the back channel.
    assert_eq!(logout_token_sid(&f, &rp).await, live.id.to_string());

    let request_id = roxmltree::Document::parse(&m.xml)
        .unwrap()
        .root_element()
        .attribute("ID")
        .unwrap()
        .to_owned();
    let relay = m.relay_state.unwrap();
    let logout_response = |irt: &str, id: &str| {
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
             ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"http://localhost:8080/saml/slo\" InResponseTo=\"{irt}\">\
             <saml:Issuer>{SP}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
             </samlp:LogoutResponse>",
            now = xml::instant(chrono::Utc::now()),
        )
    };
    // An answer to another request is refused; the right one ends on the logged-out page.
    let wrong = binding::redirect_encode(
        "SAMLResponse",
        &logout_response("_other", "_w1"),
        Some(&relay),
        &f.sp_key,
    )
    .unwrap();
    assert_eq!(b.get(&format!("/saml/slo?{wrong}")).await.status, 400);
    let right = binding::redirect_encode(
        "SAMLResponse",
        &logout_response(&request_id, "_w2"),
        Some(&relay),
        &f.sp_key,
    )
    .unwrap();
    let p = b.get(&format!("/saml/slo?{right}")).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/logout/done"));
    let done = b.follow(&p).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("role=\"status\""), "{}", done.body);
    // The chain is used once.
    assert_eq!(b.get(&format!("/saml/slo?{right}")).await.status, 400);
}

#[tokio::test]
async fn saml_logout_without_a_saml_sp_shows_the_logged_out_page_at_once() {
    let f = Sp::start().await;
    let b = Browser::new(f.server.addr);
    let p = Page {
        status: 303,
        location: Some("/login?continue=%2Faccount".into()),
        body: String::new(),
    };
    let account = log_in_through_pages(&f.d, &b, &p, SP_PASSWORD).await;
    assert_eq!(account.status, 200);
    let p = b.post("/logout", &[]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("role=\"status\""));
    assert_eq!(b.get("/account").await.status, 303);
}

/// An OIDC client `bc` with a back-channel logout URI on a local mock that expects `n`
/// logout tokens, recorded as served by `session`.
async fn oidc_client_in_session(
    f: &Sp,
    session: &pasarela::core::session::SessionId,
    n: u64,
) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let rp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bc"))
        .respond_with(ResponseTemplate::new(200))
        .expect(n)
        .mount(&rp)
        .await;
    let bc_uri = format!("{}/bc", rp.uri());
    f.d.cli_json(&[
        "admin",
        "client",
        "add",
        "bc",
        "--redirect-uri",
        "http://localhost:9999/cb",
        "--backchannel-logout-uri",
        &bc_uri,
    ]);
    f.server
        .state
        .engine
        .record_relying_party(session, "bc", "oidc")
        .await
        .unwrap();
    rp
}

/// The `sid` of the one logout token `rp` received.
async fn logout_token_sid(f: &Sp, rp: &wiremock::MockServer) -> String {
    let received = rp.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&received[0].body)
            .into_owned()
            .collect();
    let claims = pasarela::oidc::id_token::verify_own(
        &f.server.state.keys,
        "http://localhost:8080",
        &form["logout_token"],
    )
    .expect("signed by a published key");
    assert_eq!(claims["aud"], "bc");
    claims["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn saml_sp_initiated_logout_tells_the_oidc_clients_of_the_session() {
    let f = Sp::start().await;
    let (session, cookie) = f.signed_in().await;
    let rp = oidc_client_in_session(&f, &session.id, 1).await;
    let r = Req::new();
    let (xml1, _) = answer(&f.redirect(&r, None, Some(&cookie)).await);
    let name_id = roxmltree::Document::parse(&xml1)
        .unwrap()
        .descendants()
        .find(|n| n.has_tag_name("NameID"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();
    // Nothing is sent before the logout.
    assert!(rp.received_requests().await.unwrap().is_empty());
    let q = binding::redirect_encode(
        "SAMLRequest",
        &logout_request("_lo_oidc", &name_id, session.id.as_str()),
        None,
        &f.sp_key,
    )
    .unwrap();
    let p = f.get(&format!("/saml/slo?{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(logout_token_sid(&f, &rp).await, session.id.to_string());
}
