//! The browser's walk through the SAML SPs' logout endpoints, for a door other than the
//! logout page that ends the browser's own session (the OIDC end-session endpoint). The two
//! protocol doors never import each other; the web layer, which serves both, joins them
//! here, so that ending the session at either door reaches the same SAML SPs.

use crate::core::session::SsoSession;
use crate::web::AppState;

/// A link that walks the browser through the front-channel logout endpoints of the SAML SPs
/// of the (already ended) `session` and then goes to `then` (the logged-out page when
/// `None`); `None` when no SAML SP of the session has one. `then` must already have been
/// matched against a registration. A failure is logged and leaves those SPs untold (the
/// session is over whatever happens to their notices).
pub async fn saml_chain(
    state: &AppState,
    session: &SsoSession,
    then: Option<String>,
) -> Option<String> {
    match crate::saml::slo::prepare_idp_logout(state, session, then).await {
        Ok(link) => link,
        Err(e) => {
            tracing::error!(error = %e, "SAML logout propagation");
            None
        }
    }
}
