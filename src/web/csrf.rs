//! Protection against cross-site request forgery for every form: a random token in a
//! `__Host-` cookie (HttpOnly, SameSite=Strict, Secure; a plain name on development http,
//! where browsers refuse the prefix) that each form repeats in a hidden field. A forged
//! cross-site POST cannot read the cookie, so it cannot repeat the token.

use crate::core::random;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

/// Name of the hidden form field.
pub const FIELD: &str = "csrf";

fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-pasarela-csrf"
    } else {
        "pasarela-csrf"
    }
}

/// The token for forms on this page, and the jar to return (with a new cookie when the
/// browser had none).
pub fn token(
    jar: CookieJar,
    https: bool,
) -> Result<(CookieJar, String), openssl::error::ErrorStack> {
    if let Some(c) = jar.get(cookie_name(https))
        && c.value().len() >= 32
    {
        let value = c.value().to_owned();
        return Ok((jar, value));
    }
    let value = random::token(32)?;
    let cookie = Cookie::build((cookie_name(https), value.clone()))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .build();
    Ok((jar.add(cookie), value))
}

/// Whether the submitted token matches the browser's cookie (constant-time comparison).
pub fn verify(jar: &CookieJar, https: bool, submitted: &str) -> bool {
    match jar.get(cookie_name(https)) {
        Some(c) => {
            let expected = c.value().as_bytes();
            expected.len() >= 32
                && expected.len() == submitted.len()
                && openssl::memcmp::eq(expected, submitted.as_bytes())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_against_its_cookie() {
        let (jar, t) = token(CookieJar::new(), true).unwrap();
        assert!(verify(&jar, true, &t));
        assert!(!verify(&jar, true, "forged"));
        assert!(
            !verify(&jar, false, &t),
            "the http cookie name is different"
        );
        assert!(!verify(&CookieJar::new(), true, &t));
        let (jar2, t2) = token(jar, true).unwrap();
        assert_eq!(t, t2, "an existing cookie is kept");
        assert!(
            jar2.get("__Host-pasarela-csrf")
                .unwrap()
                .secure()
                .unwrap_or(false)
        );
    }
}
