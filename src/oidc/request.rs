//! Validating an authorization request, in the order that decides how errors are answered:
//! the client and the redirect URI first (errors shown on a page, never redirected), then
//! everything else (errors redirected to the client with `state` and `iss`).

use super::client::{ClientAuthMethod, OidcClient};
use super::error::AuthzError;
use super::scopes;
use crate::core::level::{LevelOfAssurance, LevelVocabulary};
use crate::store::oidc_tokens::RequestedClaims;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// How the authorization response travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query.
    Query,
    /// An auto-submitted HTML form POSTed to the redirect URI.
    FormPost,
    /// Parameters in the redirect URI's fragment (the default when an ID token is returned
    /// from the authorization endpoint).
    Fragment,
}

/// What the authorization endpoint returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// `code`.
    #[default]
    Code,
    /// `id_token` (implicit, no access token).
    IdToken,
    /// `code id_token` (hybrid).
    CodeIdToken,
    /// `id_token token` (implicit, with an access token).
    IdTokenToken,
    /// `code token` (hybrid, an access token without an ID token at the front).
    CodeToken,
    /// `code id_token token` (hybrid, everything).
    CodeIdTokenToken,
}

impl ResponseType {
    /// Parses a `response_type` value, its words in any order.
    pub fn parse(value: &str) -> Option<Self> {
        let mut words: Vec<&str> = value.split(' ').filter(|s| !s.is_empty()).collect();
        words.sort_unstable();
        match words.as_slice() {
            ["code"] => Some(Self::Code),
            ["id_token"] => Some(Self::IdToken),
            ["code", "id_token"] => Some(Self::CodeIdToken),
            ["id_token", "token"] => Some(Self::IdTokenToken),
            ["code", "token"] => Some(Self::CodeToken),
            ["code", "id_token", "token"] => Some(Self::CodeIdTokenToken),
            _ => None,
        }
    }

    /// The registered form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::IdToken => "id_token",
            Self::CodeIdToken => "code id_token",
            Self::IdTokenToken => "id_token token",
            Self::CodeToken => "code token",
            Self::CodeIdTokenToken => "code id_token token",
        }
    }

    /// Whether a code is returned.
    pub fn has_code(self) -> bool {
        !matches!(self, Self::IdToken | Self::IdTokenToken)
    }

    /// Whether an ID token is returned from the authorization endpoint.
    pub fn has_id_token(self) -> bool {
        matches!(
            self,
            Self::IdToken | Self::CodeIdToken | Self::IdTokenToken | Self::CodeIdTokenToken
        )
    }

    /// Whether an access token is returned from the authorization endpoint.
    pub fn has_token(self) -> bool {
        matches!(
            self,
            Self::IdTokenToken | Self::CodeToken | Self::CodeIdTokenToken
        )
    }
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
    /// `prompt=consent`: the consent page is shown even when consent was given before.
    #[serde(default)]
    pub prompt_consent: bool,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`, passed to the login page.
    pub login_hint: Option<String>,
    /// The level the citizen is sent to reach: the client's minimum, raised by `acr_values`
    /// or a requested `acr` claim.
    pub required_level: LevelOfAssurance,
    /// The first of `ui_locales` that the pages speak (`es`, `ca` or `en`).
    #[serde(default)]
    pub ui_locale: Option<String>,
    /// The hard floor: the client's minimum, raised by an essential `acr` claim. Below it no
    /// code is ever issued. `None` in requests kept before it existed: then
    /// `required_level` is the floor.
    #[serde(default)]
    pub minimum_level: Option<LevelOfAssurance>,
    /// Claims asked for by name with the `claims` parameter.
    #[serde(default)]
    pub claims: RequestedClaims,
    /// The `sub` and audience of a verified `id_token_hint`.
    #[serde(default)]
    pub hint: Option<HintedSubject>,
    /// The response type.
    #[serde(default)]
    pub response_type: ResponseType,
}

impl AuthzRequest {
    /// The level below which the request is never answered with a code.
    pub fn floor(&self) -> LevelOfAssurance {
        self.minimum_level.unwrap_or(self.required_level)
    }
}

/// Whom a verified `id_token_hint` names: its `sub` as seen by its audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HintedSubject {
    /// The hint's `sub`.
    pub sub: String,
    /// The client the hint was issued to (its `aud`).
    pub client_id: String,
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
    // An ID token never travels in a query (OAuth 2.0 Multiple Response Types §5): the
    // fragment is the default whenever one is returned, errors included.
    let front_token = params
        .get("response_type")
        .and_then(ResponseType::parse)
        .is_some_and(|t| t != ResponseType::Code);
    let mode = match params.get("response_mode") {
        Some("form_post") => ResponseMode::FormPost,
        Some("fragment") => ResponseMode::Fragment,
        _ if front_token => ResponseMode::Fragment,
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
        None | Some("query" | "form_post" | "fragment") => {}
        Some(_) => {
            return Err(fail(AuthzError::invalid_request(
                "unsupported response_mode",
            )));
        }
    }
    let response_type = match params.get("response_type") {
        None => return Err(fail(AuthzError::invalid_request("response_type missing"))),
        Some(t) => match ResponseType::parse(t) {
            Some(t) => t,
            None => {
                return Err(fail(AuthzError::new(
                    "unsupported_response_type",
                    "response_type must be code, id_token, id_token token, code id_token, code token or code id_token token",
                )));
            }
        },
    };
    if !client.allows_response_type(response_type.as_str()) {
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
    if response_type != ResponseType::Code {
        if params.get("response_mode") == Some("query") {
            return Err(fail(AuthzError::invalid_request(
                "response_mode=query is not allowed when a token is returned",
            )));
        }
        // OIDC Core §3.2.2.1, §3.3.2.11: required whenever an ID token comes from here.
        if response_type.has_id_token() && params.get("nonce").is_none() {
            return Err(fail(AuthzError::invalid_request(
                "nonce is required when an ID token is returned",
            )));
        }
    }
    let granted = scopes::granted(params.get("scope").unwrap_or(""));
    if !granted.contains(&"openid") {
        return Err(fail(AuthzError::new(
            "invalid_scope",
            "the openid scope is required",
        )));
    }
    let code_challenge = pkce(client, params, response_type.has_code()).map_err(fail)?;
    let (prompt_none, prompt_login) = prompt(params).map_err(fail)?;
    let asked = claims_param(params.get("claims"), vocabulary).map_err(fail)?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(fail(AuthzError::invalid_request("max_age is not valid"))),
        },
    };
    // acr_values lists acceptable classes; any of them will do, so the lowest known one is
    // what the citizen is sent to reach. Unknown values are ignored. It is voluntary (OIDC
    // Core §3.1.2.1): a citizen who ends below it is answered with the level reached. The
    // client's minimum and an essential acr claim are hard (§5.5.1.1).
    let voluntary = params
        .get("acr_values")
        .into_iter()
        .flat_map(|v| v.split(' '))
        .filter_map(|a| vocabulary.level_for_acr(a))
        .chain(asked.voluntary)
        .min();
    // A named service (`service=NAME`, a pasarela extension) raises the client's minimum to
    // its own; a name the client never declared is refused rather than ignored.
    let client_floor = match params.get("service") {
        None => client.rp.min_level,
        Some(name) if client.rp.services.iter().any(|s| s.name == name) => {
            client.rp.required_level(Some(name))
        }
        Some(_) => {
            return Err(fail(AuthzError::invalid_request(
                "service is not a service of this client",
            )));
        }
    };
    let minimum_level = asked
        .essential
        .map_or(client_floor, |l| l.max(client_floor));
    let required_level = voluntary.map_or(minimum_level, |l| l.max(minimum_level));
    Ok(AuthzRequest {
        client_id: client.id().to_owned(),
        reply,
        scope: granted.join(" "),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        prompt_none,
        prompt_login,
        prompt_consent: params
            .get("prompt")
            .is_some_and(|p| p.split(' ').any(|v| v == "consent")),
        max_age,
        login_hint: params.get("login_hint").map(str::to_owned),
        required_level,
        ui_locale: params.get("ui_locales").and_then(|l| {
            l.split(' ')
                .filter_map(|tag| tag.split('-').next())
                .map(|lang| lang.to_ascii_lowercase())
                .find(|lang| matches!(lang.as_str(), "es" | "ca" | "en"))
        }),
        minimum_level: Some(minimum_level),
        claims: asked.claims,
        hint: None,
        response_type,
    })
}

/// What a `claims` parameter asks for.
#[derive(Debug, Default)]
struct AskedClaims {
    claims: RequestedClaims,
    /// The lowest level of an essential `acr` request's values.
    essential: Option<LevelOfAssurance>,
    /// The lowest level of a voluntary `acr` request's values.
    voluntary: Option<LevelOfAssurance>,
}

/// Parses the `claims` parameter (OIDC Core §5.5): a JSON object whose `id_token` and
/// `userinfo` members map claim names to `null` or `{essential, value, values}`.
fn claims_param(
    raw: Option<&str>,
    vocabulary: &LevelVocabulary,
) -> Result<AskedClaims, AuthzError> {
    let mut asked = AskedClaims::default();
    let Some(raw) = raw else {
        return Ok(asked);
    };
    let bad =
        || AuthzError::invalid_request("the claims parameter is not valid JSON of OIDC Core 5.5");
    let Ok(Value::Object(top)) = serde_json::from_str::<Value>(raw) else {
        return Err(bad());
    };
    for (member, names) in [
        ("id_token", &mut asked.claims.id_token),
        ("userinfo", &mut asked.claims.userinfo),
    ] {
        let Some(requests) = top.get(member) else {
            continue;
        };
        let Value::Object(requests) = requests else {
            return Err(bad());
        };
        for (name, spec) in requests {
            let spec = match spec {
                Value::Null => None,
                Value::Object(o) => Some(o),
                _ => return Err(bad()),
            };
            if !names.contains(name) {
                names.push(name.clone());
            }
            if name != "acr" {
                continue;
            }
            let Some(spec) = spec else { continue };
            let values: Vec<&str> = match (spec.get("value"), spec.get("values")) {
                (Some(Value::String(v)), _) => vec![v.as_str()],
                (_, Some(Value::Array(vs))) => vs.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let Some(level) = values
                .iter()
                .filter_map(|a| vocabulary.level_for_acr(a))
                .min()
            else {
                continue;
            };
            let slot = if spec.get("essential") == Some(&Value::Bool(true)) {
                &mut asked.essential
            } else {
                &mut asked.voluntary
            };
            *slot = Some(slot.map_or(level, |l| l.min(level)));
        }
    }
    Ok(asked)
}

/// The PKCE challenge; public clients must send one whenever a code is issued (without a
/// code there is nothing to bind it to).
fn pkce(
    client: &OidcClient,
    params: &Params,
    with_code: bool,
) -> Result<Option<String>, AuthzError> {
    let challenge = params.get("code_challenge");
    match (challenge, params.get("code_challenge_method")) {
        (None, Some(_)) => Err(AuthzError::invalid_request("code_challenge missing")),
        (None, None)
            if with_code
                && client.settings.token_endpoint_auth_method == ClientAuthMethod::None =>
        {
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
    // One account per browser: choosing an account means logging in again (as `login`).
    Ok((
        none,
        values.contains(&"login") || values.contains(&"select_account"),
    ))
}

/// The subject of an `id_token_hint`, verified as one of our own ID tokens (its expiry is
/// not checked: OIDC Core §3.1.2.1). A hint that is not ours is `invalid_request`.
pub fn hinted(
    params: &Params,
    keys: &crate::core::keys::KeyRing,
    issuer: &str,
) -> Result<Option<HintedSubject>, AuthzError> {
    let Some(hint) = params.get("id_token_hint") else {
        return Ok(None);
    };
    let bad = || AuthzError::invalid_request("id_token_hint is not an ID token of this provider");
    let payload = super::id_token::verify_own(keys, issuer, hint).ok_or_else(bad)?;
    let sub = payload.get("sub").and_then(Value::as_str).ok_or_else(bad)?;
    let client_id = super::id_token::audiences(&payload)
        .into_iter()
        .next()
        .ok_or_else(bad)?;
    Ok(Some(HintedSubject {
        sub: sub.to_owned(),
        client_id,
    }))
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
#[path = "request_tests.rs"]
mod tests;
