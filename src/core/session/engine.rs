//! Engine operations on SSO sessions. The limits come in as a [`SessionConfig`] so that the
//! engine needs no new state. Every creation, re-authentication and end is audited with the
//! session id, level and `amr`, never the cookie.

use super::end::{EndedSession, Ending};
use super::{MethodUse, RelyingPartyVisit, SessionConfig, SessionCookie, SessionId, SsoSession};
use crate::core::CoreError;
use crate::core::citizen::CitizenId;
use crate::core::engine::{Actor, Engine};
use crate::core::level::{AuthMethod, LevelOfAssurance};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::json;

/// Activity is written back at most this often, to avoid a database write per request; the
/// idle limit is therefore enforced to within this margin.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// The audit actor for what a citizen does in their own browser.
fn citizen_actor(source: Option<String>) -> Actor {
    Actor {
        name: "citizen".into(),
        source,
    }
}

impl Engine {
    /// The clock's time at the store's precision, so a session returned equals one read back.
    fn session_now(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        now.duration_trunc(Duration::microseconds(1)).unwrap_or(now)
    }

    async fn audit_session(
        &self,
        actor: &Actor,
        kind: &str,
        session: &SsoSession,
    ) -> Result<(), CoreError> {
        let detail = json!({
            "session": session.id.as_str(),
            "level": session.level.as_str(),
            "amr": session.amr(),
        });
        self.audit(
            self.event(actor, kind)
                .citizen(session.citizen_id)
                .detail(detail),
        )
        .await
        .map(|_| ())
    }

    /// Starts an SSO session after a successful authentication with `methods`, reaching
    /// `level`. Returns the session and the cookie value to set.
    pub async fn create_session(
        &self,
        citizen: CitizenId,
        methods: &[AuthMethod],
        level: LevelOfAssurance,
        user_agent: Option<String>,
        source: Option<String>,
        cfg: &SessionConfig,
    ) -> Result<(SsoSession, SessionCookie), CoreError> {
        if methods.is_empty() {
            return Err(CoreError::Invalid(
                "a session needs at least one authentication method".into(),
            ));
        }
        let now = self.session_now();
        let session = SsoSession {
            id: SessionId::generate()?,
            citizen_id: citizen,
            created_at: now,
            auth_time: now,
            methods: methods
                .iter()
                .map(|&method| MethodUse { method, at: now })
                .collect(),
            level,
            relying_parties: Vec::new(),
            last_seen_at: now,
            expires_at: now + cfg.absolute(),
            ended_at: None,
            user_agent,
            source: source.clone(),
        };
        let cookie = SessionCookie::generate()?;
        self.store.insert_session(&session, &cookie.hash()).await?;
        self.audit_session(&citizen_actor(source), "session.created", &session)
            .await?;
        Ok((session, cookie))
    }

    /// The live session behind a cookie value, or `None` when the cookie is unknown or
    /// replaced, or the session ended, expired or sat idle too long. Records the activity
    /// when the last record is more than a minute old.
    pub async fn session_from_cookie(
        &self,
        cookie: &str,
        cfg: &SessionConfig,
    ) -> Result<Option<SsoSession>, CoreError> {
        let hash = SessionCookie::from_value(cookie).hash();
        let Some(mut session) = self.store.session_by_cookie_hash(&hash).await? else {
            return Ok(None);
        };
        let now = self.session_now();
        if !session.is_live(now, cfg.idle()) {
            return Ok(None);
        }
        if now - session.last_seen_at > TOUCH_EVERY {
            self.store.touch_session(&session.id, now).await?;
            session.last_seen_at = now;
        }
        Ok(Some(session))
    }

    /// Records a re-authentication (or step-up) in a live session: a new cookie, `auth_time`
    /// now, the `added` methods appended with their time, and `new_level`. The id and the
    /// absolute end stay: re-authenticating does not stretch the session's life.
    /// `Refused` if the session is no longer live.
    pub async fn reauthenticate(
        &self,
        session: &SsoSession,
        added: &[AuthMethod],
        new_level: LevelOfAssurance,
        cfg: &SessionConfig,
    ) -> Result<(SsoSession, SessionCookie), CoreError> {
        let now = self.session_now();
        let refused = || CoreError::Refused("the session has ended".into());
        let current = self
            .store
            .session(&session.id)
            .await?
            .filter(|s| s.is_live(now, cfg.idle()))
            .ok_or_else(refused)?;
        let mut updated = SsoSession {
            auth_time: now,
            last_seen_at: now,
            level: new_level,
            ..current
        };
        updated
            .methods
            .extend(added.iter().map(|&method| MethodUse { method, at: now }));
        let cookie = SessionCookie::generate()?;
        self.store
            .update_session_auth(
                &updated.id,
                &cookie.hash(),
                now,
                &updated.methods,
                new_level,
            )
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound(_) => refused(),
                other => other.into(),
            })?;
        let actor = citizen_actor(updated.source.clone());
        self.audit_session(&actor, "session.reauthenticated", &updated)
            .await?;
        Ok((updated, cookie))
    }

    /// Adds one more factor to a live session to reach `new_level`: a re-authentication with
    /// that factor.
    pub async fn step_up(
        &self,
        session: &SsoSession,
        factor: AuthMethod,
        new_level: LevelOfAssurance,
        cfg: &SessionConfig,
    ) -> Result<(SsoSession, SessionCookie), CoreError> {
        self.reauthenticate(session, &[factor], new_level, cfg)
            .await
    }

    /// Records that `rp_id` was served over `protocol` (`oidc` or `saml`) in the session, for
    /// single logout. `NotFound` if the session has ended.
    pub async fn record_relying_party(
        &self,
        id: &SessionId,
        rp_id: &str,
        protocol: &str,
    ) -> Result<(), CoreError> {
        if !matches!(protocol, "oidc" | "saml") {
            return Err(CoreError::Invalid(format!(
                "unknown protocol '{protocol}': expected oidc or saml"
            )));
        }
        let now = self.session_now();
        let visit = RelyingPartyVisit {
            rp_id: rp_id.to_owned(),
            protocol: protocol.to_owned(),
            first_at: now,
            last_at: now,
        };
        Ok(self.store.add_session_relying_party(id, &visit).await?)
    }

    /// Ends the session, audits it with its cause, then tells every registered
    /// [`SessionEndNotifier`](super::end::SessionEndNotifier) once. Returns it as ended, with
    /// its relying parties, or `None` if it was unknown or already ended (nobody is told
    /// again).
    pub async fn end_session(
        &self,
        id: &SessionId,
        actor: &Actor,
        ending: &Ending,
    ) -> Result<Option<SsoSession>, CoreError> {
        if !self.store.end_session(id, self.session_now()).await? {
            return Ok(None);
        }
        let Some(session) = self.store.session(id).await? else {
            return Ok(None);
        };
        self.ended(actor, session, ending).await.map(Some)
    }

    /// Audits a session this engine has just ended and tells the notifiers.
    async fn ended(
        &self,
        actor: &Actor,
        session: SsoSession,
        ending: &Ending,
    ) -> Result<SsoSession, CoreError> {
        let detail = json!({
            "session": session.id.as_str(),
            "level": session.level.as_str(),
            "amr": session.amr(),
            "cause": ending.cause.as_str(),
        });
        self.audit(
            self.event(actor, "session.ended")
                .citizen(session.citizen_id)
                .detail(detail),
        )
        .await?;
        let ended = EndedSession {
            session,
            ending: ending.clone(),
        };
        for notifier in &self.notifiers {
            notifier.session_ended(self, &ended).await;
        }
        Ok(ended.session)
    }

    /// Ends `id` only if it belongs to `citizen`: for a citizen ending one of their own
    /// sessions from the session list. `None` if it is not theirs or not live.
    pub async fn end_own_session(
        &self,
        citizen: CitizenId,
        id: &SessionId,
        actor: &Actor,
        ending: &Ending,
    ) -> Result<Option<SsoSession>, CoreError> {
        match self.store.session(id).await? {
            Some(s) if s.citizen_id == citizen => self.end_session(id, actor, ending).await,
            _ => Ok(None),
        }
    }

    /// Ends every session of the citizen. Returns the sessions this call ended, with their
    /// relying parties; each was told to the notifiers once.
    pub async fn end_every_session(
        &self,
        citizen: CitizenId,
        actor: &Actor,
        ending: &Ending,
    ) -> Result<Vec<SsoSession>, CoreError> {
        let mut ended = Vec::new();
        let mut ended_before = Vec::new();
        for session in self.store.citizen_sessions(citizen).await? {
            if session.ended_at.is_some() {
                ended_before.push(session.id);
            } else if let Some(s) = self.end_session(&session.id, actor, ending).await? {
                ended.push(s);
            }
        }
        // A session created while the list above was walked still has to go. The bulk end
        // stamps them with `now`, which is how they are found again to be told (a session
        // ended before this call may carry the same stamp under a coarse clock: not those).
        let now = self.session_now();
        if self.store.end_citizen_sessions(citizen, now).await? > 0 {
            for session in self.store.citizen_sessions(citizen).await? {
                let known =
                    ended_before.contains(&session.id) || ended.iter().any(|e| e.id == session.id);
                if session.ended_at == Some(now) && !known {
                    ended.push(self.ended(actor, session, ending).await?);
                }
            }
        }
        Ok(ended)
    }

    /// The citizen's live sessions, newest first.
    pub async fn sessions_of(
        &self,
        citizen: CitizenId,
        cfg: &SessionConfig,
    ) -> Result<Vec<SsoSession>, CoreError> {
        let now = self.session_now();
        let mut sessions = self.store.citizen_sessions(citizen).await?;
        sessions.retain(|s| s.is_live(now, cfg.idle()));
        Ok(sessions)
    }
}
