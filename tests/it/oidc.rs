//! Integration tests of the OpenID Provider: the real server, clients registered with the real
//! command line, a citizen made active through the library and a session cookie planted in
//! the client (the login pages are not needed). ID tokens are checked with the
//! `openidconnect` crate's verifier against the served JWKS.

use crate::support::*;
use base64::Engine as _;
use pasarela::core::citizen::Citizen;
use pasarela::core::engine::Actor;
use pasarela::core::identifier::Identifier;
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::core::session::{SessionCookie, SsoSession};
use pasarela::server::Running;
use reqwest::cookie::Jar;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "Tortuga-Marina-Azul-2031";
const ISSUER: &str = "http://localhost:8080";
const CB: &str = "http://localhost:9999/cb?x=1";
const BYE: &str = "http://localhost:9999/bye";
const VERIFIER: &str = "dBjftJeZ4CVP-mB0Y3bJbBZyY1mLyK4Zm4ggXvebHzA";
const CHALLENGE: &str = "jeKapnPfiU_wqJ_BaE7ygYSi_Jdlp6EJ8EvSCzMc5e4";

struct Op {
    _d: Deployment,
    server: Running,
    base: String,
    jar: Arc<Jar>,
    http: reqwest::Client,
    citizen: Citizen,
    secret: String,
}

impl Op {
    fn plant(&self, cookie: &SessionCookie) {
        let url = self.base.parse().unwrap();
        self.jar.add_cookie_str(
            &format!("{}={}; Path=/", SessionCookie::name(false), cookie.value()),
            &url,
        );
    }

    async fn sign_in(&self, level: LevelOfAssurance) -> SsoSession {
        let state = &self.server.state;
        let (session, cookie) = state
            .engine
            .create_session(
                self.citizen.id,
                &[AuthMethod::Pwd, AuthMethod::Sms],
                level,
                None,
                None,
                &state.config.sessions,
            )
            .await
            .unwrap();
        self.plant(&cookie);
        session
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn token(
        &self,
        client: &str,
        secret: Option<&str>,
        form: &[(&str, &str)],
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self.http.post(format!("{}/oidc/token", self.base));
        if let Some(s) = secret {
            req = req.basic_auth(client, Some(s));
        }
        let res = req.form(form).send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, res.json().await.unwrap(), headers)
    }

    async fn stop(self) {
        self.server.shutdown(Duration::from_secs(1)).await.unwrap();
    }
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn authorize_path(client: &str, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", client);
    q.append_pair("response_type", "code");
    q.append_pair("scope", "openid profile email phone");
    q.append_pair("redirect_uri", CB);
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("/oidc/authorize?{}", q.finish())
}

async fn op() -> Op {
    let d = journey_deployment("");
    let args = register_args("12345678Z");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.cli_ok(&args);
    let added = d.cli_json(&[
        "admin",
        "client",
        "add",
        "sede",
        "--skip-consent",
        "--name",
        "Sede electrónica",
        "--redirect-uri",
        CB,
        "--post-logout-redirect-uri",
        BYE,
        "--min-level",
        "substantial",
    ]);
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    let public = d.cli_json(&[
        "admin",
        "client",
        "add",
        "app",
        "--skip-consent",
        "--redirect-uri",
        CB,
        "--auth-method",
        "none",
        "--id-token-alg",
        "ES256",
        "--grant-type",
        "authorization_code",
    ]);
    assert!(public["client_secret"].is_null());
    let server = d.start().await;
    let state = server.state.clone();
    let engine = &state.engine;
    let citizen = activate_registered(&state, "12345678Z", PASSWORD).await;
    let citizen = engine.store.citizen(citizen.id).await.unwrap().unwrap();
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Op {
        _d: d,
        base: format!("http://{}", server.addr),
        server,
        jar,
        http,
        citizen,
        secret,
    }
}

/// Verifies an ID token's signature and standard claims with the `openidconnect` crate.
async fn verify_id_token(op: &Op, client: &str, id_token: &str, nonce: Option<&str>) -> Value {
    use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
    use openidconnect::{ClientId, IssuerUrl, Nonce};
    let jwks: CoreJsonWebKeySet = op.get("/oidc/jwks").await.json().await.unwrap();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client.into()),
        IssuerUrl::new(ISSUER.into()).unwrap(),
        jwks,
    )
    .allow_any_alg();
    let token: CoreIdToken = id_token.parse().unwrap();
    let check = |got: Option<&Nonce>| {
        if got.map(|n| n.secret().as_str()) == nonce {
            Ok(())
        } else {
            Err("nonce mismatch".to_owned())
        }
    };
    token.claims(&verifier, check).expect("a valid ID token");
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn header_of(jwt: &str) -> Value {
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}

/// Runs an authorization that must succeed at once, returning the code.
async fn code_for(op: &Op, client: &str, extra: &[(&str, &str)]) -> String {
    let res = op.get(&authorize_path(client, extra)).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(CB), "{location}");
    let q = query_of(&location);
    assert_eq!(q["iss"], ISSUER);
    assert_eq!(q["x"], "1", "the registered query is kept");
    q.get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code in {location}"))
}

#[tokio::test]
async fn oidc_discovery_and_jwks() {
    let op = op().await;
    let res = op.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), 200);
    let meta: Value = res.json().await.unwrap();
    assert_eq!(meta["issuer"], ISSUER);
    assert_eq!(meta["token_endpoint"], format!("{ISSUER}/oidc/token"));
    assert_eq!(meta["jwks_uri"], format!("{ISSUER}/oidc/jwks"));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let acr = meta["acr_values_supported"].as_array().unwrap();
    assert_eq!(acr.len(), 3);
    // The crate's own metadata type reads it.
    let _: openidconnect::core::CoreProviderMetadata = serde_json::from_value(meta).unwrap();
    let res = op.get("/oidc/jwks").await;
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let jwks: Value = res.json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.len() >= 2);
    let mut unique = kids.clone();
    unique.dedup();
    assert_eq!(unique.len(), kids.len());
    op.stop().await;
}

#[tokio::test]
async fn oidc_code_flow_with_pkce_nonce_userinfo_and_code_reuse() {
    let op = op().await;
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    let state = "s".repeat(128);
    let code = code_for(
        &op,
        "sede",
        &[
            ("state", &state),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert!(code.len() >= 43, "at least 256 bits");
    // A wrong verifier spends the code.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let (status, body, headers) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(header_of(id_token)["alg"], "RS256");
    assert!(header_of(id_token)["kid"].is_string());
    let claims = verify_id_token(&op, "sede", id_token, Some("n-0S6_WzA2Mj")).await;
    assert_eq!(claims["sub"], op.citizen.id.to_string());
    assert_eq!(claims["azp"], "sede");
    assert_eq!(claims["sid"], session.id.to_string());
    assert_eq!(claims["auth_time"], session.auth_time.timestamp());
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    let access = body["access_token"].as_str().unwrap();
    let digest = openssl::sha::sha256(access.as_bytes());
    assert_eq!(
        claims["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    );
    // Userinfo: GET with Bearer, POST with the token in the body.
    let res = op
        .http
        .get(format!("{}/oidc/userinfo", op.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["given_name"], "Lucía");
    assert_eq!(info["email"], "lucia@example.es");
    assert_eq!(info["phone_number"], "+34600111222");
    assert_eq!(info["identifier"]["type"], "dni");
    assert_eq!(info["identifier"]["value"], "12345678Z");
    assert!(info["updated_at"].is_i64());
    let res = op
        .http
        .post(format!("{}/oidc/userinfo", op.base))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The session records the client.
    let s = op
        .server
        .state
        .engine
        .store
        .session(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert!(s.relying_parties.iter().any(|v| v.rp_id == "sede"));
    // The code again: invalid_grant, and the tokens it gave are revoked.
    let (status, body, _) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    let res = op
        .http
        .get(format!("{}/oidc/userinfo", op.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Audited, never with the code or a token.
    let entries = op
        .server
        .state
        .engine
        .store
        .audit_entries(None, 0, 10_000)
        .await
        .unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.event.kind.as_str()).collect();
    for kind in [
        "oidc.client.registered",
        "oidc.code.issued",
        "oidc.code.exchanged",
        "oidc.grant.revoked",
    ] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    let all = serde_json::to_string(&entries.iter().map(|e| &e.event.detail).collect::<Vec<_>>())
        .unwrap();
    assert!(!all.contains(code.as_str()) && !all.contains(access));
    // A body that is not a form: a JSON error all the same.
    let res = op
        .http
        .post(format!("{}/oidc/token", op.base))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Bad client credentials: 401 invalid_client.
    let code = code_for(&op, "sede", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
    ];
    let (status, body, _) = op.token("sede", Some("wrong"), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // client_secret_post is refused for a client registered for basic.
    let (status, _, _) = op
        .token(
            "sede",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("client_id", "sede"),
                ("client_secret", op.secret.as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 401);
    op.stop().await;
}

#[tokio::test]
async fn oidc_public_client_needs_pkce_and_gets_es256() {
    let op = op().await;
    op.sign_in(LevelOfAssurance::Low).await;
    // Without PKCE: redirected invalid_request.
    let res = op.get(&authorize_path("app", &[("state", "st")])).await;
    let q = query_of(res.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "st");
    assert_eq!(q["iss"], ISSUER);
    let code = code_for(
        &op,
        "app",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("client_id", "app"),
    ];
    let mut form = base.to_vec();
    form.push((
        "code_verifier",
        "wrong-verifier-wrong-verifier-wrong-verifier",
    ));
    let (status, body, _) = op.token("app", None, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let code = code_for(
        &op,
        "app",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("client_id", "app"),
        ("code_verifier", VERIFIER),
    ];
    let (status, body, _) = op.token("app", None, &form).await;
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(header_of(id_token)["alg"], "ES256");
    let claims = verify_id_token(&op, "app", id_token, None).await;
    assert!(claims.get("nonce").is_none());
    assert!(
        body.get("refresh_token").is_none(),
        "not registered for refresh"
    );
    op.stop().await;
}

#[tokio::test]
async fn oidc_refresh_rotates_and_reuse_revokes_the_family() {
    let op = op().await;
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "sede", &[("nonce", "n1")]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
    ];
    let (status, first, _) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 200);
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, second, headers) = op
        .token(
            "sede",
            Some(&op.secret),
            &[("grant_type", "refresh_token"), ("refresh_token", r1)],
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(headers["cache-control"], "no-store");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let claims = verify_id_token(&op, "sede", second["id_token"].as_str().unwrap(), None).await;
    assert_eq!(claims["auth_time"], session.auth_time.timestamp());
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/substantial");
    // Presenting r1 again revokes the family: r2 and its access token stop working.
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[("grant_type", "refresh_token"), ("refresh_token", r1)],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[("grant_type", "refresh_token"), ("refresh_token", r2)],
        )
        .await;
    assert_eq!(status, 400);
    let res = op
        .http
        .get(format!("{}/oidc/userinfo", op.base))
        .bearer_auth(second["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    op.stop().await;
}

#[tokio::test]
async fn oidc_bad_client_or_redirect_uri_gets_a_page_never_a_redirect() {
    let op = op().await;
    for path in [
        authorize_path("nobody", &[]),
        authorize_path("sede", &[]).replace("cb%3Fx%3D1", "cb%3Fx%3D2"),
        authorize_path("sede", &[]).replace("cb%3Fx%3D1", "cb%3Fx%3D1%26y%3D2"),
        "/oidc/authorize?response_type=code&scope=openid".to_owned(),
    ] {
        let res = op.get(&path).await;
        assert_eq!(res.status(), 400, "{path}");
        assert!(res.headers().get("location").is_none(), "{path}");
    }
    op.stop().await;
}

#[tokio::test]
async fn oidc_without_session_prompt_none_is_login_required_and_otherwise_login_then_resume() {
    let op = op().await;
    let state = "x".repeat(128);
    let res = op
        .get(&authorize_path(
            "sede",
            &[("prompt", "none"), ("state", &state)],
        ))
        .await;
    assert_eq!(res.status(), 303);
    let q = query_of(res.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "login_required");
    assert_eq!(q["state"], state);
    assert_eq!(q["iss"], ISSUER);
    assert!(!q.contains_key("code"));
    // Without prompt=none: off to the login page, which comes back to resume. A session
    // below the client's minimum is as good as none.
    op.sign_in(LevelOfAssurance::Low).await;
    let res = op
        .get(&authorize_path(
            "sede",
            &[
                ("state", "abc"),
                ("login_hint", "12345678Z"),
                ("response_mode", "form_post"),
                ("ui_locales", "en-GB"),
            ],
        ))
        .await;
    assert_eq!(res.status(), 303);
    let login = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(login.starts_with("/login?continue="), "{login}");
    let q = query_of(&format!("http://x{login}"));
    assert_eq!(q["login_hint"], "12345678Z");
    assert_eq!(q["acr"], "substantial");
    assert_eq!(q["lang"], "en");
    let resume = q["continue"].clone();
    assert!(resume.starts_with("/oidc/authorize/resume?id="));
    // Not logged in at the level yet: back to login.
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    op.sign_in(LevelOfAssurance::Substantial).await;
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("form-action http://localhost:9999"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(
        html.contains("action=\"http://localhost:9999/cb?x=1\""),
        "{html}"
    );
    assert!(hidden_value(&html, "code").is_some());
    assert_eq!(hidden_value(&html, "state").as_deref(), Some("abc"));
    assert_eq!(hidden_value(&html, "iss").as_deref(), Some(ISSUER));
    // The pending request is spent.
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 400);
    op.stop().await;
}

#[tokio::test]
async fn oidc_rp_initiated_logout() {
    let op = op().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "sede", &[]).await;
    let (_, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    let hint = body["id_token"].as_str().unwrap().to_owned();
    // A forged hint (alg none) or an unregistered URI: no redirect.
    let parts: Vec<&str> = hint.split('.').collect();
    let none = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
    let forged = format!("{none}.{}.", parts[1]);
    // The same claims and kid, signed by a key that is not ours (the suite's own key).
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let mut foreign_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    foreign_header.kid = header["kid"].as_str().map(str::to_owned);
    let foreign_key = openssl::rsa::Rsa::generate(2048).unwrap();
    let foreign = jsonwebtoken::encode(
        &foreign_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(&foreign_key.private_key_to_der().unwrap()),
    )
    .unwrap();
    // -modified-id-token-hint, -bad-id-token-hint, -query-added-to-post-logout-redirect-uri,
    // -bad-post-logout-redirect-uri, -no-id-token-hint, -no-post-logout-redirect-uri and
    // -only-state: a page, never a redirect.
    for (h, uri, state) in [
        (Some(forged.as_str()), Some(BYE), Some("st")),
        (Some(foreign.as_str()), Some(BYE), Some("st")),
        (
            Some(hint.as_str()),
            Some("http://localhost:9999/bye?x=1"),
            Some("st"),
        ),
        (
            Some(hint.as_str()),
            Some("http://localhost:9999/elsewhere"),
            Some("st"),
        ),
        (None, Some(BYE), Some("st")),
        (Some(hint.as_str()), None, Some("st")),
        (None, None, Some("st")),
    ] {
        op.sign_in(LevelOfAssurance::Substantial).await;
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(h) = h {
            q.append_pair("id_token_hint", h);
        }
        if let Some(uri) = uri {
            q.append_pair("post_logout_redirect_uri", uri);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        let res = op.get(&format!("/oidc/logout?{}", q.finish())).await;
        assert_eq!(res.status(), 200, "{h:?} {uri:?}");
        assert!(res.headers().get("location").is_none(), "{h:?} {uri:?}");
    }
    // Signed in again, a good hint sends the citizen back with the state.
    op.sign_in(LevelOfAssurance::Substantial).await;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", &hint);
    q.append_pair("post_logout_redirect_uri", BYE);
    q.append_pair("state", "st");
    let res = op.get(&format!("/oidc/logout?{}", q.finish())).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("{BYE}?state=st").as_str()
    );
    // The session is gone.
    let res = op.get(&authorize_path("sede", &[("prompt", "none")])).await;
    let q = query_of(res.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "login_required");
    // Without state, none is added.
    op.sign_in(LevelOfAssurance::Substantial).await;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", &hint);
    q.append_pair("post_logout_redirect_uri", BYE);
    let res = op.get(&format!("/oidc/logout?{}", q.finish())).await;
    assert_eq!(res.headers()["location"], BYE);
    op.stop().await;
}

#[tokio::test]
async fn oidc_client_commands() {
    let op = op().await;
    let d = &op._d;
    let list = d.cli_json(&["admin", "client", "list"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["app", "sede"]);
    let shown = d.cli_json(&["admin", "client", "show", "sede"]);
    assert_eq!(shown["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(shown["min_level"], "substantial");
    assert!(!shown.to_string().contains(&op.secret));
    assert!(!shown.to_string().contains("secret_sha256"));
    let bad = d.cli(&[
        "admin",
        "client",
        "add",
        "x",
        "--redirect-uri",
        "https://rp/cb#f",
    ]);
    assert!(!bad.status.success());
    d.cli_json(&["admin", "client", "remove", "app"]);
    let res = op.get(&authorize_path("app", &[])).await;
    assert_eq!(res.status(), 400);
    op.stop().await;
}

#[tokio::test]
async fn oidc_logout_sends_back_channel_logout_tokens() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let rp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bc"))
        .respond_with(ResponseTemplate::new(200).insert_header("cache-control", "no-store"))
        .expect(1)
        .mount(&rp)
        .await;
    let op = op().await;
    let bc_uri = format!("{}/bc", rp.uri());
    op._d.cli_json(&[
        "admin",
        "client",
        "add",
        "bc",
        "--skip-consent",
        "--redirect-uri",
        CB,
        "--backchannel-logout-uri",
        &bc_uri,
        "--id-token-alg",
        "PS256",
    ]);
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    code_for(&op, "bc", &[]).await;
    // No parameters: a logged-out page, and the client is told over the back channel.
    let res = op.get("/oidc/logout").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let received = rp.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&received[0].body)
        .into_owned()
        .collect();
    assert_eq!(form.len(), 1);
    let token = &form["logout_token"];
    let header = header_of(token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(header["alg"], "PS256");
    let claims = pasarela::oidc::id_token::verify_own(&op.server.state.keys, ISSUER, token)
        .expect("signed by a published key");
    assert_eq!(claims["aud"], "bc");
    assert_eq!(claims["sid"], session.id.to_string());
    assert_eq!(claims["sub"], op.citizen.id.to_string());
    assert!(claims["jti"].is_string());
    assert!(claims.get("nonce").is_none());
    assert_eq!(
        claims["events"],
        serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    let iat = claims["iat"].as_i64().unwrap();
    assert!((chrono::Utc::now().timestamp() - iat).abs() < 60);
    op.stop().await;
}

#[tokio::test]
async fn oidc_redirect_uri_is_repeated_only_when_sent_and_login_loops_end() {
    let op = op().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let token_form = |code: String, with_uri: bool| {
        let mut f = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code),
        ];
        if with_uri {
            f.push(("redirect_uri".to_owned(), CB.to_owned()));
        }
        f
    };
    let post = |form: Vec<(String, String)>| {
        op.http
            .post(format!("{}/oidc/token", op.base))
            .basic_auth("sede", Some(&op.secret))
            .form(&form)
            .send()
    };
    // Sent at the authorization endpoint: must be repeated.
    let code = code_for(&op, "sede", &[]).await;
    let res = post(token_form(code, false)).await.unwrap();
    assert_eq!(res.status(), 400);
    // Left out (one registered URI): may be left out at the token endpoint too.
    let res = op
        .get("/oidc/authorize?client_id=sede&response_type=code&scope=openid&state=q")
        .await;
    let q = query_of(res.headers()["location"].to_str().unwrap());
    let res = post(token_form(q["code"].clone(), false)).await.unwrap();
    assert_eq!(res.status(), 200);

    // A login page that keeps sending the browser back without a fresh login ends in
    // access_denied rather than an endless loop.
    let res = op
        .get(&authorize_path(
            "sede",
            &[("prompt", "login"), ("state", "loop")],
        ))
        .await;
    let login = res.headers()["location"].to_str().unwrap().to_owned();
    let resume = query_of(&format!("http://x{login}"))["continue"].clone();
    let mut last = None;
    for _ in 0..10 {
        let res = op.get(&resume).await;
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        if !location.starts_with("/login") {
            last = Some(location);
            break;
        }
    }
    let q = query_of(&last.expect("the loop ends"));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "loop");
    op.stop().await;
}

#[tokio::test]
async fn oidc_post_requests_client_secret_post_ignored_parameters_and_cross_client_refresh() {
    let op = op().await;
    let added = op._d.cli_json(&[
        "admin",
        "client",
        "add",
        "post",
        "--skip-consent",
        "--redirect-uri",
        CB,
        "--auth-method",
        "client_secret_post",
    ]);
    let post_secret = added["client_secret"].as_str().unwrap().to_owned();
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // The authorization request as a POSTed form, with parameters the OP ignores.
    let res = op
        .http
        .post(format!("{}/oidc/authorize", op.base))
        .form(&[
            ("scope", "email openid"),
            ("redirect_uri", CB),
            ("client_id", "post"),
            ("response_type", "code"),
            ("state", "p"),
            ("display", "popup"),
            ("claims_locales", "se"),
            ("ui_locales", "se"),
            ("login_hint", "buffy@localhost"),
            ("extra", "foobar"),
            (
                "acr_values",
                "http://eidas.europa.eu/LoA/low http://eidas.europa.eu/LoA/substantial",
            ),
            ("claims", r#"{"userinfo":{"name":{"essential":true}}}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let q = query_of(res.headers()["location"].to_str().unwrap());
    assert_eq!(q["state"], "p");
    let (status, body, _) = op
        .token(
            "post",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", q["code"].as_str()),
                ("redirect_uri", CB),
                ("client_id", "post"),
                ("client_secret", post_secret.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let first = verify_id_token(&op, "post", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(body["scope"], "openid email");
    // prompt=none with the ID token as hint: silent, same sub and auth_time.
    let hint = body["id_token"].as_str().unwrap().to_owned();
    let code = code_for(&op, "sede", &[("prompt", "none"), ("id_token_hint", &hint)]).await;
    let (_, sede, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    let second = verify_id_token(&op, "sede", sede["id_token"].as_str().unwrap(), None).await;
    assert_eq!(first["sub"], second["sub"]);
    assert_eq!(first["auth_time"], second["auth_time"]);
    assert_eq!(second["auth_time"], session.auth_time.timestamp());
    // A refresh token of one client is refused to another.
    let (status, body, _) = op
        .token(
            "post",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", sede["refresh_token"].as_str().unwrap()),
                ("client_id", "post"),
                ("client_secret", post_secret.as_str()),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Refreshing with a narrower scope works; a wider one does not.
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", sede["refresh_token"].as_str().unwrap()),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid profile");
    let refreshed = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(refreshed["sub"], second["sub"]);
    assert_eq!(refreshed["auth_time"], second["auth_time"]);
    assert!(refreshed["iat"].as_i64() >= second["iat"].as_i64());
    // The rotated refresh token still holds the whole grant.
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid profile email phone");
    op.stop().await;
}

/// The seam between the OpenID Provider and the citizen pages: no planted session; the
/// citizen types the password and the SMS code on the real login pages, and the relying party
/// gets a code whose ID token tells what happened there.
#[tokio::test]
async fn oidc_code_flow_through_the_real_login_pages() {
    let op = op().await;
    let page = |res: reqwest::Response| async move {
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        (res.status().as_u16(), location, res.text().await.unwrap())
    };
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let http = op.http.clone();
        let base = op.base.clone();
        async move {
            http.post(format!("{base}{path}"))
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let (status, login, _) = page(
        op.get(&authorize_path(
            "sede",
            &[
                ("state", "st"),
                ("nonce", "nn"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await,
    )
    .await;
    assert_eq!(status, 303);
    let login = login.unwrap();
    assert!(login.starts_with("/login?"), "{login}");
    let (status, _, html) = page(op.get(&login).await).await;
    assert_eq!(status, 200);
    let csrf = hidden_value(&html, "csrf").unwrap();
    let (status, next, _) = page(
        post(
            "/login".into(),
            vec![
                ("csrf", csrf.clone()),
                ("identifier", "12345678Z".into()),
                ("password", PASSWORD.into()),
            ],
        )
        .await,
    )
    .await;
    assert_eq!((status, next.as_deref()), (303, Some("/login/code")));
    let code = op._d.last_sms_code("+34600111222");
    let (status, resume, _) =
        page(post("/login/code".into(), vec![("csrf", csrf), ("code", code)]).await).await;
    assert_eq!(status, 303);
    let resume = resume.unwrap();
    assert!(resume.starts_with("/oidc/authorize/resume"), "{resume}");
    let (status, back, _) = page(op.get(&resume).await).await;
    assert_eq!(status, 303);
    let q = query_of(&back.unwrap());
    assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("st", ISSUER));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let (status, body, _) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 200, "{body}");
    let claims = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), Some("nn")).await;
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    let sessions = op
        .server
        .state
        .engine
        .sessions_of(op.citizen.id, &op.server.state.config.sessions)
        .await
        .unwrap();
    assert_eq!(claims["sid"], sessions[0].id.to_string());
    op.stop().await;
}

/// Follows an authorization through the real login pages (password, then the SMS code) and
/// returns the client's callback query.
async fn through_the_login_pages(op: &Op, authorize: &str) -> HashMap<String, String> {
    let res = op.get(authorize).await;
    assert_eq!(res.status(), 303);
    let login = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(login.starts_with("/login?"), "{login}");
    let html = op.get(&login).await.text().await.unwrap();
    assert!(
        html.contains("current-password"),
        "the password is asked again"
    );
    let csrf = hidden_value(&html, "csrf").unwrap();
    let post = |path: &str, fields: Vec<(&str, String)>| {
        op.http
            .post(format!("{}{path}", op.base))
            .form(&fields)
            .send()
    };
    let res = post(
        "/login",
        vec![
            ("csrf", csrf.clone()),
            ("identifier", "12345678Z".into()),
            ("password", PASSWORD.into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.headers()["location"], "/login/code");
    let code = op._d.last_sms_code("+34600111222");
    let res = post("/login/code", vec![("csrf", csrf), ("code", code)])
        .await
        .unwrap();
    let resume = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(resume.starts_with("/oidc/authorize/resume"), "{resume}");
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 303);
    query_of(res.headers()["location"].to_str().unwrap())
}

/// The ID token claims for a callback's code.
async fn claims_for(op: &Op, q: &HashMap<String, String>) -> Value {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", CB),
    ];
    let (status, body, _) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 200, "{body}");
    verify_id_token(op, "sede", body["id_token"].as_str().unwrap(), None).await
}

/// `oidcc-prompt-login` and `oidcc-max-age-1` walked in full: with a live session, `prompt=login`
/// and an exceeded `max_age` send the citizen through the login pages again (password and SMS
/// code), and the new ID token's `auth_time` is later; `max_age=10000` answers silently with the
/// same `auth_time`.
#[tokio::test]
async fn oidc_prompt_login_and_max_age_walk_the_login_pages_again() {
    let op = op().await;
    let first = through_the_login_pages(&op, &authorize_path("sede", &[("state", "a")])).await;
    assert_eq!(first["state"], "a");
    let t1 = claims_for(&op, &first).await;
    // auth_time has a one-second resolution.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = through_the_login_pages(
        &op,
        &authorize_path("sede", &[("state", "b"), ("prompt", "login")]),
    )
    .await;
    assert_eq!(again["state"], "b");
    let t2 = claims_for(&op, &again).await;
    assert_eq!(t2["sub"], t1["sub"]);
    assert!(
        t2["auth_time"].as_i64().unwrap() > t1["auth_time"].as_i64().unwrap(),
        "{t1} {t2}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let old = through_the_login_pages(
        &op,
        &authorize_path("sede", &[("state", "c"), ("max_age", "1")]),
    )
    .await;
    let t3 = claims_for(&op, &old).await;
    assert!(t3["auth_time"].as_i64().unwrap() > t2["auth_time"].as_i64().unwrap());
    // A generous max_age needs no login: straight back with the same auth_time.
    let res = op
        .get(&authorize_path(
            "sede",
            &[("state", "d"), ("max_age", "10000")],
        ))
        .await;
    assert_eq!(res.status(), 303);
    let q = query_of(res.headers()["location"].to_str().unwrap());
    assert_eq!(q["state"], "d");
    let t4 = claims_for(&op, &q).await;
    assert_eq!(t4["auth_time"], t3["auth_time"]);
    op.stop().await;
}

fn rsa_jwk(key: &openssl::rsa::Rsa<openssl::pkey::Private>, kid: &str) -> Value {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    serde_json::json!({
        "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": b64.encode(key.n().to_vec()), "e": b64.encode(key.e().to_vec()),
    })
}

/// A `private_key_jwt` client assertion for `client`, signed with `key` under `kid`.
fn assertion(
    key: &openssl::rsa::Rsa<openssl::pkey::Private>,
    kid: &str,
    client: &str,
    aud: Value,
    jti: &str,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    let claims = serde_json::json!({
        "iss": client, "sub": client, "aud": aud, "jti": jti,
        "iat": now, "exp": now + 60,
    });
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(&key.private_key_to_der().unwrap()),
    )
    .unwrap()
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[tokio::test]
async fn oidc_private_key_jwt_with_replay_audience_method_checks_and_key_rotation() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let op = op().await;
    let keys = MockServer::start().await;
    let k1 = openssl::rsa::Rsa::generate(2048).unwrap();
    let k2 = openssl::rsa::Rsa::generate(2048).unwrap();
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "keys": [rsa_jwk(&k1, "k1")] })),
        )
        .up_to_n_times(1)
        .mount(&keys)
        .await;
    let (rp, secret) = NewClient {
        id: "pkj".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        auth_method: ClientAuthMethod::PrivateKeyJwt,
        jwks_uri: Some(format!("{}/jwks", keys.uri())),
        skip_consent: true,
        ..Default::default()
    }
    .build()
    .unwrap();
    assert!(secret.is_none());
    op.server
        .state
        .engine
        .store
        .put_relying_party(&rp)
        .await
        .unwrap();
    let token_url = format!("{ISSUER}/oidc/token");
    op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "pkj", &[]).await;
    let a1 = assertion(&k1, "k1", "pkj", Value::from(token_url.as_str()), "j1");
    let (status, issued, headers) = op
        .token(
            "pkj",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", a1.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(headers["cache-control"], "no-store");
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    let refresh_with = |a: String| {
        let refresh = refresh.clone();
        let op = &op;
        async move {
            op.token(
                "pkj",
                None,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", a.as_str()),
                ],
            )
            .await
        }
    };
    // The same assertion twice: the jti is single use.
    let (status, body, headers) = refresh_with(a1.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(headers.get("www-authenticate").is_none());
    assert_eq!(headers["cache-control"], "no-store");
    // A wrong audience; an array holding the issuer is fine.
    let (status, _, _) = refresh_with(assertion(
        &k1,
        "k1",
        "pkj",
        Value::from(format!("{ISSUER}/oidc/userinfo")),
        "j2",
    ))
    .await;
    assert_eq!(status, 401);
    // Another client's name in the assertion (iss/sub) is not this client.
    let (status, _, _) =
        refresh_with(assertion(&k1, "k1", "sede", Value::from(ISSUER), "j3")).await;
    assert_eq!(status, 401);
    // A secret client cannot authenticate with an assertion (it registered another method).
    let (status, body, _) = op
        .token(
            "sede",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", "sede"),
                ("client_assertion_type", JWT_BEARER),
                (
                    "client_assertion",
                    assertion(&k1, "k1", "sede", Value::from(ISSUER), "j4").as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // And the private_key_jwt client cannot use Basic.
    let (status, _, headers) = op
        .token(
            "pkj",
            Some("guess"),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    // A body client_id that differs from the assertion's client.
    let (status, _, _) = op
        .token(
            "sede",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", "app"),
                ("client_assertion_type", JWT_BEARER),
                (
                    "client_assertion",
                    assertion(&k1, "k1", "pkj", Value::from(ISSUER), "j5").as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(status, 401);
    // A wrong assertion type.
    let (status, _, _) = op
        .token(
            "pkj",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_assertion_type", "urn:x"),
                (
                    "client_assertion",
                    assertion(&k1, "k1", "pkj", Value::from(ISSUER), "j6").as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(status, 401);
    // The client rotates to k2: an unknown kid makes pasarela fetch its jwks_uri again.
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "keys": [rsa_jwk(&k2, "k2")] })),
        )
        .mount(&keys)
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let aud = serde_json::json!(["https://elsewhere", ISSUER]);
    let (status, body, _) = refresh_with(assertion(&k2, "k2", "pkj", aud, "j7")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    // At the PAR endpoint an assertion may name that endpoint (RFC 9126 §2); another
    // endpoint of ours is still not an audience.
    let par = |aud: &str, jti: &str| {
        let a = assertion(&k2, "k2", "pkj", Value::from(aud), jti);
        let op = &op;
        async move {
            post_form(
                op,
                "/oidc/par",
                None,
                &[
                    ("response_type", "code"),
                    ("scope", "openid"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", a.as_str()),
                ],
            )
            .await
        }
    };
    let (status, body, _) = par(&format!("{ISSUER}/oidc/par"), "j8").await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = par(&format!("{ISSUER}/oidc/userinfo"), "j9").await;
    assert_eq!(status, 401, "{body}");
    op.stop().await;
}

async fn post_form(
    op: &Op,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, String, reqwest::header::HeaderMap) {
    let mut req = op.http.post(format!("{}{path}", op.base));
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

async fn introspect(op: &Op, basic: (&str, &str), token: &str) -> Value {
    let (status, body, headers) =
        post_form(op, "/oidc/introspect", Some(basic), &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn oidc_client_credentials_introspection_and_revocation() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = op().await;
    let store = &op.server.state.engine.store;
    let (rp, batch_secret) = NewClient {
        id: "batch".into(),
        grant_types: vec![GrantType::ClientCredentials],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        service_scopes: vec!["registry.read".into(), "registry.write".into()],
        ..Default::default()
    }
    .build()
    .unwrap();
    store.put_relying_party(&rp).await.unwrap();
    let batch = ("batch", batch_secret.as_deref().unwrap());
    let sede = ("sede", op.secret.as_str());

    // client_credentials: scope limited to the registered service scopes, never openid.
    let (status, svc, headers) = op
        .token(
            batch.0,
            Some(batch.1),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "registry.read"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{svc}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(svc["token_type"], "Bearer");
    assert_eq!(svc["scope"], "registry.read");
    assert!(svc["expires_in"].as_i64().unwrap() > 0);
    assert!(svc.get("refresh_token").is_none() && svc.get("id_token").is_none());
    let svc_token = svc["access_token"].as_str().unwrap().to_owned();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&svc_token)
        .unwrap();
    assert!(raw.len() >= 32, "at least 256 bits");
    for bad in ["openid", "registry.delete", "registry.read openid"] {
        let (status, body, _) = op
            .token(
                batch.0,
                Some(batch.1),
                &[("grant_type", "client_credentials"), ("scope", bad)],
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope")),
            "{bad}"
        );
    }
    let (status, all, _) = op
        .token(
            batch.0,
            Some(batch.1),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(all["scope"], "registry.read registry.write");
    // A client not registered for the grant.
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // A service token is no citizen's token: userinfo refuses it.
    let res = op
        .http
        .get(format!("{}/oidc/userinfo", op.base))
        .bearer_auth(&svc_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Introspection of the service token: by its client only.
    let v = introspect(&op, batch, &svc_token).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], "batch");
    assert_eq!(v["scope"], "registry.read");
    assert_eq!(v["iss"], ISSUER);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v.get("sub").is_none(), "no citizen behind a service token");
    assert!(v["exp"].as_i64().unwrap() > v["iat"].as_i64().unwrap());
    assert_eq!(
        introspect(&op, sede, &svc_token).await,
        serde_json::json!({"active": false})
    );

    // A citizen's tokens.
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "sede", &[]).await;
    let (status, issued, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    let id_claims = verify_id_token(&op, "sede", issued["id_token"].as_str().unwrap(), None).await;
    let v = introspect(&op, sede, &access).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["sub"], id_claims["sub"]);
    assert_eq!(v["client_id"], "sede");
    assert_eq!(v["aud"], "sede");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(v["auth_time"], session.auth_time.timestamp());
    assert_eq!(v["scope"], issued["scope"]);
    // The hint is a hint only.
    let (_, body, _) = post_form(
        &op,
        "/oidc/introspect",
        Some(sede),
        &[
            ("token", refresh.as_str()),
            ("token_type_hint", "access_token"),
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "refresh_token");
    // Another client learns nothing; unknown values are inactive; public clients may not
    // introspect; a bad secret is invalid_client.
    assert_eq!(
        introspect(&op, batch, &access).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        introspect(&op, sede, "nope").await,
        serde_json::json!({"active": false})
    );
    let (status, body, _) = post_form(
        &op,
        "/oidc/introspect",
        None,
        &[("client_id", "app"), ("token", access.as_str())],
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body, headers) = post_form(
        &op,
        "/oidc/introspect",
        Some(("sede", "wrong")),
        &[("token", access.as_str())],
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("invalid_client"));
    assert!(headers.contains_key("www-authenticate"));
    let (status, body, _) = post_form(&op, "/oidc/introspect", Some(sede), &[]).await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid_request"));

    // Revocation: another client's token is left alone (200 without effect).
    let (status, _, headers) = post_form(
        &op,
        "/oidc/revoke",
        Some(batch),
        &[("token", refresh.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(introspect(&op, sede, &refresh).await["active"], true);
    // Unknown tokens: 200.
    let (status, _, _) = post_form(&op, "/oidc/revoke", Some(sede), &[("token", "nope")]).await;
    assert_eq!(status, 200);
    // The refresh token revokes its family: the access token too.
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        Some(sede),
        &[("token", refresh.as_str()), ("token_type_hint", "whatever")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        introspect(&op, sede, &refresh).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        introspect(&op, sede, &access).await,
        serde_json::json!({"active": false})
    );
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // A service token revokes just itself; the other one stays active.
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        Some(sede),
        &[("token", svc_token.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(introspect(&op, batch, &svc_token).await["active"], true);
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        Some(batch),
        &[("token", svc_token.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        introspect(&op, batch, &svc_token).await,
        serde_json::json!({"active": false})
    );
    let other = all["access_token"].as_str().unwrap();
    assert_eq!(introspect(&op, batch, other).await["active"], true);
    // A public client revokes with its client_id alone.
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        None,
        &[("client_id", "app"), ("token", "nope")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body, _) = post_form(
        &op,
        "/oidc/revoke",
        None,
        &[("client_id", "ghost"), ("token", "nope")],
    )
    .await;
    assert_eq!(status, 401, "{body}");
    op.stop().await;
}

#[tokio::test]
async fn oidc_logout_page_embeds_front_channel_frames_then_goes_back() {
    use pasarela::oidc::client::{GrantType, NewClient};
    let op = op().await;
    let store = &op.server.state.engine.store;
    let mut secrets = HashMap::new();
    for (id, fc) in [
        ("fc", "http://localhost:7777/fc?x=1"),
        ("fc2", "https://rp2.example/logout"),
    ] {
        let (rp, secret) = NewClient {
            id: id.into(),
            redirect_uris: vec![CB.into()],
            post_logout_redirect_uris: vec![BYE.into()],
            frontchannel_logout_uri: Some(fc.into()),
            frontchannel_logout_session_required: id == "fc2",
            grant_types: vec![GrantType::AuthorizationCode],
            skip_consent: true,
            ..Default::default()
        }
        .build()
        .unwrap();
        store.put_relying_party(&rp).await.unwrap();
        secrets.insert(id, secret.unwrap());
    }
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // The session visits fc, fc2 and sede (which registered no front-channel URI).
    code_for(&op, "fc2", &[]).await;
    code_for(&op, "sede", &[]).await;
    let code = code_for(&op, "fc", &[]).await;
    let (status, body, _) = op
        .token(
            "fc",
            Some(&secrets["fc"]),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hint = body["id_token"].as_str().unwrap();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", hint);
    q.append_pair("post_logout_redirect_uri", BYE);
    q.append_pair("state", "st");
    let res = op.get(&format!("/oidc/logout?{}", q.finish())).await;
    // A page (not a redirect) so that the frames load before going back.
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("; frame-src http://localhost:7777 https://rp2.example"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    let params = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("iss", ISSUER)
        .append_pair("sid", session.id.as_str())
        .finish();
    for base in [
        "http://localhost:7777/fc?x=1&",
        "https://rp2.example/logout?",
    ] {
        let src = format!("<iframe src=\"{base}{params}\"").replace('&', "&#38;");
        assert!(page.contains(&src), "{src} not in {page}");
    }
    assert_eq!(
        page.matches("<iframe").count(),
        2,
        "only clients that registered a URI"
    );
    let next = format!("{BYE}?state=st");
    assert!(page.contains(&format!(
        "<meta http-equiv=\"refresh\" content=\"2;url={next}\">"
    )));
    assert!(
        page.contains(&format!("<a href=\"{next}\">")),
        "a link without JS"
    );
    // The session is gone.
    let res = op.get(&authorize_path("sede", &[("prompt", "none")])).await;
    let q = query_of(res.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "login_required");
    // Without a post-logout URI the logged-out page carries the frames, and no refresh.
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    code_for(&op, "fc2", &[]).await;
    let res = op.get("/oidc/logout").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with("; frame-src https://rp2.example")
    );
    let page = res.text().await.unwrap();
    assert_eq!(page.matches("<iframe").count(), 1);
    assert!(page.contains(session.id.as_str()));
    assert!(!page.contains("http-equiv=\"refresh\""));
    op.stop().await;
}

/// An authorization path with its own scope (`authorize_path` fixes one).
fn authorize_scoped(client: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", client);
    q.append_pair("response_type", "code");
    q.append_pair("scope", scope);
    q.append_pair("redirect_uri", CB);
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("/oidc/authorize?{}", q.finish())
}

async fn exchange(op: &Op, code: &str) -> Value {
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn userinfo_of(op: &Op, access_token: &str) -> Value {
    let res = op
        .http
        .get(format!("{}/oidc/userinfo", op.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Where an authorization answer went: the login page's `continue`, or the client's query.
async fn answer_of(res: reqwest::Response) -> (bool, HashMap<String, String>) {
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    if location.starts_with("/login") {
        (true, query_of(&format!("http://x{location}")))
    } else {
        assert!(location.starts_with(CB), "{location}");
        (false, query_of(&location))
    }
}

const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
const HIGH: &str = "http://eidas.europa.eu/LoA/high";

#[tokio::test]
async fn oidc_claims_parameter_delivers_claims_where_asked() {
    let op = op().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    // Malformed claims: invalid_request, redirected with state.
    let (_, q) = answer_of(
        op.get(&authorize_scoped(
            "sede",
            "openid",
            &[("claims", "{not json"), ("state", "c0")],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "c0");
    assert!(!q.contains_key("code"));
    // Only the openid scope: the claims come because they were asked for by name.
    let claims = r#"{"id_token":{"email":null,"acr":{"essential":true,"values":["http://eidas.europa.eu/LoA/substantial"]}},"userinfo":{"name":{"essential":true}}}"#;
    let (login, q) = answer_of(
        op.get(&authorize_scoped("sede", "openid", &[("claims", claims)]))
            .await,
    )
    .await;
    assert!(!login);
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["email"], op.citizen.email.as_str());
    assert_eq!(id["acr"], SUBSTANTIAL);
    assert!(id.get("name").is_none(), "name was asked at userinfo only");
    let info = userinfo_of(&op, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        info["name"],
        format!("{} {}", op.citizen.given_name, op.citizen.family_names).as_str()
    );
    assert!(
        info.get("email").is_none(),
        "email was asked in the ID token only"
    );
    assert_eq!(info["sub"], id["sub"]);
    // The claims survive a refresh.
    let (status, refreshed, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let id = verify_id_token(&op, "sede", refreshed["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["email"], op.citizen.email.as_str());
    let meta: Value = op
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(meta["claims_parameter_supported"], true);
    assert_eq!(
        meta["subject_types_supported"],
        serde_json::json!(["public", "pairwise"])
    );
    op.stop().await;
}

#[tokio::test]
async fn oidc_essential_acr_is_hard_and_acr_values_voluntary() {
    let op = op().await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let essential_high =
        r#"{"id_token":{"acr":{"essential":true,"value":"http://eidas.europa.eu/LoA/high"}}}"#;
    // prompt=none below an essential acr: login_required.
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[
                ("claims", essential_high),
                ("prompt", "none"),
                ("state", "e"),
            ],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "login_required");
    assert_eq!(q["state"], "e");
    // Otherwise off to log in at high; a fresh login that ends at substantial gets
    // unmet_authentication_requirements, never a code.
    let (login, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("claims", essential_high), ("state", "e2")],
        ))
        .await,
    )
    .await;
    assert!(login);
    assert_eq!(q["acr"], "high");
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(op.get(&resume).await).await;
    assert!(!login);
    assert_eq!(q["error"], "unmet_authentication_requirements");
    assert_eq!(q["state"], "e2");
    assert_eq!(q["iss"], ISSUER);
    assert!(!q.contains_key("code"));
    // The client's minimum is hard too: a fresh login at low is refused the same way.
    let (login, q) = answer_of(
        op.get(&authorize_path("sede", &[("prompt", "login")]))
            .await,
    )
    .await;
    assert!(login);
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Low).await;
    let (_, q) = answer_of(op.get(&resume).await).await;
    assert_eq!(q["error"], "unmet_authentication_requirements");
    // Voluntary acr_values: sent to log in at high, but a citizen ending at substantial
    // gets a code whose acr tells the truth.
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(
        op.get(&authorize_path("sede", &[("acr_values", HIGH)]))
            .await,
    )
    .await;
    assert!(login);
    assert_eq!(q["acr"], "high");
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (_, q) = answer_of(op.get(&resume).await).await;
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["acr"], SUBSTANTIAL);
    // With prompt=none, a voluntary level above the session's is answered at once.
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("acr_values", HIGH), ("prompt", "none")],
        ))
        .await,
    )
    .await;
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["acr"], SUBSTANTIAL);
    // A session at high satisfies the essential request at once.
    op.sign_in(LevelOfAssurance::High).await;
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("claims", essential_high), ("prompt", "none")],
        ))
        .await,
    )
    .await;
    let body = exchange(&op, &q["code"]).await;
    let id = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), None).await;
    assert_eq!(id["acr"], HIGH);
    op.stop().await;
}

#[tokio::test]
async fn oidc_id_token_hint_select_account_and_pairwise_subjects() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient, SubjectType};
    let op = op().await;
    let state = op.server.state.clone();
    // A pairwise client, registered through the library.
    let (rp, secret) = NewClient {
        id: "pairwise".into(),
        display_name: "Pairwise".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        id_token_alg: pasarela::core::keys::JwsAlg::RS256,
        min_level: LevelOfAssurance::Low,
        skip_consent: true,
        subject_type: SubjectType::Pairwise,
        userinfo_signed_response_alg: Some(pasarela::core::keys::JwsAlg::ES256),
        ..Default::default()
    }
    .build()
    .unwrap();
    state.engine.store.put_relying_party(&rp).await.unwrap();
    let secret = secret.unwrap();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (_, q) = answer_of(op.get(&authorize_path("pairwise", &[])).await).await;
    let (status, body, _) = op
        .token(
            "pairwise",
            Some(&secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", q["code"].as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hint = body["id_token"].as_str().unwrap().to_owned();
    let id = verify_id_token(&op, "pairwise", &hint, None).await;
    let sub = id["sub"].as_str().unwrap();
    assert_ne!(
        sub,
        op.citizen.id.to_string(),
        "pairwise, not the internal id"
    );
    // Signed userinfo, as registered: a JWT with iss and aud, never a nonce.
    let res = op
        .http
        .get(format!("{}/oidc/userinfo", op.base))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jwt");
    let jwt = res.text().await.unwrap();
    assert_eq!(header_of(&jwt)["alg"], "ES256");
    let info = pasarela::oidc::id_token::verify_own(&state.keys, ISSUER, &jwt)
        .expect("signed with our keys");
    assert_eq!(info["sub"], sub);
    assert_eq!(info["iss"], ISSUER);
    assert_eq!(info["aud"], "pairwise");
    assert_eq!(info["email"], op.citizen.email.as_str());
    assert!(info.get("nonce").is_none());
    // The pairwise hint names the session's citizen, even at another client.
    let (login, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("prompt", "none"), ("id_token_hint", &hint)],
        ))
        .await,
    )
    .await;
    assert!(!login);
    assert!(q.contains_key("code"), "{q:?}");
    // A hint that is not ours: invalid_request.
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("id_token_hint", "e30.e30.AAAA"), ("state", "h")],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "h");
    // A genuine hint naming someone else: login_required with prompt=none, else log in.
    let other = serde_json::json!({
        "iss": ISSUER, "sub": "someone-else", "aud": "sede", "iat": 1, "exp": 2
    });
    let other =
        pasarela::oidc::id_token::sign(&state.keys, pasarela::core::keys::JwsAlg::RS256, &other)
            .unwrap();
    let (_, q) = answer_of(
        op.get(&authorize_path(
            "sede",
            &[("prompt", "none"), ("id_token_hint", &other)],
        ))
        .await,
    )
    .await;
    assert_eq!(q["error"], "login_required");
    let (login, _) = answer_of(
        op.get(&authorize_path("sede", &[("id_token_hint", &other)]))
            .await,
    )
    .await;
    assert!(login);
    // select_account: one account per browser, so it means logging in again.
    let (login, q) = answer_of(
        op.get(&authorize_path("sede", &[("prompt", "select_account")]))
            .await,
    )
    .await;
    assert!(login);
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(op.get(&resume).await).await;
    assert!(!login);
    assert!(q.contains_key("code"));
    op.stop().await;
}

fn fragment_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    assert!(url.query().is_none_or(|q| q == "x=1"), "{location}");
    url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn oidc_implicit_and_hybrid_answer_in_the_fragment_with_a_nonce() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = op().await;
    let state = op.server.state.clone();
    let (rp, secret) = NewClient {
        id: "spa".into(),
        display_name: "Spa".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::Implicit],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        id_token_alg: pasarela::core::keys::JwsAlg::RS256,
        min_level: LevelOfAssurance::Low,
        skip_consent: true,
        response_types: vec!["code".into(), "id_token".into(), "code id_token".into()],
        ..Default::default()
    }
    .build()
    .unwrap();
    state.engine.store.put_relying_party(&rp).await.unwrap();
    let secret = secret.unwrap();
    let path = |rt: &str, extra: &[(&str, &str)]| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", "spa");
        q.append_pair("response_type", rt);
        q.append_pair("scope", "openid email");
        q.append_pair("redirect_uri", CB);
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        format!("/oidc/authorize?{}", q.finish())
    };
    let location = |res: reqwest::Response| {
        assert_eq!(res.status(), 303);
        res.headers()["location"].to_str().unwrap().to_owned()
    };
    // Not logged in, prompt=none: the error too comes in the fragment, with state and iss.
    let f = fragment_of(&location(
        op.get(&path(
            "id_token",
            &[("nonce", "n0"), ("prompt", "none"), ("state", "s0")],
        ))
        .await,
    ));
    assert_eq!(f["error"], "login_required");
    assert_eq!((f["state"].as_str(), f["iss"].as_str()), ("s0", ISSUER));
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // Without a nonce: invalid_request; query mode refused.
    let f = fragment_of(&location(
        op.get(&path("id_token", &[("state", "s1")])).await,
    ));
    assert_eq!(f["error"], "invalid_request");
    assert_eq!(f["state"], "s1");
    // (the refusal itself goes in the fragment: nothing about an ID token request travels
    // in a query)
    let f = fragment_of(&location(
        op.get(&path(
            "id_token",
            &[("nonce", "n"), ("response_mode", "query")],
        ))
        .await,
    ));
    assert_eq!(f["error"], "invalid_request");
    // A client registered for code only: unauthorized_client.
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", "sede");
    q.append_pair("response_type", "code id_token");
    q.append_pair("scope", "openid");
    q.append_pair("redirect_uri", CB);
    q.append_pair("nonce", "n");
    let f = fragment_of(&location(
        op.get(&format!("/oidc/authorize?{}", q.finish())).await,
    ));
    assert_eq!(f["error"], "unauthorized_client");
    // id_token: the ID token alone, with the scope's claims in it.
    let f = fragment_of(&location(
        op.get(&path(
            "id_token",
            &[("nonce", "n-implicit"), ("state", "s2")],
        ))
        .await,
    ));
    assert!(!f.contains_key("code") && !f.contains_key("access_token"));
    assert_eq!((f["state"].as_str(), f["iss"].as_str()), ("s2", ISSUER));
    let id = verify_id_token(&op, "spa", &f["id_token"], Some("n-implicit")).await;
    assert_eq!(id["email"], op.citizen.email.as_str());
    assert_eq!(id["auth_time"], session.auth_time.timestamp());
    assert_eq!(id["acr"], SUBSTANTIAL);
    assert_eq!(id["sid"], session.id.to_string());
    assert!(id["amr"].is_array());
    assert!(id.get("at_hash").is_none() && id.get("c_hash").is_none());
    // code id_token: c_hash binds the code; the code still redeems at the token endpoint.
    let f = fragment_of(&location(
        op.get(&path(
            "code id_token",
            &[("nonce", "n-hybrid"), ("state", "s3")],
        ))
        .await,
    ));
    let code = f["code"].clone();
    let id = verify_id_token(&op, "spa", &f["id_token"], Some("n-hybrid")).await;
    assert_eq!(
        id["c_hash"],
        pasarela::oidc::id_token::at_hash(&code).as_str()
    );
    assert!(id.get("at_hash").is_none());
    assert!(
        id.get("email").is_none(),
        "userinfo serves the scope's claims here"
    );
    let (status, body, _) = op
        .token(
            "spa",
            Some(&secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let back = verify_id_token(
        &op,
        "spa",
        body["id_token"].as_str().unwrap(),
        Some("n-hybrid"),
    )
    .await;
    assert_eq!(back["sub"], id["sub"]);
    // form_post carries the ID token too.
    let res = op
        .get(&path(
            "id_token",
            &[
                ("nonce", "n-post"),
                ("response_mode", "form_post"),
                ("state", "s4"),
            ],
        ))
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let token = hidden_value(&html, "id_token").expect("id_token field");
    verify_id_token(&op, "spa", &token, Some("n-post")).await;
    assert_eq!(hidden_value(&html, "state").as_deref(), Some("s4"));
    // response_mode=fragment works for code too.
    let f = fragment_of(&location(
        op.get(&authorize_path(
            "sede",
            &[("response_mode", "fragment"), ("state", "s5")],
        ))
        .await,
    ));
    assert!(f.contains_key("code"));
    assert_eq!(f["state"], "s5");
    op.stop().await;
}

/// The consent page's pending id, from the authorization endpoint's redirect.
fn consent_id(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/oidc/consent?id="), "{location}");
    query_of(&format!("http://x{location}"))["id"].clone()
}

async fn consent_page(op: &Op, id: &str) -> (reqwest::StatusCode, String, String) {
    let res = op
        .http
        .get(format!("{}/oidc/consent?id={id}", op.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let csp = res
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, res.text().await.unwrap(), csp)
}

async fn consent_post(op: &Op, id: &str, csrf: &str, decision: &str) -> reqwest::Response {
    op.http
        .post(format!("{}/oidc/consent", op.base))
        .form(&[("id", id), ("csrf", csrf), ("decision", decision)])
        .send()
        .await
        .unwrap()
}

async fn audited(op: &Op, kind: &str) -> usize {
    op.server
        .state
        .engine
        .store
        .audit_entries(Some(op.citizen.id), 0, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event.kind == kind)
        .count()
}

#[tokio::test]
async fn oidc_consent_page_once_per_scope_set_with_prompt_consent_and_denial() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = op().await;
    let state = op.server.state.clone();
    let (rp, secret) = NewClient {
        id: "ayto".into(),
        display_name: "Ayuntamiento de Prueba".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        logo_uri: Some("https://ayto.example/logo.png".into()),
        policy_uri: Some("https://ayto.example/privacy".into()),
        tos_uri: Some("https://ayto.example/tos".into()),
        ..Default::default()
    }
    .build()
    .unwrap();
    state.engine.store.put_relying_party(&rp).await.unwrap();
    let secret = secret.unwrap();
    op.sign_in(LevelOfAssurance::Substantial).await;

    // prompt=none before any consent: consent_required, with state and iss.
    let (login, q) = answer_of(
        op.get(&authorize_scoped(
            "ayto",
            "openid email",
            &[("prompt", "none"), ("state", "s0")],
        ))
        .await,
    )
    .await;
    assert!(!login);
    assert_eq!(q["error"], "consent_required");
    assert_eq!(q["state"], "s0");
    assert_eq!(q["iss"], ISSUER);

    // The first request goes to the consent page.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid email",
            &[("state", "s1")],
        ))
        .await;
    let id = consent_id(&res);
    let (status, html, csp) = consent_page(&op, &id).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Share your data with Ayuntamiento de Prueba?</h1>"));
    assert!(html.contains("<fieldset>") && html.contains("<legend>Data to share with"));
    assert!(html.contains("<li>Your identity as a user of the service</li>"));
    assert!(html.contains("<li>Your email address</li>"));
    assert!(!html.contains("Your mobile number"), "only what is asked");
    assert!(html.contains(
        r#"<img class="client-logo" src="https://ayto.example/logo.png" alt="Logo of Ayuntamiento de Prueba""#
    ));
    assert!(html.contains(r#"href="https://ayto.example/privacy""#));
    assert!(html.contains(r#"href="https://ayto.example/tos""#));
    assert!(
        html.contains(r#"id="consent-accept" name="decision" value="accept">Accept and continue<"#)
    );
    assert!(html.contains(r#"id="consent-deny" name="decision" value="deny""#));
    assert!(
        csp.contains("img-src 'self' data: https://ayto.example;"),
        "{csp}"
    );
    let csrf = hidden_value(&html, "csrf").expect("csrf field");
    assert!(csrf.len() >= 32);
    assert_eq!(hidden_value(&html, "id").as_deref(), Some(id.as_str()));

    // A forged form is refused and records nothing.
    let res = consent_post(&op, &id, "forged", "accept").await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        state
            .engine
            .store
            .consent(op.citizen.id, "ayto")
            .await
            .unwrap(),
        None
    );

    // Accept: the code, with state and iss; it is a good code.
    let (login, q) = answer_of(consent_post(&op, &id, &csrf, "accept").await).await;
    assert!(!login);
    assert_eq!(q["state"], "s1");
    assert_eq!(q["iss"], ISSUER);
    let (status, body, _) = op
        .token(
            "ayto",
            Some(&secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", q["code"].as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audited(&op, "oidc.consent.given").await, 1);
    // The pending request is spent.
    assert_eq!(consent_page(&op, &id).await.0, 400);

    // The same scopes, and fewer, go straight to the code, even with prompt=none.
    for (scope, extra) in [
        ("openid email", vec![]),
        ("openid", vec![]),
        ("email openid", vec![("prompt", "none")]),
    ] {
        let (login, q) = answer_of(op.get(&authorize_scoped("ayto", scope, &extra)).await).await;
        assert!(!login && q.contains_key("code"), "{scope}: {q:?}");
    }

    // More scopes ask again; accepting records the union.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid phone",
            &[("state", "s2")],
        ))
        .await;
    let id = consent_id(&res);
    let (_, html, _) = consent_page(&op, &id).await;
    assert!(html.contains("<li>Your mobile number</li>"));
    let csrf = hidden_value(&html, "csrf").unwrap();
    let (_, q) = answer_of(consent_post(&op, &id, &csrf, "accept").await).await;
    assert!(q.contains_key("code") && q["state"] == "s2", "{q:?}");
    let given = state
        .engine
        .store
        .consent(op.citizen.id, "ayto")
        .await
        .unwrap()
        .unwrap();
    assert!(given.covers("openid email phone"), "{}", given.scope);
    let (_, q) = answer_of(
        op.get(&authorize_scoped("ayto", "openid email phone", &[]))
            .await,
    )
    .await;
    assert!(q.contains_key("code"), "the union is consented: {q:?}");

    // prompt=consent asks again; Deny is access_denied with state and iss.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid",
            &[("prompt", "consent"), ("state", "s3")],
        ))
        .await;
    let id = consent_id(&res);
    let (_, html, _) = consent_page(&op, &id).await;
    let csrf = hidden_value(&html, "csrf").unwrap();
    let (_, q) = answer_of(consent_post(&op, &id, &csrf, "deny").await).await;
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s3");
    assert_eq!(q["iss"], ISSUER);
    assert!(!q.contains_key("code"));
    assert_eq!(audited(&op, "oidc.consent.denied").await, 1);
    // A denial does not withdraw what was given before.
    let (_, q) = answer_of(op.get(&authorize_scoped("ayto", "openid", &[])).await).await;
    assert!(q.contains_key("code"), "{q:?}");

    // Clients that skip consent never see the page.
    code_for(&op, "sede", &[]).await;

    // Another citizen's session cannot see or answer this citizen's pending request.
    let res = op
        .get(&authorize_scoped(
            "ayto",
            "openid",
            &[("prompt", "consent")],
        ))
        .await;
    let id = consent_id(&res);
    let (_, html, _) = consent_page(&op, &id).await;
    let csrf = hidden_value(&html, "csrf").unwrap();
    let mut args = register_args("00000000T");
    args[11] = "otra@example.es".into();
    args[13] = "600333444".into();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    op._d.cli_ok(&args);
    let other = state
        .engine
        .store
        .citizen_by_identifier(&Identifier::parse_any("00000000T").unwrap())
        .await
        .unwrap()
        .unwrap();
    state
        .engine
        .accept_security_policy(other.id, "2024-1", &Actor::system())
        .await
        .unwrap();
    state
        .engine
        .activate(
            other.id,
            PASSWORD,
            PASSWORD,
            state.config.credentials.password_policy,
            &state.hasher,
            &Actor::system(),
        )
        .await
        .unwrap();
    let (_, cookie) = state
        .engine
        .create_session(
            other.id,
            &[AuthMethod::Pwd, AuthMethod::Sms],
            LevelOfAssurance::Substantial,
            None,
            None,
            &state.config.sessions,
        )
        .await
        .unwrap();
    op.plant(&cookie);
    let (status, html, _) = consent_page(&op, &id).await;
    assert_eq!(status, 400);
    assert!(!html.contains("consent-accept"));
    let res = consent_post(&op, &id, &csrf, "accept").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert_eq!(
        state.engine.store.consent(other.id, "ayto").await.unwrap(),
        None
    );
    op.stop().await;
}

#[tokio::test]
async fn oidc_consent_after_a_login_for_the_request_does_not_ask_to_log_in_again() {
    use pasarela::oidc::client::{GrantType, NewClient};
    let op = op().await;
    let (rp, _) = NewClient {
        id: "dyn".into(),
        display_name: "Servei".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode],
        ..Default::default()
    }
    .build()
    .unwrap();
    op.server
        .state
        .engine
        .store
        .put_relying_party(&rp)
        .await
        .unwrap();
    // prompt=login: to the login page first, then back for consent.
    let res = op
        .get(&authorize_scoped(
            "dyn",
            "openid email",
            &[
                ("prompt", "login"),
                ("state", "fp"),
                ("response_mode", "form_post"),
                ("ui_locales", "ca"),
            ],
        ))
        .await;
    let (login, q) = answer_of(res).await;
    assert!(login);
    let resume = q["continue"].clone();
    let pending = query_of(&format!("http://x{resume}"))["id"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/oidc/consent?id={pending}&lang=ca"));
    let page = op.get(&location).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<li>La vostra adreça de correu electrònic</li>"));
    assert!(!html.contains("<img"), "no logo registered");
    assert!(
        !html.contains("client-links"),
        "no policy or terms registered"
    );
    let csrf = hidden_value(&html, "csrf").unwrap();
    // The login was for this request, so it still counts as fresh: the answer, not a login.
    let res = consent_post(&op, &pending, &csrf, "accept").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(hidden_value(&html, "code").is_some(), "{html}");
    assert_eq!(hidden_value(&html, "state").as_deref(), Some("fp"));
    assert_eq!(hidden_value(&html, "iss").as_deref(), Some(ISSUER));
    op.stop().await;
}

/// POSTs a pushed authorization request, answering the status and the JSON body.
async fn push(
    op: &Op,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let (status, body, headers) = post_form(op, "/oidc/par", basic, form).await;
    (status, serde_json::from_str(&body).unwrap(), headers)
}

#[tokio::test]
async fn oidc_pushed_authorization_requests_are_used_once_by_their_client() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = op().await;
    let meta: Value = op
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["pushed_authorization_request_endpoint"],
        format!("{ISSUER}/oidc/par")
    );
    assert_eq!(meta["require_pushed_authorization_requests"], false);
    let sede = ("sede", op.secret.as_str());
    let request = [
        ("response_type", "code"),
        ("scope", "openid email"),
        ("redirect_uri", CB),
        ("state", "st-par"),
        ("nonce", "n-par"),
    ];
    let (status, body, headers) = push(&op, Some(sede), &request).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["expires_in"], 60);
    let uri = body["request_uri"].as_str().unwrap().to_owned();
    let random = uri
        .strip_prefix("urn:ietf:params:oauth:request_uri:")
        .expect("an RFC 9126 urn");
    assert!(random.len() >= 22, "at least 128 bits: {random}");
    let by_uri = |client: &str, uri: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", client);
        q.append_pair("request_uri", uri);
        format!("/oidc/authorize?{}", q.finish())
    };
    // Another client naming it: refused, and it is not spent by that.
    let res = op.get(&by_uri("app", &uri)).await;
    let (login, q) = answer_of(res).await;
    assert!(!login);
    assert_eq!(q["error"], "invalid_request_uri");
    assert!(
        !q.contains_key("state"),
        "the pushed state is not the other client's"
    );
    // No session: the pushed request goes to the login page and comes back with a code.
    let (login, q) = answer_of(op.get(&by_uri("sede", &uri)).await).await;
    assert!(login);
    assert_eq!(q["acr"], "substantial");
    let resume = q["continue"].clone();
    op.sign_in(LevelOfAssurance::Substantial).await;
    let (login, q) = answer_of(op.get(&resume).await).await;
    assert!(!login);
    assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("st-par", ISSUER));
    let tokens = exchange(&op, &q["code"]).await;
    let id = verify_id_token(
        &op,
        "sede",
        tokens["id_token"].as_str().unwrap(),
        Some("n-par"),
    )
    .await;
    let info = userinfo_of(&op, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["email"], op.citizen.email.as_str());
    // Used once.
    let (login, q) = answer_of(op.get(&by_uri("sede", &uri)).await).await;
    assert!(!login);
    assert_eq!(q["error"], "invalid_request_uri");
    assert_eq!(q["iss"], ISSUER);
    // Unknown (or expired): the same. Unknown client: a page.
    let (_, q) = answer_of(
        op.get(&by_uri("sede", "urn:ietf:params:oauth:request_uri:nope"))
            .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request_uri");
    let res = op.get(&by_uri("nobody", &uri)).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    // Errors at the PAR endpoint are JSON in the token endpoint's shape.
    let (status, body, headers) = push(&op, Some(("sede", "wrong")), &request).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(headers["cache-control"], "no-store");
    let with = |extra: (&'static str, &'static str)| {
        let mut r: Vec<(&str, &str)> = request.to_vec();
        r.retain(|(k, _)| *k != extra.0);
        r.push(extra);
        r
    };
    for (extra, code) in [
        (
            ("redirect_uri", "https://evil.example/cb"),
            "invalid_request",
        ),
        (("scope", "email"), "invalid_scope"),
        (("response_type", "token"), "unsupported_response_type"),
        (("response_type", "code id_token"), "unauthorized_client"),
        (
            ("request_uri", "https://rp.example/r.jwt"),
            "invalid_request",
        ),
        (("request", "a.b."), "invalid_request_object"),
    ] {
        let (status, body, headers) = push(&op, Some(sede), &with(extra)).await;
        assert_eq!(status, 400, "{extra:?}: {body}");
        assert_eq!(body["error"], code, "{extra:?}");
        assert_eq!(headers["cache-control"], "no-store");
    }
    // A client_id other than the authenticated client's: the authentication fails.
    let (status, body, _) = push(&op, Some(sede), &with(("client_id", "app"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // A public client pushes with its client_id (PKCE still required).
    let (status, body, _) = push(
        &op,
        None,
        &[
            ("client_id", "app"),
            ("response_type", "code"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body, _) = push(
        &op,
        None,
        &[
            ("client_id", "app"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (login, q) = answer_of(
        op.get(&by_uri("app", body["request_uri"].as_str().unwrap()))
            .await,
    )
    .await;
    assert!(!login);
    assert!(q.contains_key("code"), "{q:?}");
    // A request object inside the pushed request is expanded as at the authorization
    // endpoint: its parameters win.
    let (rp, secret) = NewClient {
        id: "objects".into(),
        display_name: "Objects".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        id_token_alg: pasarela::core::keys::JwsAlg::RS256,
        min_level: LevelOfAssurance::Low,
        skip_consent: true,
        request_object_signing_alg: Some("none".into()),
        ..Default::default()
    }
    .build()
    .unwrap();
    op.server
        .state
        .engine
        .store
        .put_relying_party(&rp)
        .await
        .unwrap();
    let secret = secret.unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let object = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none"}"#),
        b64.encode(
            serde_json::json!({
                "iss": "objects", "aud": ISSUER, "client_id": "objects",
                "response_type": "code", "scope": "openid", "redirect_uri": CB,
                "state": "from-object",
            })
            .to_string()
        )
    );
    let (status, body, _) = push(
        &op,
        Some(("objects", &secret)),
        &[
            ("response_type", "code"),
            ("state", "from-form"),
            ("request", &object),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (login, q) = answer_of(
        op.get(&by_uri("objects", body["request_uri"].as_str().unwrap()))
            .await,
    )
    .await;
    assert!(!login);
    assert_eq!(q["state"], "from-object");
    assert!(q.contains_key("code"));
    op.stop().await;
}

#[tokio::test]
async fn oidc_pushed_authorization_requests_expire() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let d = journey_deployment("");
    let clock = Arc::new(pasarela::clock::ManualClock::new(chrono::Utc::now()));
    let server = pasarela::server::start(d.config(), clock.clone())
        .await
        .unwrap();
    let (rp, secret) = NewClient {
        id: "rp".into(),
        display_name: "RP".into(),
        redirect_uris: vec![CB.into()],
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        id_token_alg: pasarela::core::keys::JwsAlg::RS256,
        min_level: LevelOfAssurance::Low,
        ..Default::default()
    }
    .build()
    .unwrap();
    server
        .state
        .engine
        .store
        .put_relying_party(&rp)
        .await
        .unwrap();
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .post(format!("{base}/oidc/par"))
        .basic_auth("rp", secret.as_deref())
        .form(&[
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "late"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let uri = body["request_uri"].as_str().unwrap();
    clock.advance(chrono::Duration::seconds(61));
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", "rp");
    q.append_pair("request_uri", uri);
    let res = http
        .get(format!("{base}/oidc/authorize?{}", q.finish()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let q = query_of(res.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request_uri");
    assert!(!q.contains_key("code"));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn oidc_request_uri_is_fetched_verified_and_must_be_registered() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let op = op().await;
    let rp_server = MockServer::start().await;
    let key = openssl::rsa::Rsa::generate(2048).unwrap();
    let jwks = serde_json::json!({ "keys": [rsa_jwk(&key, "ro-1")] });
    let mut secrets = HashMap::new();
    for (id, uris) in [
        (
            "byref",
            vec![format!("{}/r.jwt#registered", rp_server.uri())],
        ),
        ("anyref", Vec::new()),
    ] {
        let (rp, secret) = NewClient {
            id: id.into(),
            display_name: id.into(),
            redirect_uris: vec![CB.into()],
            grant_types: vec![GrantType::AuthorizationCode],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            id_token_alg: pasarela::core::keys::JwsAlg::RS256,
            min_level: LevelOfAssurance::Low,
            skip_consent: true,
            jwks: Some(jwks.clone()),
            request_object_signing_alg: Some("RS256".into()),
            request_uris: uris,
            ..Default::default()
        }
        .build()
        .unwrap();
        op.server
            .state
            .engine
            .store
            .put_relying_party(&rp)
            .await
            .unwrap();
        secrets.insert(id, secret.unwrap());
    }
    let signed = |client: &str, state: &str, nonce: &str| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("ro-1".into());
        let claims = serde_json::json!({
            "iss": client, "aud": ISSUER, "client_id": client,
            "response_type": "code", "scope": "openid email", "redirect_uri": CB,
            "state": state, "nonce": nonce,
            "exp": chrono::Utc::now().timestamp() + 300,
        });
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(&key.private_key_to_der().unwrap()),
        )
        .unwrap()
    };
    let serve = |at: &str, body: String, hits: u64| {
        Mock::given(method("GET"))
            .and(path(at.to_owned()))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/oauth-authz-req+jwt")
                    .set_body_string(body),
            )
            .expect(hits)
    };
    serve("/r.jwt", signed("byref", "from-uri", "n-uri"), 1)
        .mount(&rp_server)
        .await;
    // Never fetched: byref did not register it.
    serve("/other.jwt", signed("byref", "evil", "n-evil"), 0)
        .mount(&rp_server)
        .await;
    serve("/any.jwt", signed("anyref", "from-any", "n-any"), 1)
        .mount(&rp_server)
        .await;
    // A tampered object: anyref's signature over other claims.
    let good = signed("anyref", "t", "n-t");
    let parts: Vec<&str> = good.split('.').collect();
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        serde_json::json!({
            "iss": "anyref", "aud": ISSUER, "client_id": "anyref", "scope": "openid",
            "redirect_uri": CB, "state": "forged",
        })
        .to_string(),
    );
    serve(
        "/forged.jwt",
        format!("{}.{forged}.{}", parts[0], parts[2]),
        1,
    )
    .mount(&rp_server)
    .await;
    op.sign_in(LevelOfAssurance::Substantial).await;
    let by_ref = |client: &str, uri: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", client);
        q.append_pair("response_type", "code");
        q.append_pair("scope", "openid");
        q.append_pair("state", "from-query");
        q.append_pair("request_uri", uri);
        format!("/oidc/authorize?{}", q.finish())
    };
    let mock = rp_server.uri();
    // Registered (compared without the fragment), fetched, verified with the client's keys:
    // the object's parameters win.
    let (login, q) = answer_of(
        op.get(&by_ref("byref", &format!("{mock}/r.jwt#another")))
            .await,
    )
    .await;
    assert!(!login);
    assert_eq!(q["state"], "from-uri");
    let (status, body, _) = op
        .token(
            "byref",
            Some(&secrets["byref"]),
            &[
                ("grant_type", "authorization_code"),
                ("code", q["code"].as_str()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    verify_id_token(
        &op,
        "byref",
        body["id_token"].as_str().unwrap(),
        Some("n-uri"),
    )
    .await;
    // Not registered: refused before any fetch, back to the client with the query's state.
    let (login, q) = answer_of(op.get(&by_ref("byref", &format!("{mock}/other.jwt"))).await).await;
    assert!(!login);
    assert_eq!(q["error"], "invalid_request_uri");
    assert_eq!(q["state"], "from-query");
    assert!(!q.contains_key("code"));
    // A client that registered no request_uris may use any fetchable one.
    let (_, q) = answer_of(op.get(&by_ref("anyref", &format!("{mock}/any.jwt"))).await).await;
    assert_eq!(q["state"], "from-any");
    assert!(q.contains_key("code"));
    // A tampered object, or one that is not there: refused.
    let (_, q) = answer_of(
        op.get(&by_ref("anyref", &format!("{mock}/forged.jwt")))
            .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request_object");
    assert!(!q.contains_key("code"));
    let (_, q) = answer_of(
        op.get(&by_ref("anyref", &format!("{mock}/missing.jwt")))
            .await,
    )
    .await;
    assert_eq!(q["error"], "invalid_request_uri");
    rp_server.verify().await;
    op.stop().await;
}

#[tokio::test]
async fn oidc_token_response_types_issue_an_access_token_in_the_fragment() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    use pasarela::oidc::id_token::at_hash;
    let op = op().await;
    let state = op.server.state.clone();
    let meta: Value = op
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let types = meta["response_types_supported"].as_array().unwrap();
    for t in ["code", "id_token", "id_token token", "code id_token token"] {
        assert!(types.iter().any(|v| v == t), "{t} advertised");
    }
    let mut secrets = HashMap::new();
    for (id, grants, types) in [
        (
            "implicit",
            vec![GrantType::Implicit],
            vec!["id_token token"],
        ),
        (
            "hybrid",
            vec![GrantType::AuthorizationCode, GrantType::Implicit],
            vec!["code id_token token", "code token"],
        ),
    ] {
        let (rp, secret) = NewClient {
            id: id.into(),
            display_name: id.into(),
            redirect_uris: vec![CB.into()],
            grant_types: grants,
            auth_method: ClientAuthMethod::ClientSecretBasic,
            id_token_alg: pasarela::core::keys::JwsAlg::RS256,
            min_level: LevelOfAssurance::Low,
            skip_consent: true,
            response_types: types.into_iter().map(str::to_owned).collect(),
            ..Default::default()
        }
        .build()
        .unwrap();
        state.engine.store.put_relying_party(&rp).await.unwrap();
        secrets.insert(id, secret.unwrap());
    }
    let path = |client: &str, rt: &str, extra: &[(&str, &str)]| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", client);
        q.append_pair("response_type", rt);
        q.append_pair("scope", "openid email");
        q.append_pair("redirect_uri", CB);
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        format!("/oidc/authorize?{}", q.finish())
    };
    let fragment = |res: reqwest::Response| {
        assert_eq!(res.status(), 303);
        fragment_of(res.headers()["location"].to_str().unwrap())
    };
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    // Registered for id_token token only: other response types are refused.
    let f = fragment(
        op.get(&path("implicit", "id_token", &[("nonce", "n")]))
            .await,
    );
    assert_eq!(f["error"], "unauthorized_client");
    // A nonce is required.
    let f = fragment(op.get(&path("implicit", "id_token token", &[])).await);
    assert_eq!(f["error"], "invalid_request");
    // id_token token: an access token and an ID token bound to it by at_hash.
    let f = fragment(
        op.get(&path(
            "implicit",
            "id_token token",
            &[("nonce", "n-it"), ("state", "s-it")],
        ))
        .await,
    );
    assert!(!f.contains_key("code") && !f.contains_key("refresh_token"));
    assert_eq!((f["state"].as_str(), f["iss"].as_str()), ("s-it", ISSUER));
    assert_eq!(f["token_type"], "Bearer");
    assert_eq!(f["expires_in"], "600");
    let access = f["access_token"].clone();
    assert!(access.len() >= 43, "256 bits");
    let id = verify_id_token(&op, "implicit", &f["id_token"], Some("n-it")).await;
    assert_eq!(id["at_hash"], at_hash(&access).as_str());
    assert!(id.get("c_hash").is_none());
    assert_eq!(id["sid"], session.id.to_string());
    assert!(
        id.get("email").is_none(),
        "the access token fetches the scope's claims at userinfo"
    );
    let info = userinfo_of(&op, &access).await;
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["email"], op.citizen.email.as_str());
    // code id_token token: c_hash and at_hash; the code redeems; a replayed code revokes the
    // front access token with the rest of its family.
    let f = fragment(
        op.get(&path(
            "hybrid",
            "code id_token token",
            &[("nonce", "n-h"), ("state", "s-h")],
        ))
        .await,
    );
    let (code, access) = (f["code"].clone(), f["access_token"].clone());
    let id = verify_id_token(&op, "hybrid", &f["id_token"], Some("n-h")).await;
    assert_eq!(id["at_hash"], at_hash(&access).as_str());
    assert_eq!(id["c_hash"], at_hash(&code).as_str());
    assert_eq!(userinfo_of(&op, &access).await["sub"], id["sub"]);
    let redeem = |code: String| {
        let secret = secrets["hybrid"].clone();
        let op = &op;
        async move {
            op.token(
                "hybrid",
                Some(&secret),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CB),
                ],
            )
            .await
        }
    };
    let (status, body, _) = redeem(code.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = redeem(code).await;
    assert_eq!(status, 400);
    let res = op
        .http
        .get(format!("{}/oidc/userinfo", op.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "revoked with the code's family");
    // code token: a code and an access token, no ID token at the front.
    let f = fragment(
        op.get(&path("hybrid", "code token", &[("state", "s-ct")]))
            .await,
    );
    assert!(f.contains_key("code") && !f.contains_key("id_token"));
    assert_eq!(f["token_type"], "Bearer");
    userinfo_of(&op, &f["access_token"]).await;
    // Never in the query.
    let f = fragment(
        op.get(&path("hybrid", "code token", &[("response_mode", "query")]))
            .await,
    );
    assert_eq!(f["error"], "invalid_request");
    op.stop().await;
}
