//! Validating an authorization request, in the order that decides how errors are answered:
//! the client and the redirect URI first (errors shown on a page, never redirected), then
//! everything else (errors redirected to the client with `state` and `iss`).

use super::client::{ClientAuthMethod, OidcClient};
use super::error::AuthzError;
use super::scopes;
use crate::core::level::{LevelOfAssurance, LevelVocabulary};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How the authorization response travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query.
    Query,
    /// An auto-submitted HTML form POSTed to the redirect URI.
    FormPost,
}

/// Where and how to answer the client, known once the client and redirect URI are trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// Whether the request named it (then the token request must repeat it).
    #[serde(default)]
    pub redirect_uri_sent: bool,
    /// Response mode.
    pub mode: ResponseMode,
    /// The request's `state`, echoed unchanged.
    pub state: Option<String>,
}

/// A validated authorization request (kept server-side while the citizen logs in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthzRequest {
    /// The client.
    pub client_id: String,
    /// Where to answer.
    pub reply: ReplyTo,
    /// Granted scopes, space separated.
    pub scope: String,
    /// The request's nonce.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// `prompt=none`.
    pub prompt_none: bool,
    /// `prompt=login`.
    pub prompt_login: bool,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`, passed to the login page.
    pub login_hint: Option<String>,
    /// The level the answer needs: the client's minimum, raised by `acr_values`.
    pub required_level: LevelOfAssurance,
    /// The first of `ui_locales` that the pages speak (`es`, `ca` or `en`).
    #[serde(default)]
    pub ui_locale: Option<String>,
}

/// Why a request cannot be answered.
#[derive(Debug)]
pub enum Rejection {
    /// Shown to the citizen (the message key of the `oidc` messages).
    Displayed(&'static str),
    /// Sent back to the client.
    Redirected(ReplyTo, AuthzError),
}

/// Request parameters; a parameter given twice is refused (RFC 6749 §3.1).
pub struct Params(HashMap<String, String>, Option<String>);

impl Params {
    /// Collects pairs; remembers the first repeated name.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut map = HashMap::new();
        let mut repeated = None;
        for (k, v) in pairs {
            if map.contains_key(&k) && repeated.is_none() {
                repeated = Some(k.clone());
            }
            map.insert(k, v);
        }
        Self(map, repeated)
    }

    /// A non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// These parameters with `overrides` taking precedence and `request` / `request_uri`
    /// removed: a request object's parameters over the query's (OIDC Core §6.3.3).
    pub fn overlaid(&self, overrides: Vec<(String, String)>) -> Self {
        let mut map = self.0.clone();
        map.remove("request");
        map.remove("request_uri");
        map.extend(overrides);
        Self(map, self.1.clone())
    }
}

/// Step one: the client and the redirect URI. Any failure here is displayed.
pub fn trusted_reply(client: &OidcClient, params: &Params) -> Result<ReplyTo, Rejection> {
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) if client.has_redirect_uri(uri) => uri.to_owned(),
        Some(_) => return Err(Rejection::Displayed("oidc-error-redirect-uri")),
        None => match client.settings.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => return Err(Rejection::Displayed("oidc-error-redirect-uri")),
        },
    };
    let mode = match params.get("response_mode") {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    Ok(ReplyTo {
        redirect_uri,
        redirect_uri_sent: params.get("redirect_uri").is_some(),
        mode,
        state: params.0.get("state").cloned(),
    })
}

/// Step two: everything else, against the trusted reply.
pub fn validate(
    client: &OidcClient,
    params: &Params,
    reply: ReplyTo,
    vocabulary: &LevelVocabulary,
) -> Result<AuthzRequest, Rejection> {
    let fail = |e: AuthzError| Rejection::Redirected(reply.clone(), e);
    if let Some(name) = &params.1 {
        // Only safe characters go back in error_description (RFC 6749 §4.1.2.1).
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        return Err(fail(AuthzError::invalid_request(format!(
            "parameter {name} given more than once"
        ))));
    }
    match params.get("response_mode") {
        None | Some("query" | "form_post") => {}
        Some(_) => {
            return Err(fail(AuthzError::invalid_request(
                "unsupported response_mode",
            )));
        }
    }
    match params.get("response_type") {
        None => return Err(fail(AuthzError::invalid_request("response_type missing"))),
        Some("code") => {}
        Some(_) => {
            return Err(fail(AuthzError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            )));
        }
    }
    if !client.settings.response_types.iter().any(|t| t == "code") {
        return Err(fail(AuthzError::new(
            "unauthorized_client",
            "the client may not use this response type",
        )));
    }
    if params.get("request").is_some() {
        return Err(fail(AuthzError::new(
            "request_not_supported",
            "request objects are not supported",
        )));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(AuthzError::new(
            "request_uri_not_supported",
            "request_uri is not supported",
        )));
    }
    let granted = scopes::granted(params.get("scope").unwrap_or(""));
    if !granted.contains(&"openid") {
        return Err(fail(AuthzError::new(
            "invalid_scope",
            "the openid scope is required",
        )));
    }
    let code_challenge = pkce(client, params).map_err(fail)?;
    let (prompt_none, prompt_login) = prompt(params).map_err(fail)?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(fail(AuthzError::invalid_request("max_age is not valid"))),
        },
    };
    // acr_values lists acceptable classes; any of them will do, so the lowest known one is
    // what must be reached. Unknown values are ignored; never below the client's minimum.
    let requested = params
        .get("acr_values")
        .into_iter()
        .flat_map(|v| v.split(' '))
        .filter_map(|a| vocabulary.level_for_acr(a))
        .min();
    let required_level = requested.map_or(client.rp.min_level, |l| l.max(client.rp.min_level));
    Ok(AuthzRequest {
        client_id: client.id().to_owned(),
        reply,
        scope: granted.join(" "),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        prompt_none,
        prompt_login,
        max_age,
        login_hint: params.get("login_hint").map(str::to_owned),
        required_level,
        ui_locale: params.get("ui_locales").and_then(|l| {
            l.split(' ')
                .filter_map(|tag| tag.split('-').next())
                .map(|lang| lang.to_ascii_lowercase())
                .find(|lang| matches!(lang.as_str(), "es" | "ca" | "en"))
        }),
    })
}

fn pkce(client: &OidcClient, params: &Params) -> Result<Option<String>, AuthzError> {
    let challenge = params.get("code_challenge");
    match (challenge, params.get("code_challenge_method")) {
        (None, Some(_)) => Err(AuthzError::invalid_request("code_challenge missing")),
        (None, None) if client.settings.token_endpoint_auth_method == ClientAuthMethod::None => {
            Err(AuthzError::invalid_request(
                "PKCE (code_challenge with S256) is required for public clients",
            ))
        }
        (None, None) => Ok(None),
        (Some(c), Some("S256")) => {
            let ok = (43..=128).contains(&c.len())
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if ok {
                Ok(Some(c.to_owned()))
            } else {
                Err(AuthzError::invalid_request("code_challenge is not valid"))
            }
        }
        (Some(_), _) => Err(AuthzError::invalid_request(
            "code_challenge_method must be S256",
        )),
    }
}

fn prompt(params: &Params) -> Result<(bool, bool), AuthzError> {
    let values: Vec<&str> = params
        .get("prompt")
        .map(|p| p.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if let Some(bad) = values
        .iter()
        .find(|v| !matches!(**v, "none" | "login" | "consent" | "select_account"))
    {
        return Err(AuthzError::invalid_request(format!(
            "unknown prompt value {}",
            bad.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        )));
    }
    let none = values.contains(&"none");
    if none && values.len() > 1 {
        return Err(AuthzError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok((none, values.contains(&"login")))
}

/// `redirect_uri` with `params` added to its query (existing query parameters kept).
pub fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> Option<String> {
    if params.is_empty() {
        return Some(redirect_uri.to_owned());
    }
    let mut url = url::Url::parse(redirect_uri).ok()?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
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
}
