//! The test relying party: clients registered with the real command line, the authorization
//! request built once, a code got through the endpoint (a planted session) or the login pages,
//! exchanged at the token endpoint, and the ID token checked with the `openidconnect` crate's
//! verifier against the served JWKS.

use super::{Browser, Live, PASSWORD, journey_deployment, query_of};
use base64::Engine as _;
use pasarela::core::citizen::Citizen;
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::core::session::SsoSession;
use serde_json::Value;
use std::collections::HashMap;

pub const ISSUER: &str = "http://localhost:8080";
/// The callback of the suite's clients, with a registered query that must be kept.
pub const CB: &str = "http://localhost:9999/cb?x=1";
pub const BYE: &str = "http://localhost:9999/bye";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB0Y3bJbBZyY1mLyK4Zm4ggXvebHzA";
pub const CHALLENGE: &str = "jeKapnPfiU_wqJ_BaE7ygYSi_Jdlp6EJ8EvSCzMc5e4";
pub const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
pub const HIGH: &str = "http://eidas.europa.eu/LoA/high";
/// The scope the suite's requests ask for unless they say otherwise.
pub const SCOPE: &str = "openid profile email phone";

/// `/oidc/authorize?…` with `params`, in order: the one authorization request builder.
pub fn authorize_query(params: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    format!("/oidc/authorize?{}", q.finish())
}

/// `/oidc/logout?…` (RP-initiated logout) with `params`, in order.
pub fn logout_query(params: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    format!("/oidc/logout?{}", q.finish())
}

/// [`authorize_query`] for a code request of `client` to `redirect_uri` with `scope`, and
/// `extra` parameters after them.
pub fn authorize_url(
    client: &str,
    redirect_uri: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("client_id", client),
        ("response_type", "code"),
        ("scope", scope),
        ("redirect_uri", redirect_uri),
    ];
    params.extend_from_slice(extra);
    authorize_query(&params)
}

/// [`authorize_url`] to [`CB`] with [`SCOPE`].
pub fn authorize_path(client: &str, extra: &[(&str, &str)]) -> String {
    authorize_url(client, CB, SCOPE, extra)
}

/// [`authorize_url`] to [`CB`] with `scope`.
pub fn authorize_scoped(client: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    authorize_url(client, CB, scope, extra)
}

/// The OP with two clients: `sede` (confidential, basic, minimum substantial, a
/// post-logout URI) and `app` (public, ES256, code only); Lucía active with [`PASSWORD`];
/// `http` keeps the browser's cookies.
pub struct Rp {
    live: Live,
    pub citizen: Citizen,
    pub http: reqwest::Client,
    pub base: String,
    /// `sede`'s client secret.
    pub secret: String,
}

impl std::ops::Deref for Rp {
    type Target = Live;
    fn deref(&self) -> &Live {
        &self.live
    }
}

impl Rp {
    pub async fn start() -> Self {
        let d = journey_deployment("");
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
        let (live, citizen) = Live::with_lucia(d, &[], PASSWORD).await;
        Rp {
            http: live.b.client.clone(),
            base: live.b.base.clone(),
            live,
            citizen,
            secret,
        }
    }

    /// A password + SMS session at `level`, planted in the browser.
    pub async fn sign_in(&self, level: LevelOfAssurance) -> SsoSession {
        let (session, cookie) = self
            .live
            .session(&self.citizen, &[AuthMethod::Pwd, AuthMethod::Sms], level)
            .await;
        self.b.plant(&cookie);
        session
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// POSTs `form` to the token endpoint, with `client:secret` as basic credentials when a
    /// secret is given.
    pub async fn token(
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

    /// The token answer to `client` (basic credentials with `secret`) for a `code` sent to
    /// [`CB`], which must be a success.
    pub async fn exchange_for(&self, client: &str, secret: &str, code: &str) -> Value {
        exchange_code(&self.b, client, secret, CB, code).await
    }

    /// `sede` (basic credentials) refreshes with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> (u16, Value, reqwest::header::HeaderMap) {
        self.token(
            "sede",
            Some(&self.secret),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// GETs userinfo with `access_token` as the bearer.
    pub async fn userinfo(&self, access_token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/oidc/userinfo", self.base))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    pub async fn stop(self) {
        self.live.stop().await;
    }
}

/// The claims of a JWT's payload (or header, `part` 0), unverified.
pub fn jwt_part(jwt: &str, part: usize) -> Value {
    let p = jwt.split('.').nth(part).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

/// Verifies an ID token's signature and standard claims with the `openidconnect` crate.
pub async fn verify_id_token(op: &Rp, client: &str, id_token: &str, nonce: Option<&str>) -> Value {
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
    jwt_part(id_token, 1)
}

pub fn header_of(jwt: &str) -> Value {
    jwt_part(jwt, 0)
}

/// Runs an authorization that must succeed at once, returning the code.
pub async fn code_for(op: &Rp, client: &str, extra: &[(&str, &str)]) -> String {
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

/// Follows an authorization through the real login pages (password, then the SMS code) and
/// returns the client's callback query.
pub async fn through_the_login_pages(op: &Rp, authorize: &str) -> HashMap<String, String> {
    let res = op.get(authorize).await;
    assert_eq!(res.status(), 303);
    let login = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(login.starts_with("/login?"), "{login}");
    let html = op.b.get(&login).await.body;
    assert!(
        html.contains("current-password"),
        "the password is asked again"
    );
    let p = op.b.type_password_and_code(&op.d, PASSWORD).await;
    let resume = p.location.unwrap();
    assert!(resume.starts_with("/oidc/authorize/resume"), "{resume}");
    let res = op.get(&resume).await;
    assert_eq!(res.status(), 303);
    query_of(res.headers()["location"].to_str().unwrap())
}

/// The token answer, got with `b`'s client, to `client` (basic credentials with `secret`)
/// for a `code` sent to `redirect_uri`, which must be a success.
pub async fn exchange_code(
    b: &Browser,
    client: &str,
    secret: &str,
    redirect_uri: &str,
    code: &str,
) -> Value {
    let res = b
        .client
        .post(format!("{}/oidc/token", b.base))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// `sede`'s token answer for `code`, which must be a success.
pub async fn exchange(op: &Rp, code: &str) -> Value {
    op.exchange_for("sede", &op.secret, code).await
}

/// The verified ID token claims for a callback's code.
pub async fn claims_for(op: &Rp, q: &HashMap<String, String>) -> Value {
    let body = exchange(op, q["code"].as_str()).await;
    verify_id_token(op, "sede", body["id_token"].as_str().unwrap(), None).await
}

/// The userinfo answer for `access_token`, which must be a success.
pub async fn userinfo_of(op: &Rp, access_token: &str) -> Value {
    let res = op.userinfo(access_token).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The `location` of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// Where an authorization answer went: the login page's `continue`, or the client's query.
pub async fn answer_of(res: reqwest::Response) -> (bool, HashMap<String, String>) {
    assert_eq!(res.status(), 303);
    let location = location(&res);
    if location.starts_with("/login") {
        (true, query_of(&format!("http://x{location}")))
    } else {
        assert!(location.starts_with(CB), "{location}");
        (false, query_of(&location))
    }
}

/// The parameters in the fragment of a redirect to [`CB`] (whose query stays the registered
/// one).
pub fn fragment_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    assert!(url.query().is_none_or(|q| q == "x=1"), "{location}");
    url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// POSTs `form` to `path`, with basic credentials when given; the status, body and headers.
pub async fn post_form(
    op: &Rp,
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
