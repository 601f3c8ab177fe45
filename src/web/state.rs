//! The application state every handler receives.

use crate::config::Config;
use crate::core::engine::Engine;
use crate::core::keys::KeyRing;
use std::sync::Arc;

/// Shared, cheaply cloneable application state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the state holds.
pub struct Inner {
    /// The validated configuration.
    pub config: Config,
    /// The issuer string (`public_url` without a trailing slash).
    pub issuer: String,
    /// The identity engine.
    pub engine: Engine,
    /// Signing keys.
    pub keys: KeyRing,
}

impl AppState {
    /// Wraps the parts.
    pub fn new(config: Config, engine: Engine, keys: KeyRing) -> Self {
        let issuer = config.issuer();
        Self(Arc::new(Inner {
            config,
            issuer,
            engine,
            keys,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
