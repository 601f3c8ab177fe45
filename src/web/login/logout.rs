//! Logging out: a confirmation form, then the SSO session ends everywhere.

use super::*;

#[derive(Template)]
#[template(path = "login/logout.html")]
pub(super) struct LogoutPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "login/logged_out.html")]
pub(super) struct LoggedOutPage<'a> {
    tr: &'a Tr,
}

/// `GET /logout`: asks to confirm (a link alone must not end a session).
pub(super) async fn logout_form(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Response {
    let origins = match slo_origins(&state, &jar, client.https).await {
        Ok(o) => o,
        Err(e) => return page_error(tr, e),
    };
    match csrf::token(jar, client.https) {
        Ok((jar, token)) => {
            let mut res = render(
                tr,
                &LogoutPage {
                    tr: &tr,
                    csrf: &token,
                },
            );
            // The confirmation carries the browser through each SAML SP's logout endpoint.
            crate::web::headers::allow_form_targets(&mut res, &origins);
            (jar, res).into_response()
        }
        Err(e) => page_error(tr, PageError::Unavailable(format!("csrf: {e}"))),
    }
}

/// The origins of the single-logout endpoints of the SAML SPs the browser's live session
/// served.
async fn slo_origins(
    state: &AppState,
    jar: &CookieJar,
    https: bool,
) -> Result<Vec<String>, PageError> {
    let Some(session) = live_session(state, jar, https).await? else {
        return Ok(Vec::new());
    };
    let mut origins = Vec::new();
    for visit in session
        .relying_parties
        .iter()
        .filter(|v| v.protocol == "saml")
    {
        let rp = state
            .engine
            .store
            .relying_party(&visit.rp_id)
            .await
            .map_err(CoreError::from)?;
        // Only the front-channel endpoints: the browser never goes to a SOAP one.
        let locations = rp.iter().flat_map(|rp| {
            rp.logout
                .saml_slo
                .iter()
                .filter(|(b, _)| b != crate::saml::xml::BINDING_SOAP)
        });
        for (_, location) in locations {
            if let Some(o) = crate::web::headers::origin_of(location)
                && !origins.contains(&o)
            {
                origins.push(o);
            }
        }
    }
    Ok(origins)
}

/// `POST /logout`: ends the SSO session on the server (so on every node) and removes the
/// cookie; the engine's notifiers revoke its tokens and tell its OIDC clients (back channel)
/// and the SAML SPs the browser cannot visit, then the browser carries a LogoutRequest to
/// each other SAML SP of the session in turn, ending on the logged-out page.
pub(super) async fn logout_submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(e) = check_csrf(&jar, &client, &form.csrf) {
        return page_error(tr, e);
    }
    let mut next = None;
    match live_session(&state, &jar, client.https).await {
        Ok(Some(session)) => match state
            .engine
            .end_session(
                &session.id,
                &actor(&client),
                &Ending::with_browser_chain(EndCause::Logout),
            )
            .await
        {
            Ok(Some(ended)) => {
                match crate::saml::slo::start_idp_logout(&state, &ended).await {
                    Ok(r) => next = r,
                    // The session is over whatever happens to the SPs' notices.
                    Err(e) => tracing::error!(error = %e, "SAML logout propagation"),
                }
            }
            Ok(None) => {}
            Err(e) => return page_error(tr, e),
        },
        Ok(None) => {}
        Err(e) => return page_error(tr, e),
    }
    let clear = AppendHeaders([(
        header::SET_COOKIE,
        SessionCookie::clear_cookie(client.https),
    )]);
    match next {
        Some(r) => (clear, r).into_response(),
        None => (clear, render(tr, &LoggedOutPage { tr: &tr })).into_response(),
    }
}

/// `GET /logout/done`: where the chain of an IdP-initiated logout over the SAML SPs ends.
pub(super) async fn logged_out(tr: Tr) -> Response {
    render(tr, &LoggedOutPage { tr: &tr })
}
