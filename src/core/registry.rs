//! What a registry office does: register citizens, look them up, raise their proofing level,
//! block and unblock them, and reissue activation codes. Every action is audited.

use super::CoreError;
use super::activation::{PURPOSE_ACTIVATION, new_activation_code};
use super::audit::Outcome;
use super::citizen::{Citizen, CitizenId, CitizenStatus, NewCitizen};
use super::engine::{Actor, Engine};
use super::identifier::Identifier;
use super::level::ProofingLevel;
use crate::store::ActivationCodeRecord;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

/// A code shown once to the citizen (printed by the office); only its hash is stored.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCode {
    /// The code itself.
    pub code: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A new registration: the citizen and their activation code.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    /// The citizen as stored.
    pub citizen: Citizen,
    /// The activation code to hand over.
    pub activation: IssuedCode,
}

impl Engine {
    /// Registers a citizen (in person by default; `new.proofing` says otherwise) and issues
    /// an activation code.
    pub async fn register_citizen(
        &self,
        new: &NewCitizen,
        actor: &Actor,
    ) -> Result<Registration, CoreError> {
        let citizen = new
            .validate(&self.citizens.default_region, self.clock.now())
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        self.store.insert_citizen(&citizen).await?;
        self.audit(
            self.event(actor, "citizen.registered")
                .citizen(citizen.id)
                .detail(json!({ "identifier": citizen.identifier.canonical(), "proofing": citizen.proofing })),
        )
        .await?;
        let activation = self.issue_activation_code(citizen.id, actor).await?;
        Ok(Registration {
            citizen,
            activation,
        })
    }

    /// Finds a citizen by identifier (`12345678Z`, `dni:12345678Z`, `20-12345678-6`) or by
    /// internal id.
    pub async fn find_citizen(&self, reference: &str) -> Result<Citizen, CoreError> {
        let found = match reference.parse::<CitizenId>() {
            Ok(id) => self.store.citizen(id).await?,
            Err(_) => {
                let ident =
                    Identifier::parse_any(reference).map_err(|e| CoreError::Invalid(e.0))?;
                self.store.citizen_by_identifier(&ident).await?
            }
        };
        found.ok_or_else(|| CoreError::NotFound(format!("citizen {reference}")))
    }

    /// Like [`Engine::find_citizen`], refusing a deregistered account (which can only start
    /// again with a new registration at an office).
    pub async fn find_live_citizen(&self, reference: &str) -> Result<Citizen, CoreError> {
        let citizen = self.find_citizen(reference).await?;
        if citizen.status == CitizenStatus::Deregistered {
            return Err(CoreError::Refused(format!(
                "{} is deregistered: register again at an office",
                citizen.identifier
            )));
        }
        Ok(citizen)
    }

    /// Issues a fresh activation code, replacing any previous one (which stops working).
    pub async fn issue_activation_code(
        &self,
        citizen: CitizenId,
        actor: &Actor,
    ) -> Result<IssuedCode, CoreError> {
        let code = new_activation_code()?;
        let days = i64::from(self.citizens.activation_code_days);
        let expires_at = self
            .store_code(
                citizen,
                PURPOSE_ACTIVATION,
                &code,
                days,
                "activation_code.issued",
                actor,
            )
            .await?;
        Ok(IssuedCode { code, expires_at })
    }

    /// Stores the keyed hash of a fresh `code` for (citizen, purpose), replacing any previous
    /// one and its failures, valid `days` days, and audits it as `event`. Returns the expiry.
    pub(crate) async fn store_code(
        &self,
        citizen: CitizenId,
        purpose: &str,
        code: &str,
        days: i64,
        event: &str,
        actor: &Actor,
    ) -> Result<DateTime<Utc>, CoreError> {
        let now = self.clock.now();
        let expires_at = now + Duration::days(days);
        self.store
            .put_activation_code(&ActivationCodeRecord {
                citizen_id: citizen,
                purpose: purpose.into(),
                code_hash: self.codes.hash(citizen, purpose, code)?,
                issued_at: now,
                expires_at,
                failures: 0,
                blocked_at: None,
            })
            .await?;
        self.audit(
            self.event(actor, event)
                .citizen(citizen)
                .detail(json!({ "expires_at": expires_at })),
        )
        .await?;
        Ok(expires_at)
    }

    /// Reissues the activation code of a registered or active citizen.
    pub async fn reissue_activation_code(
        &self,
        reference: &str,
        actor: &Actor,
    ) -> Result<(Citizen, IssuedCode), CoreError> {
        let citizen = self.find_live_citizen(reference).await?;
        let code = self.issue_activation_code(citizen.id, actor).await?;
        Ok((citizen, code))
    }

    /// Records a new proofing level (e.g. after the citizen showed their DNI at an office).
    pub async fn set_proofing_level(
        &self,
        reference: &str,
        proofing: ProofingLevel,
        actor: &Actor,
    ) -> Result<Citizen, CoreError> {
        let citizen = self.find_citizen(reference).await?;
        self.record_proofing(citizen, proofing, actor).await
    }

    /// Stores a new proofing level for `citizen` and audits the change (from → to).
    pub(crate) async fn record_proofing(
        &self,
        mut citizen: Citizen,
        proofing: ProofingLevel,
        actor: &Actor,
    ) -> Result<Citizen, CoreError> {
        let previous = citizen.proofing;
        citizen.proofing = proofing;
        citizen.updated_at = self.clock.now();
        self.store.update_citizen(&citizen).await?;
        self.audit(
            self.event(actor, "citizen.proofing_changed")
                .citizen(citizen.id)
                .detail(json!({ "from": previous, "to": proofing })),
        )
        .await?;
        Ok(citizen)
    }

    /// Blocks a citizen: no login until unblocked.
    pub async fn block_citizen(
        &self,
        reference: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<Citizen, CoreError> {
        let mut citizen = self.find_citizen(reference).await?;
        match citizen.status {
            CitizenStatus::Blocked => {
                return Err(CoreError::Conflict(format!(
                    "{} is already blocked",
                    citizen.identifier
                )));
            }
            CitizenStatus::Deregistered => {
                return Err(CoreError::Refused(format!(
                    "{} is deregistered",
                    citizen.identifier
                )));
            }
            CitizenStatus::Registered | CitizenStatus::Active => {}
        }
        let previous = citizen.status;
        citizen.status = CitizenStatus::Blocked;
        citizen.updated_at = self.clock.now();
        self.store.update_citizen(&citizen).await?;
        self.audit(
            self.event(actor, "citizen.blocked")
                .citizen(citizen.id)
                .outcome(Outcome::Success)
                .detail(json!({ "reason": reason, "previous_status": previous })),
        )
        .await?;
        Ok(citizen)
    }

    /// Unblocks a citizen: back to `active` if the citizen has set a password (activation was
    /// finished), otherwise back to `registered`.
    pub async fn unblock_citizen(
        &self,
        reference: &str,
        actor: &Actor,
    ) -> Result<Citizen, CoreError> {
        let mut citizen = self.find_citizen(reference).await?;
        if citizen.status != CitizenStatus::Blocked {
            return Err(CoreError::Conflict(format!(
                "{} is not blocked (status: {})",
                citizen.identifier,
                citizen.status.as_str()
            )));
        }
        // Blocking does not remember the earlier status; a stored password means activation
        // was finished, so that is where the account stood.
        citizen.status = if self.store.password(citizen.id).await?.is_some() {
            CitizenStatus::Active
        } else {
            CitizenStatus::Registered
        };
        citizen.updated_at = self.clock.now();
        self.store.update_citizen(&citizen).await?;
        self.audit(
            self.event(actor, "citizen.unblocked")
                .citizen(citizen.id)
                .detail(json!({ "status": citizen.status })),
        )
        .await?;
        Ok(citizen)
    }
}
