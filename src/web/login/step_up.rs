//! What a login asks for once it knows who is logging in: nothing more, the next factor, or,
//! when the level asked for is out of the citizen's reach, a page saying how to reach it.
//!
//! The same decision serves a login that has just checked the password and a **step-up**: a
//! citizen whose live SSO session is below the level a service asks for is asked only for the
//! factor that is missing (no password), and the session's level, `auth_time` and methods
//! (`amr`) are raised in place. A service that demands a fresh login (`fresh=1`: OIDC
//! `prompt=login` or `max_age`, SAML `ForceAuthn`) never gets a step-up.

use super::*;
use crate::core::citizen::CitizenStatus;

/// The methods, besides the password, the citizen could still use in this login: an SMS code
/// (every account has a mobile) and their authenticator app when one is enrolled, as far as
/// the service accepts them. Certificates (`hwk`) are not offered by the login pages.
async fn available_methods(
    state: &AppState,
    flow: &LoginFlow,
    citizen: &Citizen,
) -> Result<BTreeSet<AuthMethod>, CoreError> {
    let mut out = BTreeSet::new();
    if accepts(flow, AuthMethod::Sms) {
        out.insert(AuthMethod::Sms);
    }
    if accepts(flow, AuthMethod::Otp) && state.engine.has_totp(citizen.id).await? {
        out.insert(AuthMethod::Otp);
    }
    Ok(out)
}

/// The live session to step up, with its active account: only when a level is asked for
/// that the session has not reached and a further factor is needed for it, no fresh login is
/// demanded, and the session used no method the service excludes.
pub(super) async fn step_up_session(
    state: &AppState,
    jar: &CookieJar,
    client: &ClientInfo,
    flow: &LoginFlow,
) -> Result<Option<(SsoSession, Citizen)>, PageError> {
    let Some(target) = flow.level.filter(|_| !flow.fresh) else {
        return Ok(None);
    };
    let Some(session) = live_session(state, jar, client.https).await? else {
        return Ok(None);
    };
    let excluded = session
        .methods_set()
        .iter()
        .any(|m| *m != AuthMethod::Pwd && !accepts(flow, *m));
    if excluded {
        return Ok(None);
    }
    let Some(citizen) = state
        .engine
        .store
        .citizen(session.citizen_id)
        .await
        .map_err(CoreError::from)?
        .filter(|c| c.status == CitizenStatus::Active)
    else {
        return Ok(None);
    };
    let session = crate::web::auth::capped(state, session, &citizen);
    // The methods already used reach the level now (an office raised the proofing since):
    // a login with the password asserts it, as a step-up adding nothing could not.
    let reached_anew = |c: &Citizen| {
        state
            .engine
            .policy
            .achieved(c.proofing, &session.methods_set())
            .is_some_and(|l| l >= target)
    };
    Ok((session.level < target && !reached_anew(&citizen)).then_some((session, citizen)))
}

/// Decides the rest of a login for `citizen`, who has used `used` so far (the password, or
/// the methods of the session being stepped up).
pub(super) async fn next_step(
    ctx: Ctx<'_>,
    jar: CookieJar,
    flow: Flow<LoginFlow>,
    citizen: &Citizen,
    used: &BTreeSet<AuthMethod>,
    stepping_up: Option<&SsoSession>,
) -> Result<Response, Response> {
    let Ctx {
        state, tr, client, ..
    } = ctx;
    let fail = |e: PageError| page_error(tr, e);
    let policy = &state.engine.policy;
    let available = available_methods(state, &flow.data, citizen)
        .await
        .map_err(|e| fail(e.into()))?;
    let all: BTreeSet<AuthMethod> = used.union(&available).copied().collect();
    let best = policy.achieved(citizen.proofing, &all);
    let current = policy.achieved(citizen.proofing, used);
    if let Some(need) = flow.data.need.or(flow.data.level)
        && best.is_none_or(|b| b < need)
    {
        let why = policy.step_up(citizen.proofing, used, &available, need);
        if why == StepUp::NoMethod && flow.data.methods.is_some() {
            // The service itself excluded the methods that would do (Cl@ve excluded IdPs).
            let error = Some(tr.t("login-no-accepted-method"));
            return Err(show_form(state, tr, jar, client, &flow, "", (error, None)).await);
        }
        audit_unreachable(state, client, citizen, need, &why).await;
        let back = with_unmet(&flow.data.continue_to);
        let jar = flow::end(state, jar, client.https, KIND, &flow)
            .await
            .map_err(fail)?;
        let current = stepping_up.map(|s| level_name(&tr, s.level));
        let page = UnreachablePage {
            tr: &tr,
            level: &level_name(&tr, need),
            current: current.as_deref(),
            proofing_too_low: why == StepUp::ProofingTooLow,
            ways: ways_to(policy, need),
            back: &back,
        };
        return Ok((jar, render(tr, &page)).into_response());
    }
    // What the service would like, as far as this citizen can go.
    let goal = flow.data.level.map(|l| best.map_or(l, |b| l.min(b)));
    let mut add = match goal.map(|g| policy.step_up(citizen.proofing, used, &available, g)) {
        Some(StepUp::Add(methods)) => methods,
        _ => BTreeSet::new(),
    };
    if stepping_up.is_some() && add.is_empty() {
        // Nothing the citizen can add raises the session: back to the service, which
        // answers with the level there is.
        let jar = flow::end(state, jar, client.https, KIND, &flow)
            .await
            .map_err(fail)?;
        return Ok((jar, see_other(&with_unmet(&flow.data.continue_to))).into_response());
    }
    if stepping_up.is_none()
        && add.is_empty()
        && needs_second_factor(state.config.login.second_factor, current, goal)
    {
        // A second factor at every login (Cl@ve style): the app when enrolled, else SMS.
        let preferred = [AuthMethod::Otp, AuthMethod::Sms]
            .into_iter()
            .find(|m| available.contains(m));
        match preferred {
            Some(m) => {
                add.insert(m);
            }
            None => {
                let error = Some(tr.t("login-no-accepted-method"));
                return Err(show_form(state, tr, jar, client, &flow, "", (error, None)).await);
            }
        }
    }
    if add.is_empty() {
        let methods: Vec<AuthMethod> = used.iter().copied().collect();
        return finish(
            ctx,
            jar,
            &flow,
            citizen.id,
            citizen.proofing,
            &methods,
            None,
        )
        .await;
    }
    // The app first (no SMS to wait for), then SMS, in a fixed order.
    let mut queue: Vec<AuthMethod> = [AuthMethod::Otp, AuthMethod::Sms]
        .into_iter()
        .filter(|m| add.contains(m))
        .collect();
    if queue.is_empty() {
        // Only methods these pages cannot ask for (a policy table with odd rules).
        let error = Some(tr.t("login-no-accepted-method"));
        return Err(show_form(state, tr, jar, client, &flow, "", (error, None)).await);
    }
    let first = queue.remove(0);
    let done = if stepping_up.is_some() {
        Vec::new()
    } else {
        used.iter().copied().collect()
    };
    let step = SecondStep {
        citizen: citizen.id,
        proofing: citizen.proofing,
        masked_mobile: mask_phone(&citizen.mobile),
        challenge: None,
        totp: false,
        totp_failures: 0,
        no_sms: true,
        before: used.iter().copied().collect(),
        done,
        queue,
        step_up: stepping_up.map(|s| s.id.as_str().to_owned()),
        goal,
    };
    ask(
        state,
        tr,
        jar,
        flow,
        step,
        first,
        &available,
        &citizen.mobile,
    )
    .await
}

/// Asks for `method` as the flow's next factor: the code page.
#[allow(clippy::too_many_arguments)]
async fn ask(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    mut flow: Flow<LoginFlow>,
    mut step: SecondStep,
    method: AuthMethod,
    available: &BTreeSet<AuthMethod>,
    mobile: &str,
) -> Result<Response, Response> {
    let fail = |e: PageError| page_error(tr, e);
    flow.data.flash = begin_factor(state, tr, &flow.id, &mut step, method, available, mobile)
        .await
        .map_err(|e| fail(e.into()))?;
    flow.data.second = Some(step);
    flow::save(state, KIND, &flow).await.map_err(fail)?;
    Ok((jar, see_other("/login/code")).into_response())
}

/// Sets `step` up to ask for `method` (sending the first SMS code when it is SMS); the switch
/// from the app to SMS is offered only when SMS, not used yet nor still to come, in its place
/// still reaches the goal.
async fn begin_factor(
    state: &AppState,
    tr: Tr,
    flow_id: &str,
    step: &mut SecondStep,
    method: AuthMethod,
    available: &BTreeSet<AuthMethod>,
    mobile: &str,
) -> Result<Option<Flash>, CoreError> {
    step.totp = method == AuthMethod::Otp;
    step.totp_failures = 0;
    step.challenge = None;
    let used: BTreeSet<AuthMethod> = step.before.iter().chain(&step.done).copied().collect();
    let mut with_sms = used.clone();
    with_sms.extend(step.queue.iter().copied());
    with_sms.insert(AuthMethod::Sms);
    let sms_reaches = match step.goal {
        Some(goal) => state
            .engine
            .policy
            .achieved(step.proofing, &with_sms)
            .is_some_and(|l| l >= goal),
        None => true,
    };
    let sms_unused = !step.queue.contains(&AuthMethod::Sms) && !used.contains(&AuthMethod::Sms);
    step.no_sms = !(available.contains(&AuthMethod::Sms) && sms_reaches && sms_unused);
    if step.totp {
        return Ok(None);
    }
    send_first_code(state, tr, flow_id, step, mobile).await
}

/// After `method` was verified: the next factor of the queue, or the end of the login.
pub(super) async fn factor_done(
    ctx: Ctx<'_>,
    jar: CookieJar,
    flow: Flow<LoginFlow>,
    mut step: SecondStep,
    method: AuthMethod,
) -> Result<Response, Response> {
    let Ctx { state, tr, .. } = ctx;
    let fail = |e: PageError| page_error(tr, e);
    step.done.push(method);
    if step.queue.is_empty() {
        return finish(
            ctx,
            jar,
            &flow,
            step.citizen,
            step.proofing,
            &step.done,
            step.step_up.as_deref(),
        )
        .await;
    }
    let next = step.queue.remove(0);
    let citizen = state
        .engine
        .store
        .citizen(step.citizen)
        .await
        .map_err(|e| fail(CoreError::from(e).into()))?;
    let Some(citizen) = citizen else {
        return Ok(see_other("/login"));
    };
    let available = available_methods(state, &flow.data, &citizen)
        .await
        .map_err(|e| fail(e.into()))?;
    ask(
        state,
        tr,
        jar,
        flow,
        step,
        next,
        &available,
        &citizen.mobile,
    )
    .await
}

/// A level's name in the page's language.
pub(super) fn level_name(tr: &Tr, level: LevelOfAssurance) -> String {
    tr.t(&format!("account-level-{}", level.as_str()))
}

/// `continue` with `unmet=1`: the service takes it as "the citizen cannot do better" and
/// answers with the level there is, or with its error.
fn with_unmet(continue_to: &str) -> String {
    let sep = if continue_to.contains('?') { '&' } else { '?' };
    format!("{continue_to}{sep}unmet=1")
}

/// The methods that reach `level` under the policy, each rule as a list of message keys
/// (`account-method-pwd`, …), for the page that explains how to get there.
fn ways_to(policy: &crate::core::level::LevelPolicy, level: LevelOfAssurance) -> Vec<Vec<String>> {
    policy
        .rules_reaching(level)
        .map(|r| {
            r.methods
                .iter()
                .map(|m| format!("account-method-{}", m.amr()))
                .collect()
        })
        .collect()
}

async fn audit_unreachable(
    state: &AppState,
    client: &ClientInfo,
    citizen: &Citizen,
    level: LevelOfAssurance,
    why: &StepUp,
) {
    let reason = match why {
        StepUp::ProofingTooLow => "proofing",
        _ => "methods",
    };
    let event = state
        .engine
        .event(&actor(client), "login.level_unreachable")
        .citizen(citizen.id)
        .outcome(Outcome::Refused)
        .detail(serde_json::json!({
            "level": level.as_str(),
            "proofing": citizen.proofing.as_str(),
            "reason": reason,
        }));
    if let Err(e) = state.engine.audit(event).await {
        tracing::error!(error = %e, "could not audit an unreachable level");
    }
}

/// The page for a level the citizen cannot reach here, and how to reach it.
#[derive(Template)]
#[template(path = "login/unreachable.html")]
struct UnreachablePage<'a> {
    tr: &'a Tr,
    /// The level asked for, by name.
    level: &'a str,
    /// The level of the citizen's session, by name, when stepping one up.
    current: Option<&'a str>,
    /// The account's proofing is what stops it: an office visit is needed.
    proofing_too_low: bool,
    /// The method combinations that reach the level, as message keys.
    ways: Vec<Vec<String>>,
    /// Back to the service, which answers with its error.
    back: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmet_is_added_to_any_continue_target() {
        assert_eq!(
            with_unmet("/oidc/authorize/resume?id=abc"),
            "/oidc/authorize/resume?id=abc&unmet=1"
        );
        assert_eq!(with_unmet("/account"), "/account?unmet=1");
    }

    #[test]
    fn the_ways_to_a_level_name_every_rule_that_reaches_it() {
        let p = crate::core::level::LevelPolicy::default();
        assert_eq!(
            ways_to(&p, LevelOfAssurance::High),
            vec![vec!["account-method-hwk"]]
        );
        let substantial = ways_to(&p, LevelOfAssurance::Substantial);
        assert!(substantial.contains(&vec![
            "account-method-pwd".to_owned(),
            "account-method-sms".to_owned()
        ]));
        assert!(substantial.contains(&vec!["account-method-hwk".to_owned()]));
    }
}
