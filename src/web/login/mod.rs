//! The login pages: the home page, the password form (with a captcha after repeated
//! failures), the second step (SMS code), and logout.
//!
//! The journey's state lives server-side in a `login` flow ([`super::flow`]): where to go
//! afterwards, the level asked for, failures so far and, after the password, whose login it
//! is and the SMS challenge. SMS codes are bound to the flow id, so a code cannot serve
//! another login attempt. Every password refusal renders the same page with the same status.

use super::client::ClientInfo;
use super::csrf;
use super::error::{PageError, render};
use super::flow::{self, Flow};
use super::i18n::Tr;
use super::pages::{check_csrf, local_path, see_other};
use super::state::AppState;
use crate::core::CoreError;
use crate::core::audit::Outcome;
use crate::core::citizen::Citizen;
use crate::core::citizen::CitizenId;
use crate::core::engine::Actor;
use crate::core::level::{AuthMethod, LevelOfAssurance, ProofingLevel, StepUp};
use crate::core::login::{PasswordOutcome, SecondFactor};
use crate::core::notify::mask_phone;
use crate::core::otp::OtpOutcome;
use crate::core::session::{EndCause, Ending, SessionCookie, SsoSession};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use std::collections::BTreeSet;

/// The flow kind (cookie `pasarela-login`).
const KIND: &str = "login";
/// Where a citizen goes after logging in when no `continue` was given.
const DEFAULT_CONTINUE: &str = "/account";
/// The purpose recorded on login SMS challenges.
const OTP_PURPOSE: &str = "login";

mod journey;
mod logout;
mod second;
mod step_up;

use journey::{Flash, LoginFlow, SecondStep};
use logout::{logged_out, logout_form, logout_submit};
use second::{code_form, code_resend, code_submit, use_sms};
use step_up::{next_step, step_up_session};

/// The routes of the login pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login_submit))
        .route("/login/code", get(code_form).post(code_submit))
        .route("/login/resend", axum::routing::post(code_resend))
        .route("/login/sms", axum::routing::post(use_sms))
        .route("/logout", get(logout_form).post(logout_submit))
        .route(crate::saml::slo::LOGGED_OUT_PAGE, get(logged_out))
}

/// The audit actor for the citizen at `client`.
fn actor(client: &ClientInfo) -> Actor {
    Actor {
        name: "citizen".into(),
        source: client.addr.map(|a| a.to_string()),
    }
}

/// What every step of a login request works with, besides the browser's cookies and flow.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    state: &'a AppState,
    tr: Tr,
    client: &'a ClientInfo,
    headers: &'a HeaderMap,
}

fn page_error(tr: Tr, e: impl Into<PageError>) -> Response {
    e.into().page(tr).into_response()
}

/// The live SSO session behind the browser's session cookie, if any.
async fn live_session(
    state: &AppState,
    jar: &CookieJar,
    https: bool,
) -> Result<Option<SsoSession>, PageError> {
    let Some(cookie) = jar.get(SessionCookie::name(https)) else {
        return Ok(None);
    };
    Ok(state
        .engine
        .session_from_cookie(cookie.value(), &state.config.sessions)
        .await?)
}

/// The browser's login flow, or a fresh one.
async fn load_or_start(
    state: &AppState,
    jar: CookieJar,
    https: bool,
) -> Result<(CookieJar, Flow<LoginFlow>), PageError> {
    match flow::load(state, &jar, https, KIND).await? {
        Some(f) => Ok((jar, f)),
        None => flow::start(state, jar, https, KIND, LoginFlow::new()).await,
    }
}

/// A posted form with nothing but the anti-forgery token (resend, switch to SMS, logout).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CsrfOnly {
    csrf: String,
}

// ---------------------------------------------------------------------------------------
// Home

#[derive(Template)]
#[template(path = "login/home.html")]
struct HomePage<'a> {
    tr: &'a Tr,
}

/// `GET /`: a signed-in citizen goes to their account; anyone else sees the ways in.
async fn home(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Response {
    match live_session(&state, &jar, client.https).await {
        Ok(Some(_)) => see_other(DEFAULT_CONTINUE),
        Ok(None) => render(tr, &HomePage { tr: &tr }),
        Err(e) => page_error(tr, e),
    }
}

// ---------------------------------------------------------------------------------------
// Password

#[derive(Template)]
#[template(path = "login/form.html")]
struct LoginPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    hint: &'a str,
    error: Option<String>,
    notice: Option<String>,
    /// The captcha image (`data:` URI) when one must be answered.
    captcha: Option<String>,
}

/// Query of `GET /login`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginQuery {
    #[serde(rename = "continue")]
    continue_to: Option<String>,
    login_hint: Option<String>,
    acr: Option<String>,
    level: Option<String>,
    /// Comma-separated second-factor methods the service accepts (`sms`, `otp`).
    methods: Option<String>,
    /// The lowest level the service accepts when `acr` is only what it would like.
    need: Option<String>,
    /// `1`: a fresh login is demanded; a live session is not stepped up.
    fresh: Option<String>,
}

/// The posted password form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginFields {
    csrf: String,
    identifier: String,
    password: String,
    captcha: String,
}

/// Whether this attempt must answer a captcha first.
async fn captcha_required(
    state: &AppState,
    flow: &LoginFlow,
    client: &ClientInfo,
) -> Result<bool, PageError> {
    let after = state.config.login.captcha_after;
    Ok(state
        .engine
        .captcha_required(client.addr, flow.failures, after)
        .await?)
}

/// Counts a wrong password against the address (see [`crate::core::engine::Engine::count_address_failure`]).
async fn count_address_failure(state: &AppState, client: &ClientInfo) -> Result<(), PageError> {
    let after = state.config.login.captcha_after;
    Ok(state
        .engine
        .count_address_failure(client.addr, after)
        .await?)
}

/// Renders the password form for `flow`, with a new captcha when one is required.
async fn show_form(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    flow: &Flow<LoginFlow>,
    hint: &str,
    (error, notice): (Option<String>, Option<String>),
) -> Response {
    let captcha = match captcha_required(state, &flow.data, client).await {
        Ok(true) => match state.engine.issue_captcha(&flow.id).await {
            Ok(image) => Some(image),
            Err(e) => return page_error(tr, e),
        },
        Ok(false) => None,
        Err(e) => return page_error(tr, e),
    };
    let (jar, token) = match csrf::token(jar, client.https) {
        Ok(t) => t,
        Err(e) => return page_error(tr, PageError::Unavailable(format!("csrf: {e}"))),
    };
    let page = LoginPage {
        tr: &tr,
        csrf: &token,
        hint,
        error,
        notice,
        captcha,
    };
    let mut res = render(tr, &page);
    form_targets(&mut res, &flow.data);
    (jar, res).into_response()
}

/// Lets the page's forms end at the relying party the login is for.
fn form_targets(res: &mut Response, flow: &LoginFlow) {
    let origins: Vec<String> = flow.rp_origin.iter().cloned().collect();
    crate::web::headers::allow_form_targets(res, &origins);
}

/// A level named by an `acr` value or alias of the vocabulary, or a bare level name; the
/// first known one of a space-separated list.
fn named_level(state: &AppState, names: &str) -> Option<LevelOfAssurance> {
    names.split_whitespace().find_map(|v| {
        state
            .engine
            .vocabulary
            .level_for_acr(v)
            .or_else(|| v.parse().ok())
    })
}

/// The level a `GET /login` asks for: `acr` or `level`.
fn asked_level(state: &AppState, q: &LoginQuery) -> Option<LevelOfAssurance> {
    let from_acr = q.acr.as_deref().and_then(|acr| named_level(state, acr));
    from_acr.or_else(|| q.level.as_deref().and_then(|l| l.parse().ok()))
}

/// The second-factor methods named in `?methods=` (unknown names are ignored, so an empty
/// list means none is accepted).
fn second_factors(list: &str) -> Vec<AuthMethod> {
    list.split(',')
        .filter_map(|m| m.trim().parse().ok())
        .filter(|m| *m != AuthMethod::Pwd)
        .collect()
}

/// Whether `flow` accepts `method` as second factor.
fn accepts(flow: &LoginFlow, method: AuthMethod) -> bool {
    flow.methods.as_ref().is_none_or(|m| m.contains(&method))
}

/// `GET /login[?continue=PATH][&login_hint=ID][&acr=LEVEL|&level=LEVEL][&need=LEVEL]
/// [&methods=sms,otp][&fresh=1]`: the password form or, for a citizen whose live session is
/// below the level asked for, the step-up (only the missing factor).
async fn login_form(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    let (jar, mut flow) = match load_or_start(&state, jar, client.https).await {
        Ok(f) => f,
        Err(e) => return page_error(tr, e),
    };
    let flash = flow.data.flash.take();
    // A message waiting means this page is the end of a failed second step of the same
    // attempt: keep where it was going. Otherwise the query decides.
    if flash.is_none() {
        flow.data.continue_to = q
            .continue_to
            .as_deref()
            .and_then(local_path)
            .unwrap_or(DEFAULT_CONTINUE)
            .to_owned();
        flow.data.level = asked_level(&state, &q);
        flow.data.need = q.need.as_deref().and_then(|n| named_level(&state, n));
        flow.data.methods = q.methods.as_deref().map(second_factors);
        flow.data.fresh = q.fresh.as_deref() == Some("1");
        flow.data.rp_origin =
            crate::oidc::authorize::return_origin(&state, &flow.data.continue_to).await;
    }
    flow.data.second = None;
    if let Err(e) = flow::save(&state, KIND, &flow).await {
        return page_error(tr, e);
    }
    if flash.is_none() {
        match step_up_session(&state, &jar, &client, &flow.data).await {
            Ok(Some((session, citizen))) => {
                let ctx = Ctx {
                    state: &state,
                    tr,
                    client: &client,
                    headers: &headers,
                };
                let used = session.methods_set();
                return match next_step(ctx, jar, flow, &citizen, &used, Some(&session)).await {
                    Ok(r) | Err(r) => r,
                };
            }
            Ok(None) => {}
            Err(e) => return page_error(tr, e),
        }
    }
    let (error, notice) = match flash {
        Some(f) if f.alert => (Some(f.text(&tr)), None),
        Some(f) => (None, Some(f.text(&tr))),
        None => (None, None),
    };
    let hint: String = q
        .login_hint
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    show_form(&state, tr, jar, &client, &flow, &hint, (error, notice)).await
}

/// `POST /login`: checks the captcha (when shown), then the password.
async fn login_submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginFields>,
) -> Response {
    if let Err(e) = check_csrf(&jar, &client, &form.csrf) {
        return page_error(tr, e);
    }
    let ctx = Ctx {
        state: &state,
        tr,
        client: &client,
        headers: &headers,
    };
    match password_step(ctx, jar, &form).await {
        Ok(r) | Err(r) => r,
    }
}

async fn password_step(
    ctx: Ctx<'_>,
    jar: CookieJar,
    form: &LoginFields,
) -> Result<Response, Response> {
    let Ctx {
        state, tr, client, ..
    } = ctx;
    let fail = |e: PageError| page_error(tr, e);
    let (jar, mut flow) = load_or_start(state, jar, client.https)
        .await
        .map_err(fail)?;
    flow.data.second = None;
    if captcha_required(state, &flow.data, client)
        .await
        .map_err(fail)?
        && !state
            .engine
            .check_captcha(&flow.id, &form.captcha)
            .await
            .map_err(|e| fail(e.into()))?
    {
        let error = Some(tr.t("login-captcha-wrong"));
        return Err(show_form(state, tr, jar, client, &flow, "", (error, None)).await);
    }
    let outcome = state
        .engine
        .check_password(
            &form.identifier,
            &form.password,
            client.addr,
            &state.hasher,
            &state.config.login,
            &actor(client),
        )
        .await
        .map_err(|e| fail(e.into()))?;
    let citizen = match outcome {
        PasswordOutcome::Refused(refusal) => {
            flow.data.failures = flow.data.failures.saturating_add(1);
            flow::save(state, KIND, &flow).await.map_err(fail)?;
            count_address_failure(state, client).await.map_err(fail)?;
            if refusal.newly_locked()
                && let Some(id) = refusal.citizen()
            {
                notify_lock_in_background(state, id, tr);
            }
            let error = Some(tr.t("login-refused"));
            return Err(show_form(state, tr, jar, client, &flow, "", (error, None)).await);
        }
        PasswordOutcome::Accepted { citizen, .. } => citizen,
    };
    flow.data.failures = 0;
    let pwd: BTreeSet<AuthMethod> = [AuthMethod::Pwd].into();
    next_step(ctx, jar, flow, &citizen, &pwd, None).await
}

/// Whether a login must go on to a second factor: always in `always` mode; in
/// `when_needed` mode only when the level the password alone reaches (`None`: no level at
/// all) is below the level asked for (none asked: the password suffices).
fn needs_second_factor(
    mode: SecondFactor,
    by_password: Option<LevelOfAssurance>,
    asked: Option<LevelOfAssurance>,
) -> bool {
    match (mode, by_password) {
        (SecondFactor::Always, _) | (SecondFactor::WhenNeeded, None) => true,
        (SecondFactor::WhenNeeded, Some(reached)) => asked.is_some_and(|asked| reached < asked),
    }
}

/// Sends the lock notice without making this response wait for the gateways, so the
/// attempt that locks an account takes as long as any other refusal.
fn notify_lock_in_background(state: &AppState, citizen: CitizenId, tr: Tr) {
    let state = state.clone();
    tokio::spawn(async move {
        let sent = state
            .engine
            .notify_login_locked(
                citizen,
                state.sms.as_ref(),
                state.email.as_ref(),
                tr.language(),
            )
            .await;
        if let Err(e) = sent {
            tracing::error!(error = %e, "could not record the lock notice");
        }
    });
}

/// Starts the SMS challenge of `step` (bound to the flow `flow_id`) and sends the first
/// code; a refused send is returned as the message to show.
async fn send_first_code(
    state: &AppState,
    tr: Tr,
    flow_id: &str,
    step: &mut SecondStep,
    mobile: &str,
) -> Result<Option<Flash>, CoreError> {
    let sent = state
        .engine
        .issue_sms_challenge(
            step.citizen,
            OTP_PURPOSE,
            flow_id,
            mobile,
            state.otp_sender(tr.language()),
        )
        .await?;
    Ok(match sent {
        Ok(id) => {
            step.challenge = Some(id);
            None
        }
        Err(refusal) => Some(Flash::send_refused(&refusal)),
    })
}

/// Ends the login: a new SSO session (or a re-authentication of the same citizen's live
/// session), the session cookie, the flow ended, and `303` to where the citizen was going.
/// A step-up (`stepped_up`: the session's id) only ever raises that session: if it ended in
/// the meantime the citizen logs in again from the password.
async fn finish(
    ctx: Ctx<'_>,
    jar: CookieJar,
    flow: &Flow<LoginFlow>,
    citizen: CitizenId,
    proofing: ProofingLevel,
    methods: &[AuthMethod],
    stepped_up: Option<&str>,
) -> Result<Response, Response> {
    let Ctx {
        state,
        tr,
        client,
        headers,
    } = ctx;
    let fail = |e: PageError| page_error(tr, e);
    let core = |e: CoreError| page_error(tr, e);
    let no_level = || {
        fail(PageError::Unavailable(
            "the level policy rates this login at no level".into(),
        ))
    };
    let policy = &state.engine.policy;
    let cfg = &state.config.sessions;
    let existing = live_session(state, &jar, client.https)
        .await
        .map_err(fail)?;
    if let Some(id) = stepped_up
        && !existing
            .as_ref()
            .is_some_and(|s| s.id.as_str() == id && s.citizen_id == citizen)
    {
        return second::end_attempt(state, tr, flow.clone(), "login-step-up-ended").await;
    }
    // A session that used a method this service excluded is not extended: a new one starts.
    let allowed = |s: &SsoSession| {
        s.methods_set()
            .iter()
            .all(|m| *m == AuthMethod::Pwd || accepts(&flow.data, *m))
    };
    let cookie = match existing {
        Some(session) if session.citizen_id == citizen && allowed(&session) => {
            let mut used = session.methods_set();
            used.extend(methods.iter().copied());
            let level = policy.achieved(proofing, &used).ok_or_else(no_level)?;
            let (_, cookie) = state
                .engine
                .reauthenticate(&session, methods, level, cfg)
                .await
                .map_err(core)?;
            cookie
        }
        other => {
            if let Some(old) = other {
                let ending = Ending::without_browser(EndCause::Replaced);
                state
                    .engine
                    .end_session(&old.id, &actor(client), &ending)
                    .await
                    .map_err(core)?;
            }
            let used: BTreeSet<AuthMethod> = methods.iter().copied().collect();
            let level = policy.achieved(proofing, &used).ok_or_else(no_level)?;
            let user_agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(200).collect());
            let (_, cookie) = state
                .engine
                .create_session(
                    citizen,
                    methods,
                    level,
                    user_agent,
                    client.addr.map(|a| a.to_string()),
                    cfg,
                )
                .await
                .map_err(core)?;
            cookie
        }
    };
    let jar = flow::end(state, jar, client.https, KIND, flow)
        .await
        .map_err(fail)?;
    Ok((
        jar,
        AppendHeaders([(header::SET_COOKIE, cookie.set_cookie(client.https))]),
        see_other(&flow.data.continue_to),
    )
        .into_response())
}

#[cfg(test)]
mod tests;
