//! The second step of a login: the SMS code or the authenticator app's code, with resends.

use super::step_up::factor_done;
use super::*;

#[derive(Template)]
#[template(path = "login/code.html")]
pub(super) struct CodePage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    masked_mobile: &'a str,
    /// Asking for the authenticator app's code (with a switch to SMS).
    totp: bool,
    /// The switch to SMS is offered.
    sms_allowed: bool,
    /// A step-up towards this level (its name): the page says why it is asked.
    step_up: Option<String>,
    error: Option<String>,
    notice: Option<String>,
}

/// The posted code form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CodeFields {
    csrf: String,
    code: String,
}

pub(super) fn show_code(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    step: &SecondStep,
    flash: Option<Flash>,
) -> Response {
    let (jar, token) = match csrf::token(jar, client.https) {
        Ok(t) => t,
        Err(e) => return page_error(tr, PageError::Unavailable(format!("csrf: {e}"))),
    };
    let (error, notice) = match flash {
        Some(f) if f.alert => (Some(f.text(&tr)), None),
        Some(f) => (None, Some(f.text(&tr))),
        None => (None, None),
    };
    let page = CodePage {
        tr: &tr,
        csrf: &token,
        masked_mobile: &step.masked_mobile,
        totp: step.totp,
        sms_allowed: !step.no_sms,
        step_up: step
            .step_up
            .as_ref()
            .and(step.goal)
            .map(|l| super::step_up::level_name(&tr, l)),
        error,
        notice,
    };
    (jar, render(tr, &page)).into_response()
}

/// The flow of a login waiting for its second step, or the answer to send instead (back to
/// the password form).
pub(super) async fn second_flow(
    state: &AppState,
    tr: Tr,
    jar: &CookieJar,
    https: bool,
) -> Result<(Flow<LoginFlow>, SecondStep), Response> {
    match flow::load::<LoginFlow>(state, jar, https, KIND).await {
        Ok(Some(f)) => match f.data.second.clone() {
            Some(step) => Ok((f, step)),
            None => Err(see_other("/login")),
        },
        Ok(None) => Err(see_other("/login")),
        Err(e) => Err(page_error(tr, e)),
    }
}

/// `GET /login/code`: the SMS code form.
pub(super) async fn code_form(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Response {
    let (mut flow, step) = match second_flow(&state, tr, &jar, client.https).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let flash = flow.data.flash.take();
    if flash.is_some()
        && let Err(e) = flow::save(&state, KIND, &flow).await
    {
        return page_error(tr, e);
    }
    show_code(tr, jar, &client, &step, flash)
}

/// `POST /login/code`: checks the SMS code; the right one ends the login.
pub(super) async fn code_submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CodeFields>,
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
    match code_step(ctx, jar, &form.code).await {
        Ok(r) | Err(r) => r,
    }
}

pub(super) async fn code_step(
    ctx: Ctx<'_>,
    jar: CookieJar,
    code: &str,
) -> Result<Response, Response> {
    let Ctx {
        state, tr, client, ..
    } = ctx;
    let core = |e: CoreError| page_error(tr, e);
    let (flow, step) = second_flow(state, tr, &jar, client.https).await?;
    if step.totp {
        return totp_step(ctx, jar, flow, step, code).await;
    }
    let Some(challenge) = step.challenge.as_deref() else {
        return Ok(show_code(
            tr,
            jar,
            client,
            &step,
            Some(Flash::alert("login-code-none")),
        ));
    };
    let outcome = state
        .engine
        .verify_sms_challenge(challenge, &flow.id, code, &state.config.otp)
        .await
        .map_err(core)?;
    let (audit_outcome, result) = match &outcome {
        OtpOutcome::Verified(_) => (Outcome::Success, "verified"),
        OtpOutcome::Wrong { .. } => (Outcome::Failure, "wrong"),
        OtpOutcome::Exhausted => (Outcome::Failure, "exhausted"),
        OtpOutcome::Expired => (Outcome::Refused, "expired"),
    };
    state
        .engine
        .audit_second_factor(
            step.citizen,
            AuthMethod::Sms,
            audit_outcome,
            result,
            &actor(client),
        )
        .await
        .map_err(core)?;
    match outcome {
        OtpOutcome::Verified(who) if who == step.citizen => {
            factor_done(ctx, jar, flow, step, AuthMethod::Sms).await
        }
        OtpOutcome::Wrong { remaining } => {
            let flash = Flash {
                count: Some(i64::from(remaining)),
                ..Flash::alert("login-code-wrong")
            };
            Ok(show_code(tr, jar, client, &step, Some(flash)))
        }
        other => {
            // The attempt is over: back to the password, with the reason.
            let key = if other == OtpOutcome::Exhausted {
                "login-code-exhausted"
            } else {
                "login-code-expired"
            };
            end_attempt(state, tr, flow, key).await
        }
    }
}

/// The end of a login attempt after its second step failed for good: back to the password
/// form, with the reason.
pub(super) async fn end_attempt(
    state: &AppState,
    tr: Tr,
    mut flow: Flow<LoginFlow>,
    key: &str,
) -> Result<Response, Response> {
    flow.data.second = None;
    flow.data.flash = Some(Flash::alert(key));
    flow::save(state, KIND, &flow)
        .await
        .map_err(|e| page_error(tr, e))?;
    Ok(see_other("/login"))
}

/// Checks a code from the citizen's authenticator app. The engine refuses replays and
/// limits wrong codes per citizen; this attempt also ends after `otp.max_attempts` wrong
/// codes, like an SMS challenge.
pub(super) async fn totp_step(
    ctx: Ctx<'_>,
    jar: CookieJar,
    mut flow: Flow<LoginFlow>,
    mut step: SecondStep,
    code: &str,
) -> Result<Response, Response> {
    let Ctx {
        state, tr, client, ..
    } = ctx;
    let core = |e: CoreError| page_error(tr, e);
    let who = actor(client);
    let right = state
        .engine
        .verify_totp(step.citizen, code, &who)
        .await
        .map_err(core)?;
    let max = state.config.otp.max_attempts;
    if right {
        state
            .engine
            .audit_second_factor(
                step.citizen,
                AuthMethod::Otp,
                Outcome::Success,
                "verified",
                &who,
            )
            .await
            .map_err(core)?;
        return factor_done(ctx, jar, flow, step, AuthMethod::Otp).await;
    }
    step.totp_failures = step.totp_failures.saturating_add(1);
    let exhausted = step.totp_failures >= max;
    let result = if exhausted { "exhausted" } else { "wrong" };
    state
        .engine
        .audit_second_factor(
            step.citizen,
            AuthMethod::Otp,
            Outcome::Failure,
            result,
            &who,
        )
        .await
        .map_err(core)?;
    if exhausted {
        return end_attempt(state, tr, flow, "login-code-exhausted").await;
    }
    let flash = Flash {
        count: Some(i64::from(max - step.totp_failures)),
        ..Flash::alert("login-code-wrong")
    };
    flow.data.second = Some(step.clone());
    flow::save(state, KIND, &flow)
        .await
        .map_err(|e| page_error(tr, e))?;
    Ok(show_code(tr, jar, client, &step, Some(flash)))
}

/// `POST /login/sms`: the citizen with an authenticator app asks for an SMS code instead.
pub(super) async fn use_sms(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(e) = check_csrf(&jar, &client, &form.csrf) {
        return page_error(tr, e);
    }
    let (mut flow, mut step) = match second_flow(&state, tr, &jar, client.https).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if step.totp && !step.no_sms {
        let mobile = match state.engine.store.citizen(step.citizen).await {
            Ok(Some(c)) => c.mobile,
            Ok(None) => return see_other("/login"),
            Err(e) => return page_error(tr, CoreError::from(e)),
        };
        step.totp = false;
        flow.data.flash = match send_first_code(&state, tr, &flow.id, &mut step, &mobile).await {
            Ok(flash) => flash,
            Err(e) => return page_error(tr, e),
        };
        flow.data.second = Some(step);
        if let Err(e) = flow::save(&state, KIND, &flow).await {
            return page_error(tr, e);
        }
    }
    see_other("/login/code")
}

/// `POST /login/resend`: another SMS code, within the resend limits.
pub(super) async fn code_resend(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(e) = check_csrf(&jar, &client, &form.csrf) {
        return page_error(tr, e);
    }
    let (mut flow, mut step) = match second_flow(&state, tr, &jar, client.https).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if step.totp {
        return see_other("/login/code");
    }
    let sender = state.otp_sender(tr.language());
    let sent = match step.challenge.as_deref() {
        Some(id) => state
            .engine
            .resend_sms_challenge(id, &flow.id, sender)
            .await
            .map(|r| r.map(|()| None)),
        None => {
            // The first send failed: start the challenge now.
            let Some(citizen) = (match state.engine.store.citizen(step.citizen).await {
                Ok(c) => c,
                Err(e) => return page_error(tr, CoreError::from(e)),
            }) else {
                return see_other("/login");
            };
            state
                .engine
                .issue_sms_challenge(step.citizen, OTP_PURPOSE, &flow.id, &citizen.mobile, sender)
                .await
                .map(|r| r.map(Some))
        }
    };
    let flash = match sent {
        Ok(Ok(new_id)) => {
            if new_id.is_some() {
                step.challenge = new_id;
            }
            Flash::status("login-code-resent")
        }
        Ok(Err(refusal)) => Flash::send_refused(&refusal),
        Err(e) => return page_error(tr, e),
    };
    flow.data.second = Some(step);
    flow.data.flash = Some(flash);
    if let Err(e) = flow::save(&state, KIND, &flow).await {
        return page_error(tr, e);
    }
    see_other("/login/code")
}
