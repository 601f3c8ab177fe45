//! Small helpers shared by the citizen pages: checking the anti-forgery token of a posted
//! form, redirecting after a POST, and keeping a `continue` target on this site.

use super::client::ClientInfo;
use super::csrf;
use super::error::PageError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

/// Refuses a posted form whose anti-forgery token does not match the browser's cookie.
pub fn check_csrf(jar: &CookieJar, client: &ClientInfo, submitted: &str) -> Result<(), PageError> {
    if csrf::verify(jar, client.https, submitted) {
        Ok(())
    } else {
        Err(PageError::Csrf)
    }
}

/// `303 See Other` to `location` (a path on this site), the answer to a successful POST.
pub fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// `target` if it is a path on this site (`/...`, not `//host` nor `/\host`), so a
/// `continue` parameter cannot send the citizen to another site after logging in.
pub fn local_path(target: &str) -> Option<&str> {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && !target.chars().any(|c| c.is_control());
    ok.then_some(target)
}

/// `/login?continue=PATH` for a page that needs a signed-in citizen.
pub fn login_then(path_and_query: &str) -> String {
    let target: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    format!("/login?continue={target}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        assert_eq!(local_path("/account"), Some("/account"));
        assert_eq!(
            local_path("/oidc/authorize?x=1"),
            Some("/oidc/authorize?x=1")
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "account",
            "/a\nb",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(
            login_then("/account?a=1&b=2"),
            "/login?continue=%2Faccount%3Fa%3D1%26b%3D2"
        );
    }
}
