//! Checking an activation code (Cl@ve permanente): identifier + email (cross-check) + code.
//! Wrong attempts are counted atomically in SQL; the attempt that exceeds the limit blocks the
//! code (with the default of 5, the 6th wrong one), after which every attempt, right or wrong,
//! is told the code is blocked. The code stays the citizen's recovery code after activation,
//! under the same limit, until it expires, is blocked or is reissued.

use super::CoreError;
use super::activation::PURPOSE_ACTIVATION;
use super::audit::Outcome;
use super::citizen::{Citizen, CitizenStatus};
use super::engine::{Actor, Engine};
use super::identifier::Identifier;
use serde_json::json;

/// What the check found. Only `Valid` lets the journey go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Identifier, email and code match a live code.
    Valid(Box<Citizen>),
    /// Something does not match. The same answer whether the identifier is unknown, the email
    /// differs or the code is wrong, so the form reveals nothing about who is registered.
    Mismatch,
    /// Too many wrong attempts: register again at an office or request a new code.
    Blocked,
    /// The code has expired: request a new one.
    Expired,
    /// There is no code for this account (never issued, or withdrawn): how to get one.
    NoCode,
}

impl Engine {
    /// Checks an activation (or recovery) code. Counts a wrong attempt whenever the account
    /// exists and the email or the code is wrong.
    pub async fn check_activation_code(
        &self,
        identifier: &str,
        email: &str,
        code: &str,
        actor: &Actor,
    ) -> Result<CodeCheck, CoreError> {
        let Ok(ident) = Identifier::parse_any(identifier) else {
            return Ok(CodeCheck::Mismatch);
        };
        let Some(citizen) = self.store.citizen_by_identifier(&ident).await? else {
            return Ok(CodeCheck::Mismatch);
        };
        if matches!(
            citizen.status,
            CitizenStatus::Deregistered | CitizenStatus::Blocked
        ) {
            return Ok(CodeCheck::NoCode);
        }
        let Some(record) = self
            .store
            .activation_code(citizen.id, PURPOSE_ACTIVATION)
            .await?
        else {
            return Ok(CodeCheck::NoCode);
        };
        let now = self.clock.now();
        let blocked = record.blocked_at.is_some();
        if now >= record.expires_at && !blocked {
            return Ok(CodeCheck::Expired);
        }
        let email_ok = email.trim().eq_ignore_ascii_case(&citizen.email);
        let code_ok = self.codes.verify(
            citizen.id,
            PURPOSE_ACTIVATION,
            code.trim(),
            &record.code_hash,
        )?;
        if email_ok && code_ok {
            if blocked {
                return Ok(CodeCheck::Blocked);
            }
            self.audit(
                self.event(actor, "activation_code.accepted")
                    .citizen(citizen.id),
            )
            .await?;
            return Ok(CodeCheck::Valid(Box::new(citizen)));
        }
        // Wrong attempts are counted even once the code is blocked, so that N concurrent
        // guesses always count N, whichever of them happens to block it.
        let max = self.citizens.max_code_failures;
        let count = self
            .store
            .record_code_failure(citizen.id, PURPOSE_ACTIVATION, max, now)
            .await?;
        if count.newly_blocked {
            self.audit(
                self.event(actor, "activation_code.blocked")
                    .citizen(citizen.id)
                    .outcome(Outcome::Refused)
                    .detail(json!({ "failures": count.failures })),
            )
            .await?;
        }
        Ok(if count.blocked {
            CodeCheck::Blocked
        } else {
            CodeCheck::Mismatch
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::{World, world, world_on};
    use std::sync::Arc;

    async fn issue(w: &World) -> String {
        w.engine
            .issue_activation_code(w.citizen.id, &Actor::operator("ana"))
            .await
            .unwrap()
            .code
    }

    fn wrong(code: &str) -> String {
        format!("{:08}", (code.parse::<u64>().unwrap() + 1) % 100_000_000)
    }

    /// `n` wrong codes for Lucía, all at once.
    async fn concurrent_wrong(e: &Arc<Engine>, n: usize, code: &str) -> Vec<CodeCheck> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (e, bad) = (e.clone(), wrong(code));
                tokio::spawn(async move {
                    e.check_activation_code("12345678Z", "lucia@example.es", &bad, &Actor::system())
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    async fn contract(w: World) {
        let e = Arc::new(w.engine.clone());
        let citizen = "12345678Z";
        let email = "LUCIA@example.es";
        let code = issue(&w).await;
        let actor = Actor::system();

        // Five concurrent wrong codes leave the right one working.
        for r in concurrent_wrong(&e, 5, &code).await {
            assert_eq!(r, CodeCheck::Mismatch);
        }
        assert!(matches!(
            e.check_activation_code(citizen, email, &code, &actor)
                .await
                .unwrap(),
            CodeCheck::Valid(_)
        ));
        // A wrong email fails even with the right code, and counts: wrong attempts add up
        // over the code's life (a right one does not reset them), so this 6th one blocks.
        assert_eq!(
            e.check_activation_code(citizen, "other@example.es", &code, &actor)
                .await
                .unwrap(),
            CodeCheck::Blocked
        );
        assert_eq!(
            e.check_activation_code("87654321X", email, &code, &actor)
                .await
                .unwrap(),
            CodeCheck::Mismatch
        );

        // Fifty concurrent wrong codes on a fresh code: counted exactly, blocked once.
        let before = e.store.audit_entries(None, 0, 10_000).await.unwrap().len() as i64;
        let code = issue(&w).await;
        for r in concurrent_wrong(&e, 50, &code).await {
            assert!(
                matches!(r, CodeCheck::Mismatch | CodeCheck::Blocked),
                "{r:?}"
            );
        }
        let rec = e
            .store
            .activation_code(w.citizen.id, PURPOSE_ACTIVATION)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rec.failures, 50);
        assert!(rec.blocked_at.is_some());
        assert_eq!(
            e.check_activation_code(citizen, email, &code, &actor)
                .await
                .unwrap(),
            CodeCheck::Blocked,
            "right code, blocked"
        );
        let blocks = e
            .store
            .audit_entries(Some(w.citizen.id), before, 1000)
            .await
            .unwrap();
        assert_eq!(
            blocks
                .iter()
                .filter(|a| a.event.kind == "activation_code.blocked")
                .count(),
            1
        );

        // Sequentially: the 6th wrong attempt blocks (more than 5).
        let code = issue(&w).await;
        for _ in 0..5 {
            assert_eq!(
                e.check_activation_code(citizen, email, &wrong(&code), &actor)
                    .await
                    .unwrap(),
                CodeCheck::Mismatch
            );
        }
        assert_eq!(
            e.check_activation_code(citizen, email, &wrong(&code), &actor)
                .await
                .unwrap(),
            CodeCheck::Blocked
        );

        // Expiry has its own answer.
        let code = issue(&w).await;
        w.clock.advance(chrono::Duration::days(31));
        assert_eq!(
            e.check_activation_code(citizen, email, &code, &actor)
                .await
                .unwrap(),
            CodeCheck::Expired
        );
    }

    #[tokio::test]
    async fn activation_codes_on_sqlite() {
        contract(world().await).await;
    }

    #[tokio::test]
    async fn activation_codes_on_postgresql() {
        crate::store::sql::tests::with_fresh_postgres(|store| async move {
            contract(world_on(store, None).await).await;
        })
        .await;
    }
}
