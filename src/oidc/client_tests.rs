//! Unit tests of the OIDC client model: registration input, stored form and secrets.

use super::*;

fn new_client(auth: ClientAuthMethod) -> NewClient {
    NewClient {
        id: "sede".into(),
        display_name: "Sede".into(),
        redirect_uris: vec!["https://rp.example/cb?x=1".into()],
        post_logout_redirect_uris: vec!["https://rp.example/bye".into()],
        backchannel_logout_uri: None,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        auth_method: auth,
        id_token_alg: JwsAlg::ES256,
        min_level: LevelOfAssurance::Substantial,
        skip_consent: true,
        ..Default::default()
    }
}

#[test]
fn a_confidential_client_gets_a_secret_kept_only_as_a_hash() {
    let (rp, secret) = new_client(ClientAuthMethod::ClientSecretBasic)
        .build()
        .unwrap();
    let secret = secret.unwrap();
    assert!(secret.len() >= 43);
    let body = serde_json::to_string(&rp).unwrap();
    assert!(!body.contains(&secret));
    let client = OidcClient::from_relying_party(rp).unwrap().unwrap();
    assert!(client.secret_matches(&secret));
    assert!(!client.secret_matches("wrong"));
    assert!(client.has_redirect_uri("https://rp.example/cb?x=1"));
    assert!(!client.has_redirect_uri("https://rp.example/cb"));
    assert!(!client.has_redirect_uri("https://rp.example/cb?x=1&y=2"));
    assert!(client.has_post_logout_redirect_uri("https://rp.example/bye"));
    assert_eq!(client.settings.id_token_signed_response_alg, JwsAlg::ES256);
}

#[test]
fn implicit_only_clients_get_no_code() {
    let implicit = |response_types: &[&str]| NewClient {
        grant_types: vec![GrantType::Implicit],
        response_types: response_types.iter().map(|t| (*t).to_owned()).collect(),
        ..new_client(ClientAuthMethod::ClientSecretBasic)
    };
    let (rp, _) = implicit(&["id_token"]).build().unwrap();
    let client = OidcClient::from_relying_party(rp).unwrap().unwrap();
    assert!(client.allows_response_type("id_token"));
    assert!(!client.allows_response_type("code"));
    assert!(!client.allows_grant(GrantType::AuthorizationCode));
    // No code response type for it, and none by default.
    for bad in [&["code"][..], &["id_token", "code id_token"], &[]] {
        assert!(implicit(bad).build().is_err(), "{bad:?}");
    }
    // Implicit beside other grants still needs the code grant.
    let mut mixed = implicit(&["id_token"]);
    mixed.grant_types.push(GrantType::RefreshToken);
    assert!(mixed.build().is_err());
}

#[test]
fn a_public_client_has_no_secret() {
    let (rp, secret) = new_client(ClientAuthMethod::None).build().unwrap();
    assert!(secret.is_none());
    let client = OidcClient::from_relying_party(rp).unwrap().unwrap();
    assert!(client.is_public());
    assert!(!client.secret_matches(""));
}

#[test]
fn bad_uris_are_refused() {
    for bad in [
        "https://rp.example/cb#frag",
        "http://rp.example/cb",
        "not a uri",
        "javascript:alert(1)",
    ] {
        let mut c = new_client(ClientAuthMethod::None);
        c.redirect_uris = vec![bad.into()];
        assert!(c.build().is_err(), "{bad}");
    }
    let mut c = new_client(ClientAuthMethod::None);
    c.redirect_uris = vec!["http://localhost:3000/cb".into()];
    assert!(c.build().is_ok());
    let mut c = new_client(ClientAuthMethod::None);
    c.grant_types = vec![GrantType::RefreshToken];
    assert!(c.build().is_err());
}

#[test]
fn a_saml_provider_is_not_a_client() {
    let (mut rp, _) = new_client(ClientAuthMethod::None).build().unwrap();
    rp.settings = ProtocolSettings::Saml(serde_json::json!({}));
    assert!(OidcClient::from_relying_party(rp).unwrap().is_none());
}
