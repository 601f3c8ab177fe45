//! Unit tests of authorization-request validation: what is displayed, what is redirected
//! with which code, and what a good request keeps.

use super::*;
use crate::oidc::client::{GrantType, NewClient};

fn client(auth: ClientAuthMethod, uris: &[&str]) -> OidcClient {
    let (rp, _) = NewClient {
        id: "sede".into(),
        display_name: String::new(),
        redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: auth,
        id_token_alg: crate::core::keys::JwsAlg::RS256,
        min_level: LevelOfAssurance::Low,
        skip_consent: true,
        ..Default::default()
    }
    .build()
    .unwrap();
    OidcClient::from_relying_party(rp).unwrap().unwrap()
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn check(c: &OidcClient, pairs: &[(&str, &str)]) -> Result<AuthzRequest, Rejection> {
    let p = params(pairs);
    let reply = trusted_reply(c, &p)?;
    validate(c, &p, reply, &LevelVocabulary::default())
}

fn redirected_code(r: Result<AuthzRequest, Rejection>) -> &'static str {
    match r {
        Err(Rejection::Redirected(_, e)) => e.code,
        other => panic!("expected a redirected error, got {other:?}"),
    }
}

#[test]
fn client_and_redirect_errors_are_displayed() {
    let one = client(ClientAuthMethod::ClientSecretBasic, &["https://rp/cb?a=1"]);
    let two = client(
        ClientAuthMethod::ClientSecretBasic,
        &["https://rp/cb", "https://rp/cb2"],
    );
    for (c, uri) in [
        (&one, Some("https://rp/cb")),
        (&one, Some("https://rp/cb?a=2")),
        (&one, Some("https://rp/cb?a=1&b=2")),
        (&two, None),
    ] {
        let mut p = vec![("response_type", "code"), ("scope", "openid")];
        if let Some(u) = uri {
            p.push(("redirect_uri", u));
        }
        assert!(
            matches!(check(c, &p), Err(Rejection::Displayed(_))),
            "{uri:?}"
        );
    }
    // A single registered URI may be left out.
    let ok = check(&one, &[("response_type", "code"), ("scope", "openid")]).unwrap();
    assert_eq!(ok.reply.redirect_uri, "https://rp/cb?a=1");
    assert!(!ok.reply.redirect_uri_sent);
}

#[test]
fn everything_else_is_redirected_with_the_spec_code() {
    let c = client(ClientAuthMethod::ClientSecretBasic, &["https://rp/cb"]);
    let public = client(ClientAuthMethod::None, &["https://rp/cb"]);
    let base = [("scope", "openid"), ("state", "s1")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    assert_eq!(redirected_code(check(&c, &with(&[]))), "invalid_request");
    assert_eq!(
        redirected_code(check(&c, &with(&[("response_type", "token")]))),
        "unsupported_response_type"
    );
    let code = [("response_type", "code")];
    assert_eq!(
        redirected_code(check(
            &c,
            &[("response_type", "code"), ("scope", "profile")]
        )),
        "invalid_scope"
    );
    assert_eq!(
        redirected_code(check(&public, &with(&code))),
        "invalid_request",
        "public clients need PKCE"
    );
    assert_eq!(
        redirected_code(check(
            &c,
            &with(&[
                ("response_type", "code"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain")
            ])
        )),
        "invalid_request"
    );
    assert_eq!(
        redirected_code(check(
            &c,
            &with(&[("response_type", "code"), ("code_challenge", CHALLENGE)])
        )),
        "invalid_request",
        "no method means plain"
    );
    assert_eq!(
        redirected_code(check(
            &c,
            &with(&[("response_type", "code"), ("prompt", "none login")])
        )),
        "invalid_request"
    );
    assert_eq!(
        redirected_code(check(
            &c,
            &with(&[("response_type", "code"), ("request", "eyJ...")])
        )),
        "request_not_supported"
    );
    assert_eq!(
        redirected_code(check(
            &c,
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("scope", "openid")
            ]
        )),
        "invalid_request"
    );
    let Err(Rejection::Redirected(reply, _)) = check(&c, &with(&[])) else {
        panic!()
    };
    assert_eq!(reply.state.as_deref(), Some("s1"));
}

#[test]
fn a_good_request_keeps_what_matters() {
    let c = client(ClientAuthMethod::None, &["https://rp/cb"]);
    let r = check(
        &c,
        &[
            ("response_type", "code"),
            ("scope", "email openid bogus"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("nonce", "n"),
            ("prompt", "login"),
            ("max_age", "300"),
            ("acr_values", "unknown substantial high"),
            ("response_mode", "form_post"),
            ("ui_locales", "fr-FR ca-ES en"),
            ("display", "page"),
            ("whatever", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(r.scope, "openid email");
    assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
    assert!(r.prompt_login && !r.prompt_none);
    assert_eq!(r.max_age, Some(300));
    assert_eq!(r.required_level, LevelOfAssurance::Substantial);
    assert_eq!(r.reply.mode, ResponseMode::FormPost);
    assert_eq!(r.ui_locale.as_deref(), Some("ca"));
    assert_eq!(with_query("https://rp/bye", &[]).unwrap(), "https://rp/bye");
    assert_eq!(
        with_query("https://rp/cb?a=1", &[("code", "x y")]).unwrap(),
        "https://rp/cb?a=1&code=x+y"
    );
}

#[test]
fn the_claims_parameter_is_parsed_and_an_essential_acr_is_a_floor() {
    let c = client(ClientAuthMethod::ClientSecretBasic, &["https://rp/cb"]);
    let base = [("response_type", "code"), ("scope", "openid")];
    let with = |claims: &'static str| {
        let mut v = base.to_vec();
        v.push(("claims", claims));
        v
    };
    for bad in [
        "{",
        "[]",
        r#"{"id_token":["email"]}"#,
        r#"{"userinfo":{"email":true}}"#,
    ] {
        assert_eq!(
            redirected_code(check(&c, &with(bad))),
            "invalid_request",
            "{bad}"
        );
    }
    let r = check(
        &c,
        &with(
            r#"{"id_token":{"email":null,"acr":{"essential":true,"values":["high","substantial"]}},
                "userinfo":{"name":{"essential":true},"email":null}}"#,
        ),
    )
    .unwrap();
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    assert_eq!(sorted(&r.claims.id_token), vec!["acr", "email"]);
    assert_eq!(sorted(&r.claims.userinfo), vec!["email", "name"]);
    assert_eq!(r.floor(), LevelOfAssurance::Substantial);
    assert_eq!(r.required_level, LevelOfAssurance::Substantial);
    // A voluntary acr (claim or acr_values) raises where the citizen is sent, not the
    // floor.
    let r = check(
        &c,
        &with(r#"{"id_token":{"acr":{"value":"http://eidas.europa.eu/LoA/high"}}}"#),
    )
    .unwrap();
    assert_eq!(r.floor(), LevelOfAssurance::Low);
    assert_eq!(r.required_level, LevelOfAssurance::High);
    let r = check(&c, &[base[0], base[1], ("acr_values", "substantial")]).unwrap();
    assert_eq!(r.floor(), LevelOfAssurance::Low);
    assert_eq!(r.required_level, LevelOfAssurance::Substantial);
    assert!(r.claims.id_token.is_empty() && r.claims.userinfo.is_empty());
    // select_account means logging in again (one account per browser).
    let r = check(&c, &[base[0], base[1], ("prompt", "select_account")]).unwrap();
    assert!(r.prompt_login && !r.prompt_none);
}

#[test]
fn a_named_service_raises_the_floor_and_an_unknown_one_is_refused() {
    use crate::core::relying_party::NamedService;
    let mut c = client(ClientAuthMethod::ClientSecretBasic, &["https://rp/cb"]);
    c.rp.services = vec![
        NamedService {
            name: "cobro".into(),
            display_name: "Cambio de lugar de cobro".into(),
            min_level: LevelOfAssurance::High,
        },
        NamedService {
            name: "informacion".into(),
            display_name: String::new(),
            min_level: LevelOfAssurance::Low,
        },
    ];
    c.rp.min_level = LevelOfAssurance::Substantial;
    let base = [("response_type", "code"), ("scope", "openid")];
    let r = check(&c, &[base[0], base[1], ("service", "cobro")]).unwrap();
    assert_eq!(r.floor(), LevelOfAssurance::High);
    assert_eq!(r.required_level, LevelOfAssurance::High);
    // A service never lowers the client's own minimum.
    let r = check(&c, &[base[0], base[1], ("service", "informacion")]).unwrap();
    assert_eq!(r.floor(), LevelOfAssurance::Substantial);
    // A voluntary acr_values cannot lower it either.
    let r = check(
        &c,
        &[
            base[0],
            base[1],
            ("service", "cobro"),
            ("acr_values", "low"),
        ],
    )
    .unwrap();
    assert_eq!(r.floor(), LevelOfAssurance::High);
    assert_eq!(
        redirected_code(check(&c, &[base[0], base[1], ("service", "nomina")])),
        "invalid_request"
    );
}

#[test]
fn requests_kept_before_the_floor_existed_keep_their_level_as_the_floor() {
    let c = client(ClientAuthMethod::ClientSecretBasic, &["https://rp/cb"]);
    let r = check(
        &c,
        &[
            ("response_type", "code"),
            ("scope", "openid"),
            ("acr_values", "high"),
        ],
    )
    .unwrap();
    let mut old = serde_json::to_value(&r).unwrap();
    let o = old.as_object_mut().unwrap();
    for k in ["minimum_level", "claims", "hint", "response_type"] {
        assert!(o.remove(k).is_some(), "{k}");
    }
    let old: AuthzRequest = serde_json::from_value(old).unwrap();
    assert_eq!(old.floor(), LevelOfAssurance::High);
    assert_eq!(r.floor(), LevelOfAssurance::Low);
}

#[test]
fn an_id_token_hint_must_be_ours() {
    let now = chrono::DateTime::from_timestamp(1_767_225_700, 0).unwrap();
    let ring = crate::core::keys::KeyRing::in_memory(now).unwrap();
    let claims = serde_json::json!({
        "iss": "https://idp", "sub": "s-1", "aud": "sede", "exp": 1, "iat": 1
    });
    let jwt =
        crate::oidc::id_token::sign(&ring, crate::core::keys::JwsAlg::RS256, &claims).unwrap();
    let hint = hinted(&params(&[("id_token_hint", &jwt)]), &ring, "https://idp")
        .unwrap()
        .unwrap();
    assert_eq!(hint.sub, "s-1");
    assert_eq!(hint.client_id, "sede");
    assert!(
        hinted(&params(&[]), &ring, "https://idp")
            .unwrap()
            .is_none()
    );
    for bad in [jwt.as_str(), "not.a.jwt"] {
        let e = hinted(&params(&[("id_token_hint", bad)]), &ring, "https://other").unwrap_err();
        assert_eq!(e.code, "invalid_request");
    }
}

#[test]
fn implicit_and_hybrid_only_for_registered_clients_with_a_nonce_never_in_the_query() {
    let code_only = client(ClientAuthMethod::ClientSecretBasic, &["https://rp/cb"]);
    let (rp, _) = NewClient {
        id: "spa".into(),
        redirect_uris: vec!["https://rp/cb".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::Implicit],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        min_level: LevelOfAssurance::Low,
        skip_consent: true,
        response_types: vec!["code".into(), "id_token".into(), "code id_token".into()],
        ..Default::default()
    }
    .build()
    .unwrap();
    let spa = OidcClient::from_relying_party(rp).unwrap().unwrap();
    let base = |rt: &'static str| vec![("response_type", rt), ("scope", "openid")];
    let Err(Rejection::Redirected(reply, e)) = check(&code_only, &base("token")) else {
        panic!()
    };
    assert_eq!(e.code, "unsupported_response_type");
    assert_eq!(reply.mode, ResponseMode::Query);
    let Err(Rejection::Redirected(reply, e)) = check(
        &code_only,
        &[base("id_token code"), vec![("nonce", "n")]].concat(),
    ) else {
        panic!()
    };
    assert_eq!(e.code, "unauthorized_client");
    assert_eq!(
        reply.mode,
        ResponseMode::Fragment,
        "errors too in the fragment"
    );
    let Err(Rejection::Redirected(reply, e)) = check(&spa, &base("id_token")) else {
        panic!()
    };
    assert_eq!(e.code, "invalid_request", "nonce required");
    assert_eq!(reply.mode, ResponseMode::Fragment);
    assert_eq!(
        redirected_code(check(
            &spa,
            &[
                base("id_token"),
                vec![("nonce", "n"), ("response_mode", "query")]
            ]
            .concat()
        )),
        "invalid_request"
    );
    let r = check(
        &spa,
        &[base("id_token code"), vec![("nonce", "n")]].concat(),
    )
    .unwrap();
    assert_eq!(r.response_type, ResponseType::CodeIdToken);
    assert_eq!(r.reply.mode, ResponseMode::Fragment);
    let r = check(
        &spa,
        &[
            base("id_token"),
            vec![("nonce", "n"), ("response_mode", "form_post")],
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(r.response_type, ResponseType::IdToken);
    assert_eq!(r.reply.mode, ResponseMode::FormPost);
    // fragment is accepted for code too; a code request without a nonce is fine.
    let r = check(
        &spa,
        &[base("code"), vec![("response_mode", "fragment")]].concat(),
    )
    .unwrap();
    assert_eq!(r.response_type, ResponseType::Code);
    // A public implicit-only client: no code, so no PKCE to ask for.
    let (rp, _) = NewClient {
        id: "pub-implicit".into(),
        redirect_uris: vec!["https://rp/cb".into()],
        grant_types: vec![GrantType::Implicit],
        auth_method: ClientAuthMethod::None,
        min_level: LevelOfAssurance::Low,
        response_types: vec!["id_token".into()],
        ..Default::default()
    }
    .build()
    .unwrap();
    let public = OidcClient::from_relying_party(rp).unwrap().unwrap();
    let r = check(&public, &[base("id_token"), vec![("nonce", "n")]].concat()).unwrap();
    assert_eq!(r.code_challenge, None);
    assert_eq!(
        redirected_code(check(
            &public,
            &[base("code"), vec![("nonce", "n")]].concat()
        )),
        "unauthorized_client"
    );
    assert_eq!(r.reply.mode, ResponseMode::Fragment);
}
