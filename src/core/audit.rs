//! The audit trail: an append-only, hash-chained log of every security-relevant event. Each
//! entry carries the hash of the one before, so editing or deleting a row breaks the chain and
//! [`verify_chain`] finds where.

use super::citizen::CitizenId;
use chrono::{DateTime, Utc};
use openssl::sha::Sha256;
use serde::{Deserialize, Serialize};

/// The hash that stands before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The outcome recorded with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It happened.
    Success,
    /// It was attempted and failed (wrong code, wrong password).
    Failure,
    /// It was refused by policy (blocked, level too low).
    Refused,
}

impl Outcome {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Refused => "refused",
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Self::Success),
            "failure" => Ok(Self::Failure),
            "refused" => Ok(Self::Refused),
            other => Err(format!("unknown outcome '{other}'")),
        }
    }
}

/// An event to record. Never put secrets (codes, passwords, tokens) in `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it: `operator:<name>`, `citizen`, `system`, `client:<id>`.
    pub actor: String,
    /// What happened, dotted: `citizen.registered`, `activation_code.blocked`, …
    pub kind: String,
    /// The citizen concerned, if any.
    pub citizen: Option<CitizenId>,
    /// Source address of the request, if any.
    pub source: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Non-secret details.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// A successful event with no citizen, source or detail yet.
    pub fn new(at: DateTime<Utc>, actor: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            at,
            actor: actor.into(),
            kind: kind.into(),
            citizen: None,
            source: None,
            outcome: Outcome::Success,
            detail: serde_json::Value::Null,
        }
    }

    /// Sets the citizen.
    pub fn citizen(mut self, id: CitizenId) -> Self {
        self.citizen = Some(id);
        self
    }

    /// Sets the source address.
    pub fn source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Sets the details.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// An event as written, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Hash of the previous entry ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// Hash of this entry: [`chain_hash`] over `prev_hash`, `seq` and the event.
    pub hash: String,
}

/// SHA-256 (hex) over the previous hash, the position and every field of the event, each
/// length-prefixed so that no two different entries hash alike.
pub fn chain_hash(prev_hash: &str, seq: i64, e: &AuditEvent) -> String {
    let mut h = Sha256::new();
    let citizen = e.citizen.map(|c| c.to_string()).unwrap_or_default();
    let detail = e.detail.to_string();
    let at = e.at.timestamp_micros().to_string();
    let seq = seq.to_string();
    for part in [
        prev_hash,
        seq.as_str(),
        at.as_str(),
        e.actor.as_str(),
        e.kind.as_str(),
        citizen.as_str(),
        e.source.as_deref().unwrap_or(""),
        e.outcome.as_str(),
        detail.as_str(),
    ] {
        h.update(&(part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finish())
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The entry's own hash does not match its contents: it was edited.
    #[error("audit entry {0} was altered: its hash does not match its contents")]
    Altered(i64),
    /// The entry does not follow the one before: an entry was removed or inserted.
    #[error("audit chain broken before entry {0}: an entry was removed, inserted or reordered")]
    Broken(i64),
}

/// Checks a run of consecutive entries. `prev` is the hash before the first of them (the
/// genesis hash for a whole log) and `prev_seq` its position (0 for a whole log). Returns the
/// last hash and position, to continue with the next page.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    mut prev: String,
    mut prev_seq: i64,
) -> Result<(String, i64), ChainError> {
    for e in entries {
        if e.seq != prev_seq + 1 || e.prev_hash != prev {
            return Err(ChainError::Broken(e.seq));
        }
        if chain_hash(&e.prev_hash, e.seq, &e.event) != e.hash {
            return Err(ChainError::Altered(e.seq));
        }
        prev = e.hash.clone();
        prev_seq = e.seq;
    }
    Ok((prev, prev_seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(prev: &AuditEntry, kind: &str) -> AuditEntry {
        let event = AuditEvent::new(prev.event.at, "system", kind);
        let hash = chain_hash(&prev.hash, prev.seq + 1, &event);
        AuditEntry {
            seq: prev.seq + 1,
            event,
            prev_hash: prev.hash.clone(),
            hash,
        }
    }

    #[test]
    fn chain_detects_edits_and_removals() {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        let event = AuditEvent::new(at, "operator:ana", "citizen.registered");
        let first = AuditEntry {
            seq: 1,
            hash: chain_hash(GENESIS_HASH, 1, &event),
            event,
            prev_hash: GENESIS_HASH.into(),
        };
        let second = entry(&first, "code.issued");
        let third = entry(&second, "level.changed");
        let log = vec![first, second, third];
        assert!(verify_chain(&log, GENESIS_HASH.into(), 0).is_ok());

        let mut edited = log.clone();
        edited[1].event.actor = "operator:mallory".into();
        assert_eq!(
            verify_chain(&edited, GENESIS_HASH.into(), 0),
            Err(ChainError::Altered(2))
        );

        let removed = [log[0].clone(), log[2].clone()];
        assert_eq!(
            verify_chain(&removed, GENESIS_HASH.into(), 0),
            Err(ChainError::Broken(3))
        );
    }
}
