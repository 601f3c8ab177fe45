//! Engine-level session tests on a SQLite store with a hand-moved clock.

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::core::citizen::CitizenId;
use crate::core::engine::{Actor, Engine};
use std::sync::Arc;

struct World {
    engine: Engine,
    clock: Arc<ManualClock>,
    citizen: CitizenId,
    cfg: SessionConfig,
    _world: crate::core::testing::World,
}

async fn world() -> World {
    let w = crate::core::testing::world().await;
    World {
        engine: w.engine.clone(),
        clock: w.clock.clone(),
        citizen: w.citizen.id,
        cfg: SessionConfig::default(),
        _world: w,
    }
}

impl World {
    async fn login(&self, methods: &[AuthMethod]) -> (SsoSession, SessionCookie) {
        self.engine
            .create_session(
                self.citizen,
                methods,
                LevelOfAssurance::Low,
                Some("test agent".into()),
                Some("192.0.2.7".into()),
                &self.cfg,
            )
            .await
            .expect("create")
    }

    async fn lookup(&self, cookie: &SessionCookie) -> Option<SsoSession> {
        self.engine
            .session_from_cookie(cookie.value(), &self.cfg)
            .await
            .expect("lookup")
    }

    async fn kinds(&self) -> Vec<String> {
        let entries = self
            .engine
            .store
            .audit_entries(Some(self.citizen), 0, 100)
            .await
            .expect("audit");
        entries.into_iter().map(|e| e.event.kind).collect()
    }
}

#[tokio::test]
async fn reauthentication_rotates_the_cookie_and_keeps_the_id() {
    let w = world().await;
    let (session, cookie) = w.login(&[AuthMethod::Pwd]).await;
    assert_eq!(session.amr(), vec!["pwd"]);
    w.clock.advance(Duration::minutes(5));
    let (stepped, new_cookie) = w
        .engine
        .step_up(
            &session,
            AuthMethod::Sms,
            LevelOfAssurance::Substantial,
            &w.cfg,
        )
        .await
        .expect("step up");
    assert_ne!(cookie, new_cookie);
    assert_eq!(stepped.id, session.id);
    assert_eq!(stepped.auth_time, w.clock.now());
    assert_eq!(stepped.level, LevelOfAssurance::Substantial);
    assert_eq!(stepped.amr(), vec!["pwd", "sms", "mfa"]);
    assert_eq!(w.lookup(&cookie).await, None, "the old cookie is dead");
    assert_eq!(w.lookup(&new_cookie).await, Some(stepped.clone()));
    assert_eq!(
        w.engine.store.session(&session.id).await.expect("get"),
        Some(stepped)
    );
    assert_eq!(
        w.kinds().await,
        vec!["session.created", "session.reauthenticated"]
    );
}

#[tokio::test]
async fn idle_sessions_expire_and_activity_keeps_them_alive() {
    let w = world().await;
    let (_, idle_cookie) = w.login(&[AuthMethod::Pwd]).await;
    let (_, busy_cookie) = w.login(&[AuthMethod::Pwd]).await;
    for _ in 0..4 {
        w.clock.advance(Duration::minutes(10));
        assert!(
            w.lookup(&busy_cookie).await.is_some(),
            "touched every 10 min"
        );
    }
    assert_eq!(
        w.lookup(&idle_cookie).await,
        None,
        "40 min without activity"
    );
    // A lookup within a minute of the last touch does not write.
    let before = w.lookup(&busy_cookie).await.expect("live").last_seen_at;
    w.clock.advance(Duration::seconds(30));
    assert_eq!(
        w.lookup(&busy_cookie).await.expect("live").last_seen_at,
        before
    );
}

#[tokio::test]
async fn the_absolute_limit_holds_even_when_active() {
    let w = world().await;
    let (session, cookie) = w.login(&[AuthMethod::Pwd]).await;
    let mut current = session;
    for _ in 0..((12 * 60) / 20 - 1) {
        w.clock.advance(Duration::minutes(20));
        current = w.lookup(&cookie).await.expect("still live");
    }
    assert!(w.clock.now() < current.expires_at);
    w.clock.advance(Duration::minutes(20));
    assert_eq!(w.lookup(&cookie).await, None, "12 h after creation");
    assert!(
        w.engine
            .reauthenticate(&current, &[AuthMethod::Pwd], LevelOfAssurance::Low, &w.cfg)
            .await
            .is_err(),
        "an expired session cannot be revived"
    );
}

#[tokio::test]
async fn logout_kills_the_cookie_and_reports_the_relying_parties() {
    let w = world().await;
    let (session, cookie) = w.login(&[AuthMethod::Pwd, AuthMethod::Sms]).await;
    assert_eq!(session.amr(), vec!["pwd", "sms", "mfa"]);
    w.engine
        .record_relying_party(&session.id, "tax-office", "oidc")
        .await
        .expect("record");
    assert!(
        w.engine
            .record_relying_party(&session.id, "x", "ws-fed")
            .await
            .is_err()
    );
    let actor = Actor::system();
    let ended = w
        .engine
        .end_session(
            &session.id,
            &actor,
            &Ending::without_browser(EndCause::Logout),
        )
        .await
        .expect("logout")
        .expect("was live");
    assert_eq!(ended.relying_parties.len(), 1);
    assert_eq!(ended.ended_at, Some(w.clock.now()));
    assert_eq!(w.lookup(&cookie).await, None);
    assert_eq!(
        w.engine
            .end_session(
                &session.id,
                &actor,
                &Ending::without_browser(EndCause::Logout)
            )
            .await
            .expect("again"),
        None
    );
    assert_eq!(w.kinds().await, vec!["session.created", "session.ended"]);
    let audit = w
        .engine
        .store
        .audit_entries(Some(w.citizen), 0, 10)
        .await
        .expect("audit");
    for entry in audit {
        let detail = entry.event.detail.to_string();
        assert!(detail.contains(session.id.as_str()), "{detail}");
        assert!(
            !detail.contains(cookie.value()),
            "the cookie is never audited"
        );
    }
}

#[tokio::test]
async fn logout_everywhere_ends_every_session_of_the_citizen() {
    let w = world().await;
    let mut cookies = Vec::new();
    for _ in 0..3 {
        cookies.push(w.login(&[AuthMethod::Pwd]).await.1);
        w.clock.advance(Duration::seconds(1));
    }
    let live = w.engine.sessions_of(w.citizen, &w.cfg).await.expect("list");
    assert_eq!(live.len(), 3);
    assert!(live.windows(2).all(|p| p[0].created_at > p[1].created_at));
    let other = CitizenId::new();
    assert_eq!(
        w.engine
            .end_own_session(
                other,
                &live[0].id,
                &Actor::system(),
                &Ending::without_browser(EndCause::AccountPage)
            )
            .await
            .expect("not theirs"),
        None
    );
    let ended = w
        .engine
        .end_every_session(
            w.citizen,
            &Actor::system(),
            &Ending::without_browser(EndCause::PasswordReset),
        )
        .await
        .expect("logout everywhere");
    assert_eq!(ended.len(), 3);
    for cookie in &cookies {
        assert_eq!(w.lookup(cookie).await, None);
    }
    assert!(
        w.engine
            .sessions_of(w.citizen, &w.cfg)
            .await
            .expect("list")
            .is_empty()
    );
}

#[test]
fn ids_and_cookies_have_the_promised_shape() {
    let id = SessionId::generate().expect("id");
    assert_eq!(id.as_str().len(), 22);
    assert_eq!(id.to_string().parse::<SessionId>(), Ok(id.clone()));
    assert!("not-an-id".parse::<SessionId>().is_err());
    let cookie = SessionCookie::generate().expect("cookie");
    assert_eq!(cookie.value().len(), 43);
    assert!(!format!("{cookie:?}").contains(cookie.value()));
    assert_eq!(cookie.hash().len(), 64);
    let header = cookie.set_cookie(true);
    assert!(header.starts_with("__Host-pasarela_sso="));
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(header.contains(attr), "{header}");
    }
    let cfg: SessionConfig = toml::from_str("idle_minutes = 15").expect("config");
    assert_eq!((cfg.absolute_hours, cfg.idle_minutes), (12, 15));
    assert!(toml::from_str::<SessionConfig>("idle = 1").is_err());
}
