//! The engine: the one object the web layer, the protocol layers and the operator CLI call.
//! It owns the stores, the clock and the policies; it knows nothing about HTTP.

use super::CoreError;
use super::activation::CodeHasher;
use super::audit::{AuditEntry, AuditEvent, ChainError, GENESIS_HASH, verify_chain};
use super::credentials::SecretBox;
use super::level::{LevelPolicy, LevelVocabulary};
use crate::clock::Clock;
use crate::core::settings::CitizensConfig;
use crate::store::{EphemeralStore, Store};
use std::sync::Arc;

/// Who is acting, for the audit trail: `operator:<name>`, `citizen`, `system`, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Actor name as recorded.
    pub name: String,
    /// Source address, when the action came over the network.
    pub source: Option<String>,
}

impl Actor {
    /// A registry-office operator working from the command line.
    pub fn operator(name: &str) -> Self {
        Self {
            name: format!("operator:{name}"),
            source: None,
        }
    }

    /// pasarela itself.
    pub fn system() -> Self {
        Self {
            name: "system".into(),
            source: None,
        }
    }
}

/// The identity engine.
#[derive(Clone)]
pub struct Engine {
    /// Durable storage.
    pub store: Arc<dyn Store>,
    /// Short-lived state.
    pub ephemeral: Arc<dyn EphemeralStore>,
    /// The only source of time.
    pub clock: Arc<dyn Clock>,
    /// How proofing and methods become a level.
    pub policy: LevelPolicy,
    /// Names of the levels on the wire.
    pub vocabulary: LevelVocabulary,
    /// Registration rules.
    pub citizens: CitizensConfig,
    /// Password-login limits; re-authentication inside the account pages counts wrong
    /// passwords against the same lock.
    pub login: super::login::LoginPolicy,
    /// Keyed hashing of activation codes.
    pub codes: CodeHasher,
    /// Encryption at rest of TOTP secrets.
    pub secrets: SecretBox,
    /// Told of every session the engine ends (registered at start-up, one per protocol).
    pub notifiers: super::session::Notifiers,
}

/// Result of checking the whole audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry links to the one before and matches its hash.
    Intact {
        /// Number of entries checked.
        entries: i64,
    },
    /// The chain breaks here.
    Broken(ChainError),
}

impl Engine {
    /// Writes an audit event. A failure to audit is a failure of the action: callers return it.
    pub async fn audit(&self, event: AuditEvent) -> Result<AuditEntry, CoreError> {
        Ok(self.store.append_audit(&event).await?)
    }

    /// A new audit event stamped with the engine's clock and the actor.
    pub fn event(&self, actor: &Actor, kind: &str) -> AuditEvent {
        AuditEvent::new(self.clock.now(), actor.name.clone(), kind).source(actor.source.clone())
    }

    /// Walks the whole audit log, page by page, and checks the hash chain.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, CoreError> {
        const PAGE: i64 = 1000;
        let (mut prev, mut seq) = (GENESIS_HASH.to_owned(), 0);
        loop {
            let page = self.store.audit_entries(None, seq, PAGE).await?;
            if page.is_empty() {
                return Ok(AuditVerdict::Intact { entries: seq });
            }
            match verify_chain(&page, prev, seq) {
                Ok((p, s)) => (prev, seq) = (p, s),
                Err(e) => return Ok(AuditVerdict::Broken(e)),
            }
        }
    }
}
