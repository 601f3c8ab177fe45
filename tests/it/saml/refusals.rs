//! Requests refused, each paired with an accepted one that differs only by the defect:
//! unsigned, wrong destination or ACS, replayed, wrapped, DTDs and deflate bombs, comments in
//! signed values, duplicate IDs, another SP type.

use super::*;

#[tokio::test]
async fn saml_unsigned_requests_are_refused() {
    let f = Sp::start().await;
    let (_, cookie) = f.signed_in().await;
    // Redirect: the same request without SigAlg/Signature.
    let r = Req::new();
    let signed_q = f.redirect_query(&r.xml(&f.sp_key), None);
    let unsigned_q = signed_q.split("&SigAlg=").next().unwrap().to_owned();
    assert_eq!(
        f.get(&format!("/saml/sso?{unsigned_q}"), Some(&cookie))
            .await
            .status,
        400
    );
    assert_eq!(
        f.get(&format!("/saml/sso?{signed_q}"), Some(&cookie))
            .await
            .status,
        200
    );
    // POST: the same request without its enveloped signature.
    let mut r = Req::new();
    assert_eq!(
        f.post_sso(&r.xml(&f.sp_key), None, Some(&cookie))
            .await
            .status,
        400
    );
    r.signature = true;
    assert_eq!(f.post(&r, None, Some(&cookie)).await.status, 200);
}

#[tokio::test]
async fn saml_wrong_destination_wrong_acs_and_replays_are_refused() {
    let f = Sp::start().await;
    let (_, cookie) = f.signed_in().await;
    let send = |r: &Req| f.redirect_query(&r.xml(&f.sp_key), None);
    // Destination.
    let mut r = Req::new();
    r.destination = "http://localhost:8080/saml/other";
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        400
    );
    r.destination = DEST;
    r.id = Req::new().id;
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        200
    );
    // ACS URL not in the metadata vs. the second registered one.
    let mut r = Req::new();
    r.acs = Some("https://evil.example/acs");
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        400
    );
    r.acs = Some("https://sp.example.es/acs2");
    r.id = Req::new().id;
    let p = f
        .get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
        .await;
    assert!(p.body.contains("action=\"https://sp.example.es/acs2\""));
    // ACS index: 1 is registered, 7 is not.
    let mut r = Req::new();
    r.acs = None;
    r.acs_index = Some(7);
    assert_eq!(
        f.get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
            .await
            .status,
        400
    );
    r.acs_index = Some(1);
    r.id = Req::new().id;
    let p = f
        .get(&format!("/saml/sso?{}", send(&r)), Some(&cookie))
        .await;
    assert!(p.body.contains("action=\"https://sp.example.es/acs2\""));
    // Replay: the very same signed request twice.
    let q = send(&Req::new());
    assert_eq!(
        f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
        200
    );
    assert_eq!(
        f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
        400
    );
}

#[tokio::test]
async fn saml_a_wrapped_request_is_refused() {
    let f = Sp::start().await;
    let (_, cookie) = f.signed_in().await;
    let mut inner = Req::new();
    inner.signature = true;
    let signed = f.signed(&inner.xml(&f.sp_key));
    // The signed request hidden inside an unsigned one with another ID and ACS.
    let mut outer = Req::new();
    outer.acs = Some("https://sp.example.es/acs2");
    let wrapper = outer.xml(&f.sp_key).replacen(
        "<samlp:Extensions>",
        &format!("<samlp:Extensions>{signed}"),
        1,
    );
    assert_eq!(f.post_sso(&wrapper, None, Some(&cookie)).await.status, 400);
    assert_eq!(f.post_sso(&signed, None, Some(&cookie)).await.status, 200);
}

#[tokio::test]
async fn saml_dtds_and_deflate_bombs_are_refused() {
    let f = Sp::start().await;
    let mut r = Req::new();
    r.signature = true;
    let signed = f.signed(&r.xml(&f.sp_key));
    let with_dtd = format!("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{signed}");
    assert_eq!(f.post_sso(&with_dtd, None, None).await.status, 400);
    let bomb = format!("<a>{}</a>", " ".repeat(5_000_000));
    let q = binding::redirect_encode("SAMLRequest", &bomb, None, &f.sp_key).unwrap();
    assert_eq!(f.get(&format!("/saml/sso?{q}"), None).await.status, 400);
}

#[tokio::test]
async fn saml_comments_in_signed_values_and_duplicate_ids_are_refused() {
    let f = Sp::start().await;
    let (_, cookie) = f.signed_in().await;
    // A comment inside the signed Issuer (the signature, over exclusive c14n without
    // comments, still verifies): refused; the same request without it: accepted.
    let mut r = Req::new();
    r.signature = true;
    let commented = r.xml(&f.sp_key).replace(
        "<saml:Issuer>https://sp.example.es</saml:Issuer>",
        "<saml:Issuer>https://sp.example.es<!-- x --></saml:Issuer>",
    );
    assert_eq!(
        f.post_sso(&f.signed(&commented), None, Some(&cookie))
            .await
            .status,
        400
    );
    let mut r = Req::new();
    r.signature = true;
    assert_eq!(f.post(&r, None, Some(&cookie)).await.status, 200);
    // A second element carrying the request's ID: refused; another ID: accepted.
    for (dup, status) in [(true, 400), (false, 200)] {
        let mut r = Req::new();
        r.signature = true;
        let other = if dup {
            r.id.clone()
        } else {
            format!("{}x", r.id)
        };
        let x = r.xml(&f.sp_key).replace(
            "<eidas:SPType>",
            &format!("<eidas:Other xmlns:eidas=\"http://eidas.europa.eu/saml-extensions\" ID=\"{other}\"/><eidas:SPType>"),
        );
        // Signed as it is: the signature covers the duplicate too.
        let signed = f.signed(&x);
        assert_eq!(
            f.post_sso(&signed, None, Some(&cookie)).await.status,
            status,
            "dup={dup}"
        );
    }
}

#[tokio::test]
async fn saml_an_sp_type_other_than_the_registered_one_is_refused() {
    let f = Sp::start().await;
    let (_, cookie) = f.signed_in().await;
    for (sp_type, status) in [("private", 400), ("public", 200)] {
        let r = Req::new();
        let x = r.xml(&f.sp_key).replace(
            "<eidas:SPType>public</eidas:SPType>",
            &format!("<eidas:SPType>{sp_type}</eidas:SPType>"),
        );
        let q = f.redirect_query(&x, None);
        assert_eq!(
            f.get(&format!("/saml/sso?{q}"), Some(&cookie)).await.status,
            status
        );
    }
}
