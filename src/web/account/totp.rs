//! The TOTP second factor: enrolment (QR code and secret, confirmed with a first code) and
//! removal (confirmed with the current password).

use super::{actor, done_page, finish, form_page};
use crate::core::CoreError;
use crate::core::totp::TotpEnrolment;
use crate::web::auth::SignedIn;
use crate::web::client::ClientInfo;
use crate::web::error::PageError;
use crate::web::i18n::Tr;
use crate::web::pages::{check_csrf, see_other};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

/// The enrolment page: what to scan, what to type.
#[derive(Template)]
#[template(path = "account/totp_enrol.html")]
struct EnrolPage<'a> {
    tr: &'a Tr,
    csrf: String,
    qr: String,
    secret: String,
    error: Option<String>,
}

/// The page of an enrolled citizen: the remove form.
#[derive(Template)]
#[template(path = "account/totp_enrolled.html")]
struct EnrolledPage<'a> {
    tr: &'a Tr,
    csrf: String,
    error: Option<String>,
}

/// The confirmation form.
#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// The remove form.
#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
}

/// The name authenticator apps show next to the code: the site's host name.
fn issuer(state: &AppState) -> String {
    state
        .config
        .public_url
        .host_str()
        .unwrap_or("pasarela")
        .to_owned()
}

/// Splits the base32 secret into groups of four, easier to type.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The enrolment page (starting or resuming the enrolment), or the enrolled page.
async fn page(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    signed: &SignedIn,
    error: Option<String>,
) -> Result<Response, PageError> {
    let enrolment: TotpEnrolment = match state
        .engine
        .start_totp_enrolment(signed.citizen.id, &issuer(state))
        .await
    {
        Ok(e) => e,
        Err(CoreError::Conflict(_)) => {
            return form_page(tr, jar, client, |csrf| EnrolledPage {
                tr: &tr,
                csrf,
                error,
            });
        }
        Err(e) => return Err(e.into()),
    };
    form_page(tr, jar, client, |csrf| EnrolPage {
        tr: &tr,
        csrf,
        qr: enrolment.qr_png_base64.clone(),
        secret: grouped(&enrolment.secret_base32),
        error,
    })
}

/// `GET /account/totp`.
pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
) -> Response {
    finish(tr, page(&state, tr, jar, &client, &signed, None).await)
}

/// `POST /account/totp`: confirms the enrolment with a first code.
pub async fn confirm(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &f.csrf)?;
        let confirmed = match state
            .engine
            .confirm_totp_enrolment(signed.citizen.id, &f.code, &actor(&client))
            .await
        {
            Ok(c) => c,
            // Already enrolled (a second tab) or nothing started: the page says where it stands.
            Err(CoreError::Conflict(_) | CoreError::Refused(_)) => {
                return Ok(see_other("/account/totp"));
            }
            Err(e) => return Err(e.into()),
        };
        if confirmed {
            return Ok(see_other("/account/totp"));
        }
        let error = Some(tr.t("account-code-wrong"));
        page(&state, tr, jar, &client, &signed, error).await
    }
    .await;
    finish(tr, result)
}

/// `POST /account/totp/remove`: removes the TOTP after checking the current password.
pub async fn remove(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<RemoveForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &f.csrf)?;
        let actor = actor(&client);
        if !state
            .engine
            .confirm_current_password(
                signed.citizen.id,
                &f.current_password,
                &state.hasher,
                "totp_remove",
                &actor,
            )
            .await?
        {
            let error = Some(tr.t("account-wrong-current-password"));
            return page(&state, tr, jar, &client, &signed, error).await;
        }
        state.engine.remove_totp(signed.citizen.id, &actor).await?;
        Ok(see_other("/account/totp/removed"))
    }
    .await;
    finish(tr, result)
}

/// `GET /account/totp/removed`.
pub async fn removed(tr: Tr, _signed: SignedIn) -> Response {
    done_page(tr, "account-totp-removed-title", "account-totp-removed")
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_is_grouped_by_four() {
        assert_eq!(super::grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
        assert_eq!(super::grouped(""), "");
    }
}
