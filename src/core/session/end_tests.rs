//! The engine tells every registered notifier exactly once per session it ends, whichever
//! of its operations ended it.

use super::*;
use crate::core::citizen::CitizenId;
use crate::core::engine::{Actor, Engine};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};

/// A notifier that records what it is told; optionally opens one more session of the same
/// citizen the first time it is called, as a login racing an "end every session" would.
#[derive(Default)]
pub(crate) struct Recorder {
    told: Mutex<Vec<(SessionId, Ending)>>,
    race_once: Mutex<Option<CitizenId>>,
}

impl Recorder {
    /// The sessions told so far, in order, with how they were ended.
    pub(crate) fn told(&self) -> Vec<(SessionId, Ending)> {
        self.told.lock().expect("lock").clone()
    }
}

#[async_trait]
impl SessionEndNotifier for Recorder {
    async fn session_ended(&self, engine: &Engine, ended: &EndedSession) {
        assert!(ended.session.ended_at.is_some(), "told only once it ended");
        self.told
            .lock()
            .expect("lock")
            .push((ended.session.id.clone(), ended.ending.clone()));
        let race = self.race_once.lock().expect("lock").take();
        if let Some(citizen) = race {
            engine
                .create_session(
                    citizen,
                    &[AuthMethod::Pwd],
                    LevelOfAssurance::Low,
                    None,
                    None,
                    &SessionConfig::default(),
                )
                .await
                .expect("racing session");
        }
    }
}

/// An engine on the shared fixture with two recorders registered.
async fn world() -> (
    crate::core::testing::World,
    Engine,
    Arc<Recorder>,
    Arc<Recorder>,
) {
    let w = crate::core::testing::world().await;
    let first = Arc::new(Recorder::default());
    let second = Arc::new(Recorder::default());
    let mut engine = w.engine.clone();
    engine.notifiers = vec![first.clone(), second.clone()];
    (w, engine, first, second)
}

async fn open(engine: &Engine, citizen: CitizenId) -> SsoSession {
    engine
        .create_session(
            citizen,
            &[AuthMethod::Pwd],
            LevelOfAssurance::Low,
            None,
            None,
            &SessionConfig::default(),
        )
        .await
        .expect("session")
        .0
}

#[tokio::test]
async fn ending_one_session_tells_every_notifier_once() {
    let (w, engine, first, second) = world().await;
    let session = open(&engine, w.citizen.id).await;
    let ending = Ending {
        cause: EndCause::SingleLogout,
        initiator: Some("https://sp.example".into()),
        browser_chain: true,
    };
    let ended = engine
        .end_session(&session.id, &Actor::system(), &ending)
        .await
        .expect("end")
        .expect("was live");
    assert_eq!(ended.id, session.id);
    // Ending it again ends nothing and tells nobody.
    let again = engine
        .end_session(
            &session.id,
            &Actor::system(),
            &Ending::without_browser(EndCause::Logout),
        )
        .await
        .expect("again");
    assert_eq!(again, None);
    for r in [&first, &second] {
        assert_eq!(r.told(), vec![(session.id.clone(), ending.clone())]);
    }
    let audit = engine
        .store
        .audit_entries(Some(w.citizen.id), 0, 10)
        .await
        .expect("audit");
    let ends: Vec<_> = audit
        .iter()
        .filter(|e| e.event.kind == "session.ended")
        .collect();
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].event.detail["cause"], "single_logout");
}

#[tokio::test]
async fn ending_an_own_session_tells_only_when_it_is_theirs() {
    let (w, engine, first, second) = world().await;
    let session = open(&engine, w.citizen.id).await;
    let ending = Ending::without_browser(EndCause::AccountPage);
    let someone_else = CitizenId::new();
    let not_theirs = engine
        .end_own_session(someone_else, &session.id, &Actor::system(), &ending)
        .await
        .expect("not theirs");
    assert_eq!(not_theirs, None);
    assert!(first.told().is_empty());
    engine
        .end_own_session(w.citizen.id, &session.id, &Actor::system(), &ending)
        .await
        .expect("theirs")
        .expect("was live");
    engine
        .end_own_session(w.citizen.id, &session.id, &Actor::system(), &ending)
        .await
        .expect("again");
    for r in [&first, &second] {
        assert_eq!(r.told(), vec![(session.id.clone(), ending.clone())]);
    }
}

#[tokio::test]
async fn ending_every_session_tells_each_once_even_one_opened_meanwhile() {
    let (w, engine, first, second) = world().await;
    let mut opened = Vec::new();
    for _ in 0..3 {
        opened.push(open(&engine, w.citizen.id).await.id);
    }
    let ended_before = open(&engine, w.citizen.id).await;
    engine
        .end_session(
            &ended_before.id,
            &Actor::system(),
            &Ending::without_browser(EndCause::Logout),
        )
        .await
        .expect("end one first");
    // The first notice opens a fourth live session behind the walk's back.
    *first.race_once.lock().expect("lock") = Some(w.citizen.id);
    let ending = Ending::without_browser(EndCause::PasswordReset);
    let ended = engine
        .end_every_session(w.citizen.id, &Actor::system(), &ending)
        .await
        .expect("end every session");
    assert_eq!(
        ended.len(),
        4,
        "the three listed and the one opened meanwhile"
    );
    let live = engine
        .sessions_of(w.citizen.id, &SessionConfig::default())
        .await
        .expect("list");
    assert!(live.is_empty());
    for r in [&first, &second] {
        let told: Vec<SessionId> = r
            .told()
            .into_iter()
            .filter(|(_, e)| e == &ending)
            .map(|(id, _)| id)
            .collect();
        assert_eq!(told.len(), 4, "{told:?}");
        let ended_ids: Vec<SessionId> = ended.iter().map(|s| s.id.clone()).collect();
        for id in &told {
            assert_eq!(told.iter().filter(|t| *t == id).count(), 1, "told once");
            assert!(ended_ids.contains(id));
        }
        for id in &opened {
            assert!(told.contains(id));
        }
        assert!(
            !told.contains(&ended_before.id),
            "already ended: not told again"
        );
    }
}
