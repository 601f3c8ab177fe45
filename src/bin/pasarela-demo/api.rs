//! The demo's resource server: `GET /api/servicios/{name}` with an access token, answering
//! an insufficient authentication per RFC 9470 (OAuth 2.0 Step Up Authentication Challenge).
//!
//! The token is introspected at pasarela (RFC 7662, `client_secret_basic`); the answer carries
//! `acr` and `auth_time`. When the `acr` is below the service's level, or the authentication is
//! older than the service's `max_age`, the API answers
//!
//! ```text
//! 401 Unauthorized
//! WWW-Authenticate: Bearer error="insufficient_user_authentication",
//!   error_description="…", acr_values="http://eidas.europa.eu/LoA/high"
//! ```
//!
//! (with `max_age="300"` when the age is the reason). A missing token answers a bare
//! `Bearer realm=…` challenge and an inactive one `error="invalid_token"` (RFC 6750 §3).

use crate::AppState;
use crate::services::{Level, Service, service};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The realm of the API's challenges.
const REALM: &str = "sede-demo";

/// What the API decided about a token for a service.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// RFC 9470: the `acr` is too low.
    NeedLevel(Level),
    /// RFC 9470: the authentication is older than `max_age` seconds.
    TooOld(Level, u64),
}

/// The decision for a token at `acr` authenticated at `auth_time`, `now` (Unix seconds).
pub fn decide(s: &Service, acr: Option<&str>, auth_time: Option<i64>, now: i64) -> Decision {
    let Some(needed) = s.level else {
        return Decision::Allow;
    };
    if acr.and_then(Level::from_acr).is_none_or(|l| l < needed) {
        return Decision::NeedLevel(needed);
    }
    if let Some(max) = s.max_age {
        let fresh = auth_time.is_some_and(|t| now - t <= max as i64);
        if !fresh {
            return Decision::TooOld(needed, max);
        }
    }
    Decision::Allow
}

/// A quoted-string (RFC 9110) for a challenge parameter. Descriptions are ASCII, as RFC 6750
/// §3 requires of `error_description`.
fn quoted(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The `WWW-Authenticate` value for a refused decision.
pub fn challenge(d: &Decision) -> Option<String> {
    match d {
        Decision::Allow => None,
        Decision::NeedLevel(l) => Some(format!(
            "Bearer error=\"insufficient_user_authentication\", error_description={}, acr_values={}",
            quoted(&format!("This service needs the level of assurance {l}")),
            quoted(l.uri())
        )),
        Decision::TooOld(l, max) => Some(format!(
            "Bearer error=\"insufficient_user_authentication\", error_description={}, acr_values={}, max_age={}",
            quoted(&format!(
                "This service needs an authentication at most {max} seconds old"
            )),
            quoted(l.uri()),
            quoted(&max.to_string())
        )),
    }
}

fn unauthorized(www: String, body: Value) -> Response {
    let mut res = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&www).expect("an ASCII challenge"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The bearer token of an `Authorization` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The (sample) data of a service for the citizen `sub`.
pub fn data(s: &Service, sub: Option<&str>, acr: Option<&str>) -> Value {
    let datos = match s.name {
        "informacion" => json!({
            "Oficinas": "Cita previa en cualquier Centro de Atención e Información",
            "Plazo de solicitud de prestaciones": "3 meses",
        }),
        "vida-laboral" => json!({
            "Días en alta": "7.305",
            "Último periodo": "Régimen General, desde 01/03/2006",
        }),
        "domicilio" => json!({
            "Domicilio registrado": "Calle Mayor 1, 28013 Madrid",
        }),
        _ => json!({
            "Cuenta de cobro": "ES** **** **** **** **** 1234",
        }),
    };
    json!({ "servicio": s.name, "sub": sub, "acr": acr, "datos": datos })
}

/// `GET /api/servicios/{name}`
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(s) = service(&name) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such service"})),
        )
            .into_response();
    };
    if s.level.is_none() {
        return Json(data(s, None, None)).into_response();
    }
    let Some(token) = bearer(&headers) else {
        return unauthorized(
            format!("Bearer realm={}", quoted(REALM)),
            json!({"error": "unauthorized"}),
        );
    };
    let info = match state.oidc.introspect(&state, token).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("introspection failed: {e:#}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "introspection unavailable"})),
            )
                .into_response();
        }
    };
    if info["active"] != true {
        return unauthorized(
            format!(
                "Bearer realm={}, error=\"invalid_token\", error_description=\"The access token is not active\"",
                quoted(REALM)
            ),
            json!({"error": "invalid_token"}),
        );
    }
    let acr = info["acr"].as_str();
    let now = chrono::Utc::now().timestamp();
    let decision = decide(s, acr, info["auth_time"].as_i64(), now);
    match challenge(&decision) {
        None => Json(data(s, info["sub"].as_str(), acr)).into_response(),
        Some(www) => unauthorized(
            www,
            json!({"error": "insufficient_user_authentication", "acr": acr}),
        ),
    }
}

/// The parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 9110 auth-params).
pub fn parse_challenge(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim_start();
    let (scheme, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if rest.is_empty() {
            return Some(out);
        }
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        if let Some(q) = after.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => val.push(c),
                }
            }
            rest = &q[end?..];
            out.push((key, val));
        } else {
            let end = after.find(',').unwrap_or(after.len());
            out.push((key, after[..end].trim().to_owned()));
            rest = &after[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_ages_decide() {
        let cobro = service("cobro").unwrap();
        let vida = service("vida-laboral").unwrap();
        let sub = Level::Substantial.uri();
        let high = Level::High.uri();
        assert_eq!(decide(vida, Some(sub), None, 0), Decision::Allow);
        assert_eq!(
            decide(vida, Some(Level::Low.uri()), None, 0),
            Decision::NeedLevel(Level::Substantial)
        );
        assert_eq!(
            decide(vida, None, None, 0),
            Decision::NeedLevel(Level::Substantial)
        );
        assert_eq!(
            decide(cobro, Some(sub), Some(1000), 1000),
            Decision::NeedLevel(Level::High)
        );
        assert_eq!(decide(cobro, Some(high), Some(1000), 1300), Decision::Allow);
        assert_eq!(
            decide(cobro, Some(high), Some(1000), 1301),
            Decision::TooOld(Level::High, 300)
        );
        assert_eq!(
            decide(service("informacion").unwrap(), None, None, 0),
            Decision::Allow
        );
    }

    #[test]
    fn challenges_follow_rfc_9470_and_parse_back() {
        let www = challenge(&Decision::NeedLevel(Level::High)).unwrap();
        assert_eq!(
            www,
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"This service needs the level of assurance high\", \
             acr_values=\"http://eidas.europa.eu/LoA/high\""
        );
        let www = challenge(&Decision::TooOld(Level::High, 300)).unwrap();
        let p = parse_challenge(&www).unwrap();
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("error"), Some("insufficient_user_authentication"));
        assert_eq!(get("acr_values"), Some("http://eidas.europa.eu/LoA/high"));
        assert_eq!(get("max_age"), Some("300"));
        let p = parse_challenge("Bearer realm=\"a\\\"b\", error=invalid_token").unwrap();
        assert_eq!(
            p,
            vec![
                ("realm".to_owned(), "a\"b".to_owned()),
                ("error".to_owned(), "invalid_token".to_owned())
            ]
        );
        assert!(parse_challenge("Basic realm=\"x\"").is_none());
    }
}
