//! Integration tests of dynamic client registration (RFC 7591 / RFC 7592) on the real server.

use crate::harness::*;
use serde_json::{Value, json};
use std::time::Duration;

const CB: &str = "http://localhost:9999/cb";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_json(
    base: &str,
    path: &str,
    bearer: Option<&str>,
    body: &Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = http().post(format!("{base}{path}")).json(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

async fn discovery(base: &str) -> Value {
    http()
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn registration_is_off_by_default() {
    let d = Deployment::new("");
    let server = d.start().await;
    let base = format!("http://{}", server.addr);
    let (status, _, _) = post_json(
        &base,
        "/oidc/register",
        None,
        &json!({ "redirect_uris": [CB] }),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        discovery(&base)
            .await
            .get("registration_endpoint")
            .is_none()
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn an_open_registration_creates_a_client_managed_with_its_access_token() {
    let d = Deployment::new("[oidc]\nregistration = \"open\"\n");
    let server = d.start().await;
    let base = format!("http://{}", server.addr);
    assert_eq!(
        discovery(&base).await["registration_endpoint"],
        "http://localhost:8080/oidc/register"
    );

    let (status, body, headers) = post_json(
        &base,
        "/oidc/register",
        None,
        &json!({
            "redirect_uris": [CB],
            "response_types": ["code"],
            "grant_types": ["authorization_code", "refresh_token"],
            "client_name": "conformance",
            "contacts": ["rp@example.com"],
            "token_endpoint_auth_method": "client_secret_post",
            "post_logout_redirect_uris": ["http://localhost:9999/bye"],
            "unknown_thing": 1,
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let id = body["client_id"].as_str().unwrap().to_owned();
    assert!(id.len() >= 22);
    let secret = body["client_secret"].as_str().unwrap().to_owned();
    let rat = body["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(body["client_secret_expires_at"], 0);
    assert!(body["client_id_issued_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(body["redirect_uris"], json!([CB]));
    assert_eq!(body["client_name"], "conformance");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_post");
    // oidcc-idtoken-signature registers without an algorithm: RS256 is the default.
    assert_eq!(body["id_token_signed_response_alg"], "RS256");
    assert!(body.get("unknown_thing").is_none());
    let client_uri = format!("http://localhost:8080/oidc/register/{id}");
    assert_eq!(body["registration_client_uri"], client_uri);

    // Stored as a dynamic client, without consent skipping, secrets only hashed.
    let rp = server
        .state
        .engine
        .store
        .relying_party(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rp.min_level, pasarela::core::level::LevelOfAssurance::Low);
    let client = pasarela::oidc::client::OidcClient::from_relying_party(rp.clone())
        .unwrap()
        .unwrap();
    assert_eq!(client.settings.registered_by.as_deref(), Some("dynamic"));
    assert!(!client.settings.skip_consent);
    assert!(client.secret_matches(&secret));
    let stored = serde_json::to_string(&rp).unwrap();
    assert!(!stored.contains(&secret) && !stored.contains(&rat));

    // The authorization endpoint knows the client: no error page, on to the login.
    let res = http()
        .get(format!(
            "{base}{}",
            authorize_url(&id, CB, "openid", &[("state", "s1")])
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    // RFC 7592: read with the token, not without or with another.
    let path = format!("{base}/oidc/register/{id}");
    let res = http().get(&path).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["client_id"], id.as_str());
    assert!(read.get("client_secret").is_none());
    let res = http().get(&path).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let res = http().get(&path).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(res.status(), 401);

    // Update: new redirect URI, a new secret, the same access token.
    let res = http()
        .put(&path)
        .bearer_auth(&rat)
        .json(&json!({
            "client_id": id,
            "redirect_uris": ["http://localhost:9999/other"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(
        updated["redirect_uris"],
        json!(["http://localhost:9999/other"])
    );
    let new_secret = updated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let res = http()
        .put(&path)
        .bearer_auth(&rat)
        .json(&json!({ "client_id": "other", "redirect_uris": [CB] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Delete, then the token no longer works.
    let res = http().delete(&path).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        server
            .state
            .engine
            .store
            .relying_party(&id)
            .await
            .unwrap()
            .is_none()
    );
    let res = http().get(&path).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // Every change is audited, never with a secret.
    let kinds: Vec<String> = server
        .state
        .engine
        .store
        .audit_entries(None, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let all = kinds.join("\n");
    for kind in [
        "oidc.client.registered",
        "oidc.client.updated",
        "oidc.client.removed",
    ] {
        assert!(all.contains(kind), "{kind}");
    }
    assert!(!all.contains(&secret) && !all.contains(&rat));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn registration_errors_are_the_rfc_codes() {
    let d = Deployment::new("[oidc]\nregistration = \"open\"\n");
    let server = d.start().await;
    let base = format!("http://{}", server.addr);
    for (body, code) in [
        (
            json!({ "redirect_uris": ["https://rp.example/cb#frag"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["http://rp.example/cb"] }),
            "invalid_redirect_uri",
        ),
        (json!({ "client_name": "no uris" }), "invalid_redirect_uri"),
        (
            json!({ "redirect_uris": [CB], "subject_type": "other" }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": [CB], "subject_type": "pairwise",
                    "sector_identifier_uri": "https://127.0.0.1:1/sector.json" }),
            "invalid_client_metadata",
        ),
    ] {
        let (status, answer, _) = post_json(&base, "/oidc/register", None, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"], code, "{body}");
        assert!(answer["error_description"].is_string());
    }
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn token_registration_needs_the_initial_access_token() {
    let hash = hex::encode(openssl::sha::sha256(b"initial-token"));
    let d = Deployment::new(&format!(
        "[oidc]\nregistration = \"token\"\nregistration_token_sha256 = \"{hash}\"\n\
         registration_min_level = \"substantial\"\n"
    ));
    let server = d.start().await;
    let base = format!("http://{}", server.addr);
    let body = json!({ "redirect_uris": [CB], "token_endpoint_auth_method": "none" });
    let (status, answer, headers) = post_json(&base, "/oidc/register", None, &body).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"], "invalid_token");
    assert!(headers.contains_key("www-authenticate"));
    let (status, _, _) = post_json(&base, "/oidc/register", Some("guess"), &body).await;
    assert_eq!(status, 401);
    let (status, answer, _) =
        post_json(&base, "/oidc/register", Some("initial-token"), &body).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer.get("client_secret").is_none());
    let id = answer["client_id"].as_str().unwrap();
    let rp = server
        .state
        .engine
        .store
        .relying_party(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rp.min_level,
        pasarela::core::level::LevelOfAssurance::Substantial
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[test]
fn token_registration_without_the_hash_stops_the_start() {
    let d = Deployment::new("[oidc]\nregistration = \"token\"\n");
    let err = pasarela::config::Config::load(&d.config_path).unwrap_err();
    assert!(
        err.to_string().contains("registration_token_sha256"),
        "{err}"
    );
}

#[tokio::test]
async fn clients_from_the_configuration_are_upserted_at_start() {
    let hash = hex::encode(openssl::sha::sha256(b"config-client-secret"));
    let d = Deployment::new(&format!(
        "[oidc]\n\
         [[oidc.clients]]\nid = \"sede\"\nname = \"Sede\"\nredirect_uris = [\"{CB}\"]\n\
         client_secret_sha256 = \"{hash}\"\nmin_level = \"substantial\"\nskip_consent = true\n\
         [[oidc.clients]]\nid = \"app\"\nredirect_uris = [\"{CB}\"]\n\
         token_endpoint_auth_method = \"none\"\nid_token_signed_response_alg = \"ES256\"\n"
    ));
    for _ in 0..2 {
        // A second start finds them unchanged.
        let server = d.start().await;
        let store = &server.state.engine.store;
        let sede = pasarela::oidc::client::OidcClient::from_relying_party(
            store.relying_party("sede").await.unwrap().unwrap(),
        )
        .unwrap()
        .unwrap();
        assert!(sede.secret_matches("config-client-secret"));
        assert_eq!(sede.settings.registered_by.as_deref(), Some("config"));
        assert!(sede.settings.skip_consent);
        assert_eq!(sede.rp.display_name, "Sede");
        let app = store.relying_party("app").await.unwrap().unwrap();
        assert_eq!(app.min_level, pasarela::core::level::LevelOfAssurance::Low);
        server.shutdown(Duration::from_secs(1)).await.unwrap();
    }
    let shown = d.cli_json(&["admin", "client", "show", "sede"]);
    assert_eq!(shown["registered_by"], "config");
    assert_eq!(shown["min_level"], "substantial");
}

#[tokio::test]
async fn a_bad_configured_client_stops_the_start() {
    let d = Deployment::new(&format!(
        "[oidc]\n[[oidc.clients]]\nid = \"sede\"\nredirect_uris = [\"{CB}\"]\n\
         client_secret_env = \"PASARELA_TEST_SECRET_THAT_IS_NOT_SET\"\n"
    ));
    let err = pasarela::server::start(
        d.config(),
        std::sync::Arc::new(pasarela::clock::SystemClock),
    )
    .await
    .err()
    .expect("the start fails");
    let text = format!("{err:#}");
    assert!(
        text.contains("'sede'") && text.contains("PASARELA_TEST_SECRET_THAT_IS_NOT_SET"),
        "{text}"
    );
    let d = Deployment::new(&format!(
        "[oidc]\n[[oidc.clients]]\nid = \"sede\"\nredirect_uris = [\"{CB}\"]\n\
         token_endpoint_auth_method = \"none\"\n\
         [[oidc.clients]]\nid = \"sede\"\nredirect_uris = [\"{CB}\"]\n\
         token_endpoint_auth_method = \"none\"\n"
    ));
    let err = pasarela::server::start(
        d.config(),
        std::sync::Arc::new(pasarela::clock::SystemClock),
    )
    .await
    .err()
    .expect("the start fails");
    assert!(format!("{err:#}").contains("declared twice"));
}

fn unsigned_object(claims: &Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none"}"#),
        b64.encode(claims.to_string())
    )
}

#[tokio::test]
async fn request_objects_are_applied_or_refused_back_to_the_client() {
    let d = Deployment::new("[oidc]\nregistration = \"open\"\n");
    let server = d.start().await;
    let base = format!("http://{}", server.addr);
    let meta = discovery(&base).await;
    assert_eq!(meta["request_parameter_supported"], true);
    assert_eq!(meta["request_uri_parameter_supported"], true);
    let mut ids = Vec::new();
    for alg in ["none", "RS256"] {
        let (status, body, _) = post_json(
            &base,
            "/oidc/register",
            None,
            &json!({ "redirect_uris": [CB], "request_object_signing_alg": alg }),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["client_id"].as_str().unwrap().to_owned());
    }
    let object = unsigned_object(&json!({
        "client_id": ids[0], "response_type": "code", "scope": "openid",
        "redirect_uri": CB, "state": "from-object", "aud": "http://localhost:8080",
    }));
    let authorize = |id: &str, extra: &[(&str, &str)]| {
        let mut params = vec![("client_id", id), ("response_type", "code")];
        params.extend_from_slice(extra);
        format!("{base}{}", authorize_query(&params))
    };
    // Registered for unsigned objects: the object's parameters carry the request to the login.
    let res = http()
        .get(authorize(
            &ids[0],
            &[("scope", "openid"), ("request", &object)],
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    // Not registered for them: invalid_request_object back to the client with state and iss.
    let res = http()
        .get(authorize(
            &ids[1],
            &[("redirect_uri", CB), ("state", "s-2"), ("request", &object)],
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(CB));
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["error"], "invalid_request_object");
    assert_eq!(q["state"], "s-2");
    assert_eq!(q["iss"], "http://localhost:8080");
    // Without a redirect URI the client can be trusted with: displayed, never redirected.
    let res = http()
        .get(authorize(
            &ids[1],
            &[
                ("redirect_uri", "https://evil.example/cb"),
                ("request", &object),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn implicit_only_clients_register_and_get_no_code() {
    let d = Deployment::new("[oidc]\nregistration = \"open\"\n");
    let server = d.start().await;
    let base = format!("http://{}", server.addr);
    // As the implicit conformance plans register them.
    let (status, body, _) = post_json(
        &base,
        "/oidc/register",
        None,
        &json!({
            "redirect_uris": [CB], "response_types": ["id_token"], "grant_types": ["implicit"],
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["grant_types"], json!(["implicit"]));
    assert_eq!(body["response_types"], json!(["id_token"]));
    let id = body["client_id"].as_str().unwrap().to_owned();
    let secret = body["client_secret"].as_str().unwrap().to_owned();
    // A code response type for an implicit-only client is refused.
    let (status, body, _) = post_json(
        &base,
        "/oidc/register",
        None,
        &json!({
            "redirect_uris": [CB], "response_types": ["code id_token"],
            "grant_types": ["implicit"],
        }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_client_metadata");
    let authorize = |rt: &str| {
        let query = authorize_query(&[
            ("client_id", &id),
            ("response_type", rt),
            ("scope", "openid"),
            ("nonce", "n"),
            ("state", "s"),
            ("prompt", "none"),
        ]);
        format!("{base}{query}")
    };
    let answer = |location: &str| -> std::collections::HashMap<String, String> {
        let url = url::Url::parse(location).unwrap();
        let part = url.fragment().or(url.query()).unwrap_or("").to_owned();
        url::form_urlencoded::parse(part.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    // id_token is accepted (no session here, so login_required in the fragment); code is not.
    let res = http().get(authorize("id_token")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains('#'), "{location}");
    let a = answer(&location);
    assert_eq!(
        (a["error"].as_str(), a["state"].as_str()),
        ("login_required", "s")
    );
    let res = http().get(authorize("code")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let a = answer(res.headers()["location"].to_str().unwrap());
    assert_eq!(a["error"], "unauthorized_client");
    // Nor does the token endpoint redeem codes for it.
    let res = http()
        .post(format!("{base}/oidc/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "authorization_code"), ("code", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}
