//! Unit tests of dynamic registration: metadata parsing, the client it becomes, and the
//! sector document check.

use super::*;

fn new_client(body: Value) -> Result<NewClient, RegError> {
    let meta = parse(body.to_string().as_bytes())?;
    to_new_client(meta, "abc".into(), LevelOfAssurance::Low)
}

#[test]
fn a_conformance_registration_becomes_a_confidential_client() {
    let new = new_client(json!({
        "redirect_uris": ["https://rp.example/cb"],
        "response_types": ["code"],
        "grant_types": ["authorization_code"],
        "client_name": "suite",
        "contacts": ["me@rp.example"],
        "id_token_signed_response_alg": "ES256",
        "request_object_signing_alg": "none",
        "post_logout_redirect_uris": ["https://rp.example/bye"],
        "frontchannel_logout_uri": "https://rp.example/fc",
        "frontchannel_logout_session_required": true,
        "default_max_age": 300,
        "client_name#ja-Jpan-JP": "ignored",
    }))
    .unwrap();
    assert_eq!(new.auth_method, ClientAuthMethod::ClientSecretBasic);
    assert_eq!(new.id_token_alg, JwsAlg::ES256);
    assert_eq!(new.request_object_signing_alg.as_deref(), Some("none"));
    assert!(!new.skip_consent);
    assert_eq!(new.registered_by.as_deref(), Some("dynamic"));
    let (rp, secret) = new.build().unwrap();
    assert!(secret.is_some());
    let client = OidcClient::from_relying_party(rp).unwrap().unwrap();
    let out = describe(&client, "https://idp.example");
    assert_eq!(out["client_id"], "abc");
    assert_eq!(out["client_name"], "suite");
    assert_eq!(out["grant_types"], json!(["authorization_code"]));
    assert_eq!(out["frontchannel_logout_session_required"], true);
    assert_eq!(
        out["registration_client_uri"],
        "https://idp.example/oidc/register/abc"
    );
    assert!(out.get("client_secret").is_none());
    assert!(out.get("jwks_uri").is_none());
}

#[test]
fn implicit_response_types_bring_the_implicit_grant() {
    let new = new_client(json!({
        "redirect_uris": ["https://rp.example/cb"],
        "response_types": ["code id_token"],
    }))
    .unwrap();
    assert_eq!(
        new.grant_types,
        [GrantType::AuthorizationCode, GrantType::Implicit]
    );
    assert!(new.build().is_ok());
}

#[test]
fn bad_redirect_uris_are_invalid_redirect_uri() {
    for body in [
        json!({}),
        json!({ "redirect_uris": [] }),
        json!({ "redirect_uris": ["https://rp.example/cb#frag"] }),
        json!({ "redirect_uris": ["http://rp.example/cb"] }),
        json!({ "redirect_uris": ["not a uri"] }),
    ] {
        let err = new_client(body.clone()).unwrap_err();
        assert_eq!(err.code, "invalid_redirect_uri", "{body}");
    }
}

#[test]
fn bad_metadata_is_invalid_client_metadata() {
    for body in [
        json!({ "redirect_uris": "https://rp.example/cb" }),
        json!({ "redirect_uris": ["https://rp.example/cb"], "grant_types": ["password"] }),
        json!({ "redirect_uris": ["https://rp.example/cb"], "subject_type": "secret" }),
        json!({ "redirect_uris": ["https://rp.example/cb"], "token_endpoint_auth_method": "tls_client_auth" }),
        json!({ "redirect_uris": ["https://rp.example/cb"], "id_token_signed_response_alg": "none" }),
        json!({ "redirect_uris": ["https://rp.example/cb"], "id_token_encrypted_response_alg": "RSA-OAEP" }),
        json!(["https://rp.example/cb"]),
    ] {
        let err = new_client(body.clone()).unwrap_err();
        assert_eq!(err.code, "invalid_client_metadata", "{body}");
    }
    assert_eq!(parse(b"nope").unwrap_err().code, "invalid_client_metadata");
    // Left to NewClient::build: a response type without its grant.
    let new = new_client(json!({
        "redirect_uris": ["https://rp.example/cb"],
        "response_types": ["id_token"],
        "grant_types": ["authorization_code"],
    }))
    .unwrap();
    assert!(new.build().is_err());
}

#[test]
fn the_sector_document_must_list_every_redirect_uri() {
    let uris = vec![
        "https://a.example/cb".to_owned(),
        "https://b.example/cb".to_owned(),
    ];
    let both = br#"["https://a.example/cb","https://b.example/cb","https://c.example/cb"]"#;
    assert!(sector_lists_redirects(both, &uris).is_ok());
    let one = br#"["https://a.example/cb"]"#;
    assert_eq!(
        sector_lists_redirects(one, &uris).unwrap_err().code,
        "invalid_client_metadata"
    );
    assert!(sector_lists_redirects(b"{}", &uris).is_err());
}

#[test]
fn bearer_tokens_are_read_from_the_header() {
    let mut h = HeaderMap::new();
    assert_eq!(bearer(&h), None);
    h.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer abc"),
    );
    assert_eq!(bearer(&h), Some("abc"));
    h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
    assert_eq!(bearer(&h), None);
    assert!(hash_matches("abc", &secret_hash("abc")));
    assert!(!hash_matches("abd", &secret_hash("abc")));
}
