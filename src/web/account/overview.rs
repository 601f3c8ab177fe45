//! The account overview: who is signed in, how, and where to go next.

use super::{finish, form_page};
use crate::web::auth::SignedIn;
use crate::web::client::ClientInfo;
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Extension, State};
use axum::response::Response;
use axum_extra::extract::CookieJar;

#[derive(Template)]
#[template(path = "account/overview.html")]
struct OverviewPage<'a> {
    tr: &'a Tr,
    csrf: String,
    name: String,
    identifier: String,
    level: String,
    methods: Vec<String>,
    totp: bool,
}

/// `GET /account`.
pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
) -> Response {
    let result = async {
        let totp = state.engine.has_totp(signed.citizen.id).await?;
        let c = &signed.citizen;
        let s = &signed.session;
        let methods = s
            .methods_set()
            .iter()
            .map(|m| tr.t(&format!("account-method-{}", m.amr())))
            .collect();
        form_page(tr, jar, &client, |csrf| OverviewPage {
            tr: &tr,
            csrf,
            name: format!("{} {}", c.given_name, c.family_names),
            identifier: c.identifier.to_string(),
            level: tr.t(&format!("account-level-{}", s.level.as_str())),
            methods,
            totp,
        })
    }
    .await;
    finish(tr, result)
}
