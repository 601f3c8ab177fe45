//! The authorization endpoint (GET and POST `/oidc/authorize`) and its return from the login
//! page (`/oidc/authorize/resume`). Without a suitable live session the validated request is
//! kept server-side under a random id and the browser goes to `/login`, which comes back to
//! the resume URL once the citizen has logged in.

use super::client::OidcClient;
use super::error::AuthzError;
use super::grants;
use super::reply::answer;
pub use super::reply::error_reply;
use super::request::{self, AuthzRequest, Params, Rejection};
use crate::core::citizen::CitizenId;
use crate::web::AppState;
use crate::web::auth::{self, SignedIn};
use crate::web::error::PageError;
use crate::web::i18n::{Tr, negotiate};
use axum::extract::{Form, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Prefix of pending requests in the ephemeral store.
pub(super) const PENDING: &str = "oidc:pending:";

/// A request waiting for the citizen to log in (or to consent).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Pending {
    pub(super) request: AuthzRequest,
    pub(super) created_at: DateTime<Utc>,
    /// Trips to the login page so far; a login page that keeps sending the browser back
    /// without a fresh authentication must not make an endless loop.
    #[serde(default)]
    rounds: u8,
    /// The citizen asked to consent on the consent page: only their session may answer it.
    #[serde(default)]
    pub(super) consent_for: Option<CitizenId>,
}

impl Pending {
    /// The pending request stored under `id` (`None`: expired, spent, or unreadable).
    pub(super) async fn load(state: &AppState, id: &str) -> Result<Option<Self>, String> {
        let bytes = state
            .engine
            .ephemeral
            .get(&format!("{PENDING}{id}"))
            .await
            .map_err(|e| e.to_string())?;
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Stores it under `id` for `oidc.pending_request_secs`.
    async fn store(&self, state: &AppState, id: &str) -> Result<(), String> {
        let bytes = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        state
            .engine
            .ephemeral
            .put(
                &format!("{PENDING}{id}"),
                &bytes,
                state.config.oidc.pending_ttl(),
            )
            .await
            .map_err(|e| e.to_string())
    }
}

/// Trips to the login page before the request is answered `access_denied`.
const MAX_ROUNDS: u8 = 5;

/// A request coming back from the login page.
struct Resumed {
    id: String,
    created_at: DateTime<Utc>,
    rounds: u8,
    /// The citizen who has just consented to this very request on the consent page.
    consented_by: Option<CitizenId>,
    /// The login page found the level out of the citizen's reach (`unmet=1`): answer with the
    /// session there is, or `unmet_authentication_requirements`; never log in again.
    unmet: bool,
}

/// `GET /oidc/authorize`
pub async fn get(
    State(state): State<AppState>,
    parts: Parts,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    authorize(state, parts, pairs).await
}

/// `POST /oidc/authorize` (form-encoded, same parameters).
pub async fn post(
    State(state): State<AppState>,
    parts: Parts,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    authorize(state, parts, pairs).await
}

fn displayed(parts: &Parts, key: &str) -> Response {
    let tr = Tr::new(negotiate(parts));
    PageError::BadRequest(tr.t(key)).page(tr).into_response()
}

fn unavailable(parts: &Parts, e: impl std::fmt::Display) -> Response {
    PageError::Unavailable(e.to_string())
        .page(Tr::new(negotiate(parts)))
        .into_response()
}

async fn authorize(state: AppState, parts: Parts, pairs: Vec<(String, String)>) -> Response {
    let params = Params::new(pairs);
    let Some(client_id) = params.get("client_id") else {
        return displayed(&parts, "oidc-error-client");
    };
    let client = match grants::client(&state, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return displayed(&parts, "oidc-error-client"),
        Err(e) => return unavailable(&parts, e),
    };
    // A pushed request (RFC 9126) stands for the whole request: used once, by its client.
    if let Some(uri) = params.get("request_uri")
        && uri.starts_with(super::par::URN_PREFIX)
    {
        return match super::par::take(&state, client.id(), uri).await {
            Ok(req) => decide(&state, &parts, &client, req, None).await,
            Err(super::par::Unusable::Unavailable(e)) => unavailable(&parts, e),
            Err(super::par::Unusable::Invalid(e)) => match request::trusted_reply(&client, &params)
            {
                Ok(reply) | Err(Rejection::Redirected(reply, _)) => error_reply(&state, &reply, &e),
                Err(Rejection::Displayed(key)) => displayed(&parts, key),
            },
        };
    }
    // A request object's parameters take precedence; its errors go back to the client when
    // the query names a registered redirect URI.
    let now = state.engine.clock.now().timestamp();
    let params = match super::request_object::expand(&client, &state.issuer, now, &params).await {
        Ok(Some(expanded)) => expanded,
        Ok(None) => params,
        Err(e) => {
            return match request::trusted_reply(&client, &params) {
                Ok(reply) | Err(Rejection::Redirected(reply, _)) => error_reply(&state, &reply, &e),
                Err(Rejection::Displayed(key)) => displayed(&parts, key),
            };
        }
    };
    match checked_request(&state, &client, &params) {
        Ok(req) => decide(&state, &parts, &client, req, None).await,
        Err(Rejection::Displayed(key)) => displayed(&parts, key),
        Err(Rejection::Redirected(reply, e)) => error_reply(&state, &reply, &e),
    }
}

/// The client, the redirect URI, then everything else (the `id_token_hint` included): the
/// validation of the authorization endpoint, which pushed requests (PAR) go through too.
pub(crate) fn checked_request(
    state: &AppState,
    client: &OidcClient,
    params: &Params,
) -> Result<AuthzRequest, Rejection> {
    request::trusted_reply(client, params)
        .and_then(|reply| request::validate(client, params, reply, &state.engine.vocabulary))
        .and_then(|mut req| {
            match request::hinted(params, &state.keys, &state.issuer) {
                Ok(hint) => req.hint = hint,
                Err(e) => return Err(Rejection::Redirected(req.reply, e)),
            }
            Ok(req)
        })
}

#[derive(Deserialize)]
pub struct ResumeQuery {
    id: String,
    /// `1` when the login page could not reach the level asked for.
    #[serde(default)]
    unmet: Option<String>,
}

/// The origin of the redirect URI of the pending request that `continue_to` resumes, if it
/// is one: the login pages let their forms end there (see
/// [`crate::web::headers::allow_form_targets`]).
pub async fn return_origin(state: &AppState, continue_to: &str) -> Option<String> {
    let rest = continue_to.strip_prefix("/oidc/authorize/resume?id=")?;
    let id = rest.split('&').next()?;
    let pending = Pending::load(state, id).await.ok()??;
    crate::web::headers::origin_of(&pending.request.reply.redirect_uri)
}

/// `GET /oidc/authorize/resume?id=…`: back from the login page.
pub async fn resume(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<ResumeQuery>,
) -> Response {
    let pending = match Pending::load(&state, &q.id).await {
        Ok(p) => p,
        Err(e) => return unavailable(&parts, e),
    };
    let Some(pending) = pending else {
        return displayed(&parts, "oidc-error-expired");
    };
    let unmet = q.unmet.as_deref() == Some("1");
    proceed(&state, &parts, q.id, pending, None, unmet).await
}

/// Takes up a pending request again (back from the login page, or consented to); the
/// pending request is spent unless the citizen is sent to log in or consent once more.
pub(super) async fn proceed(
    state: &AppState,
    parts: &Parts,
    id: String,
    pending: Pending,
    consented_by: Option<CitizenId>,
    unmet: bool,
) -> Response {
    let key = format!("{PENDING}{id}");
    if pending.rounds >= MAX_ROUNDS {
        let _ = state.engine.ephemeral.delete(&key).await;
        let e = AuthzError::new("access_denied", "the login did not complete");
        return error_reply(state, &pending.request.reply, &e);
    }
    let client = match grants::client(state, &pending.request.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return displayed(parts, "oidc-error-client"),
        Err(e) => return unavailable(parts, e),
    };
    let res = decide(
        state,
        parts,
        &client,
        pending.request,
        Some(Resumed {
            id,
            created_at: pending.created_at,
            rounds: pending.rounds,
            consented_by,
            unmet,
        }),
    )
    .await;
    if res.status() != StatusCode::SEE_OTHER
        || !res
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login") || l.starts_with(CONSENT_PAGE))
    {
        // Answered (code or error): the pending request is spent.
        let _ = state.engine.ephemeral.delete(&key).await;
    }
    res
}

/// Answers from the live session, or sends the citizen to log in first.
async fn decide(
    state: &AppState,
    parts: &Parts,
    client: &OidcClient,
    req: AuthzRequest,
    resumed: Option<Resumed>,
) -> Response {
    let signed = match auth::current(state, parts).await {
        Ok(s) => s,
        Err(e) => return e.page(Tr::new(negotiate(parts))).into_response(),
    };
    let now = state.engine.clock.now();
    // After a login that began for this request, the session is fresh by definition.
    let fresh = |s: &SignedIn| {
        resumed
            .as_ref()
            .is_some_and(|r| s.session.auth_time >= r.created_at)
    };
    // A session of another citizen than the id_token_hint names is as good as none (a
    // fresh login, which the citizen chose, is taken as it comes).
    let hint_ok = match (&signed, &req.hint) {
        (Some(s), Some(hint)) => hint_names(state, client, hint, s).await,
        _ => true,
    };
    let usable = signed.as_ref().filter(|s| {
        let too_old = req
            .max_age
            .is_some_and(|m| s.session.age_since_auth(now).num_seconds() > m);
        fresh(s) || (hint_ok && !(req.prompt_login || too_old))
    });
    let floor = req.floor();
    let unmet = resumed.as_ref().is_some_and(|r| r.unmet);
    // A live session the request cannot use (prompt=login, max_age, another citizen's hint)
    // must not be stepped up: the login page asks for the password.
    let force_fresh = signed.is_some() && usable.is_none();
    match usable {
        // The floor (client minimum, essential acr) is hard; acr_values is voluntary: a fresh
        // login, or prompt=none, that ends below it is answered with the level reached (the
        // ID token's acr always tells the session's true level).
        Some(s)
            if s.session.level >= req.required_level
                || (s.session.level >= floor && (fresh(s) || req.prompt_none || unmet)) =>
        {
            let consented = resumed
                .as_ref()
                .is_some_and(|r| r.consented_by == Some(s.citizen.id));
            if consented {
                return answer(state, client, &req, s).await;
            }
            match consent_needed(state, client, &req, s).await {
                Ok(false) => answer(state, client, &req, s).await,
                Ok(true) if req.prompt_none => error_reply(
                    state,
                    &req.reply,
                    &AuthzError::new("consent_required", "the citizen must consent"),
                ),
                Ok(true) => send_to_consent(state, parts, req, s, resumed).await,
                Err(e) => {
                    tracing::error!(error = %e, "authorization: consent lookup failed");
                    error_reply(
                        state,
                        &req.reply,
                        &AuthzError::new("server_error", "consent could not be checked"),
                    )
                }
            }
        }
        Some(s) if fresh(s) || unmet => {
            audit_unmet(state, client, s).await;
            error_reply(
                state,
                &req.reply,
                &AuthzError::new(
                    "unmet_authentication_requirements",
                    "the required level of assurance was not reached",
                ),
            )
        }
        _ if unmet => error_reply(
            state,
            &req.reply,
            &AuthzError::new(
                "unmet_authentication_requirements",
                "the required level of assurance cannot be reached",
            ),
        ),
        _ if req.prompt_none => error_reply(
            state,
            &req.reply,
            &AuthzError::new("login_required", "the citizen must log in"),
        ),
        _ => send_to_login(state, parts, req, resumed, force_fresh).await,
    }
}

/// The consent page, with `?id=` of the pending request.
pub(super) const CONSENT_PAGE: &str = "/oidc/consent";

/// Whether the citizen must see the consent page before this request is answered: always
/// with `prompt=consent`; otherwise only for clients that do not skip consent and for a
/// scope set not covered by the consent given before.
async fn consent_needed(
    state: &AppState,
    client: &OidcClient,
    req: &AuthzRequest,
    signed: &SignedIn,
) -> Result<bool, crate::store::StoreError> {
    let skip = client.settings.skip_consent;
    if req.prompt_consent || skip {
        return Ok(must_ask(req.prompt_consent, skip, None, &req.scope));
    }
    let given = state
        .engine
        .store
        .consent(signed.citizen.id, client.id())
        .await?;
    Ok(must_ask(false, false, given.as_ref(), &req.scope))
}

/// The consent rule: `prompt=consent` always asks; a client that skips consent never needs
/// it otherwise; any other needs a consent given before that covers every scope asked for.
fn must_ask(
    prompt_consent: bool,
    skip_consent: bool,
    given: Option<&crate::store::consents::Consent>,
    scope: &str,
) -> bool {
    prompt_consent || !(skip_consent || given.is_some_and(|c| c.covers(scope)))
}

/// Keeps the request pending for the session's citizen and sends the browser to the
/// consent page. After a login for this request, its creation time is kept so that the
/// session still counts as fresh when the consent comes back.
async fn send_to_consent(
    state: &AppState,
    parts: &Parts,
    req: AuthzRequest,
    signed: &SignedIn,
    resumed: Option<Resumed>,
) -> Response {
    let (id, created_at, rounds) = match resumed {
        Some(r) => (r.id, r.created_at, r.rounds),
        None => match crate::core::random::token(24) {
            Ok(id) => (id, state.engine.clock.now(), 0),
            Err(e) => return unavailable(parts, e),
        },
    };
    // The page in the language the client asked for, as the login page.
    let lang = req
        .ui_locale
        .as_ref()
        .map(|l| format!("&lang={l}"))
        .unwrap_or_default();
    let pending = Pending {
        request: req,
        created_at,
        rounds,
        consent_for: Some(signed.citizen.id),
    };
    if let Err(e) = pending.store(state, &id).await {
        return unavailable(parts, e);
    }
    crate::web::pages::see_other(&format!("{CONSENT_PAGE}?id={id}{lang}"))
}

/// Whether the hint names the session's citizen: its `sub` compared with the one its own
/// audience would see (public or pairwise). A hint for a client no longer known names
/// nobody.
async fn hint_names(
    state: &AppState,
    client: &OidcClient,
    hint: &request::HintedSubject,
    signed: &SignedIn,
) -> bool {
    let other;
    let audience = if hint.client_id == client.id() {
        Some(client)
    } else {
        other = grants::client(state, &hint.client_id).await.ok().flatten();
        other.as_ref()
    };
    audience
        .and_then(|c| super::subject::for_client(&state.engine, c, signed.session.citizen_id).ok())
        .is_some_and(|sub| sub == hint.sub)
}

async fn audit_unmet(state: &AppState, client: &OidcClient, signed: &SignedIn) {
    let event = state
        .engine
        .event(
            &crate::core::engine::Actor::system(),
            "oidc.authorize.unmet_level",
        )
        .citizen(signed.session.citizen_id)
        .detail(serde_json::json!({
            "client": client.id(),
            "level": signed.session.level.as_str(),
        }));
    if let Err(e) = state.engine.audit(event).await {
        tracing::error!(error = %e, "could not audit an unmet authentication requirement");
    }
}

async fn send_to_login(
    state: &AppState,
    parts: &Parts,
    req: AuthzRequest,
    resumed: Option<Resumed>,
    fresh: bool,
) -> Response {
    let (id, rounds) = match resumed {
        Some(r) => (r.id, r.rounds.saturating_add(1)),
        None => match crate::core::random::token(24) {
            Ok(id) => (id, 0),
            Err(e) => return unavailable(parts, e),
        },
    };
    let level = req.required_level;
    let floor = req.floor();
    let hint = req.login_hint.clone();
    let lang = req.ui_locale.clone();
    let pending = Pending {
        request: req,
        created_at: state.engine.clock.now(),
        rounds,
        consent_for: None,
    };
    if let Err(e) = pending.store(state, &id).await {
        return unavailable(parts, e);
    }
    let resume = format!("/oidc/authorize/resume?id={id}");
    let mut target = crate::web::pages::login_then(&resume);
    if let Some(hint) = hint {
        let hint: String = url::form_urlencoded::byte_serialize(hint.as_bytes()).collect();
        target.push_str(&format!("&login_hint={hint}"));
    }
    target.push_str(&format!("&acr={}", level.as_str()));
    if floor < level {
        // acr_values is voluntary: the citizen who cannot reach it is not turned away.
        target.push_str(&format!("&need={}", floor.as_str()));
    }
    if fresh {
        target.push_str("&fresh=1");
    }
    if let Some(lang) = lang {
        // The pages' own language switch: remembered in a cookie from then on.
        target.push_str(&format!("&lang={lang}"));
    }
    crate::web::pages::see_other(&target)
}

#[cfg(test)]
mod tests {
    use super::must_ask;
    use crate::core::citizen::CitizenId;
    use crate::store::consents::Consent;

    fn given(scope: &str) -> Consent {
        Consent {
            citizen_id: CitizenId::new(),
            client_id: "c".into(),
            scope: scope.into(),
            granted_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn consent_is_needed_without_a_covering_one_and_always_with_prompt_consent() {
        let email = given("openid email");
        // No consent yet: asked, unless the client skips consent.
        assert!(must_ask(false, false, None, "openid"));
        assert!(!must_ask(false, true, None, "openid email"));
        // The same or a smaller set: not asked; a larger one: asked.
        assert!(!must_ask(false, false, Some(&email), "openid email"));
        assert!(!must_ask(false, false, Some(&email), "openid"));
        assert!(must_ask(false, false, Some(&email), "openid email phone"));
        // prompt=consent asks whatever was given, even of clients that skip consent.
        assert!(must_ask(true, false, Some(&email), "openid"));
        assert!(must_ask(true, true, None, "openid"));
        // The union of the old and the new set then covers both.
        let union = given(&email.union("openid phone"));
        assert!(!must_ask(false, false, Some(&union), "openid email phone"));
    }
}
