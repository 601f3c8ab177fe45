//! Test fixture shared by the engine's unit tests: an [`Engine`] over a real SQLite file, the
//! in-process ephemeral store and a manual clock, with one citizen inserted.

use super::activation::CodeHasher;
use super::citizen::{Citizen, NewCitizen};
use super::credentials::SecretBox;
use super::engine::Engine;
use super::level::ProofingLevel;
use crate::clock::{Clock, ManualClock};
use crate::core::settings::CitizensConfig;
use crate::store::ephemeral::memory::MemoryStore;
use crate::store::sql::SqlStore;
use std::sync::Arc;

/// The fixture; keep it alive for the whole test (it owns the database directory).
pub struct World {
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub citizen: Citizen,
    _dir: Option<tempfile::TempDir>,
}

/// Lucía García Pérez, DNI 12345678Z, mobile +34600111222, proofed in person, `registered`.
pub fn lucia() -> NewCitizen {
    NewCitizen {
        id_type: "dni".into(),
        id_number: "12345678Z".into(),
        given_name: "Lucía".into(),
        family_names: "García Pérez".into(),
        birth_date: "1980-02-29".into(),
        email: "lucia@example.es".into(),
        mobile: "600111222".into(),
        proofing: Some(ProofingLevel::InPerson),
        ..Default::default()
    }
}

/// A fresh world on SQLite with [`lucia`] inserted.
pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/pasarela.db", dir.path().display());
    let store = SqlStore::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    world_on(store, Some(dir)).await
}

/// A world on a migrated `store` (e.g. a fresh PostgreSQL database) with [`lucia`] inserted.
pub async fn world_on(store: SqlStore, dir: Option<tempfile::TempDir>) -> World {
    let clock = Arc::new(ManualClock::fixed());
    let engine = Engine {
        store: Arc::new(store),
        ephemeral: Arc::new(MemoryStore::new(clock.clone())),
        clock: clock.clone(),
        policy: Default::default(),
        vocabulary: Default::default(),
        citizens: CitizensConfig::default(),
        login: Default::default(),
        codes: CodeHasher::new([0; 32]),
        secrets: SecretBox::new([1; 32]),
        notifiers: Vec::new(),
    };
    let citizen = lucia().validate("ES", clock.now()).unwrap();
    engine.store.insert_citizen(&citizen).await.unwrap();
    World {
        engine,
        clock,
        citizen,
        _dir: dir,
    }
}

/// Runs `test` on a world over the production engines: a fresh PostgreSQL database and the
/// test run's Redis server (under a random key prefix). Skipped with a notice when the run has
/// neither and does not require them (`TEST_REQUIRE_BACKENDS=1` makes a missing one fail).
pub async fn on_production_engines<F, Fut>(test: F)
where
    F: FnOnce(World) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        assert!(
            std::env::var("TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "TEST_REDIS_URL is required"
        );
        eprintln!("\n*** SKIPPED: TEST_REDIS_URL is not set ***\n");
        return;
    };
    crate::store::sql::tests::with_fresh_postgres(move |store| async move {
        let mut w = world_on(store, None).await;
        let prefix = format!("pasarela-test-{}:", crate::core::random::token(8).unwrap());
        w.engine.ephemeral = Arc::new(
            crate::store::ephemeral::redis::RedisStore::connect(&redis, &prefix)
                .await
                .unwrap(),
        );
        test(w).await;
    })
    .await;
}
