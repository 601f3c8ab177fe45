//! `pasarela admin citizen …`: the registry office's commands.

use super::output::emit;
use crate::core::activation::PURPOSE_ACTIVATION;
use crate::core::citizen::{Citizen, NewCitizen, PostalAddress, VerificationFact};
use crate::core::engine::{Actor, Engine};
use crate::core::level::ProofingLevel;
use clap::{Args, Subcommand};
use serde_json::json;

/// Citizen commands.
#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Register a citizen in person and print their activation code (shown only once).
    Register(Box<RegisterArgs>),
    /// Show a citizen and the state of their activation code.
    Show(Target),
    /// Record a new proofing level (how identity was verified).
    SetLevel {
        #[command(flatten)]
        target: Target,
        /// online, letter, certificate or in_person.
        #[arg(long)]
        proofing: ProofingLevel,
    },
    /// Block a citizen: no login until unblocked.
    Block {
        #[command(flatten)]
        target: Target,
        /// Why (recorded in the audit trail).
        #[arg(long, default_value = "operator decision")]
        reason: String,
    },
    /// Unblock a citizen.
    Unblock(Target),
    /// Issue a new activation code (the previous one stops working).
    ReissueCode(Target),
}

/// Which citizen, and how to print.
#[derive(Debug, Args)]
pub struct Target {
    /// Identifier (`12345678Z`, `dni:12345678Z`, `20-12345678-6`) or internal id.
    pub citizen: String,
    /// Operator name recorded in the audit trail.
    #[arg(long, env = "PASARELA_OPERATOR", default_value = "cli")]
    pub operator: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `register` arguments.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Document number: DNI, NIE, CUIL or (with --id-type passport) passport.
    pub id_number: String,
    /// dni, nie, cuil or passport (guessed from the number when omitted).
    #[arg(long)]
    pub id_type: Option<String>,
    /// Given name(s).
    #[arg(long)]
    pub given_name: String,
    /// Family name(s).
    #[arg(long)]
    pub family_names: String,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long)]
    pub birth_date: String,
    /// Email address (cross-checked at activation).
    #[arg(long)]
    pub email: String,
    /// Mobile number (E.164, or national form for citizens.default_region).
    #[arg(long)]
    pub mobile: String,
    /// Street address.
    #[arg(long, default_value = "")]
    pub street: String,
    /// City or town.
    #[arg(long, default_value = "")]
    pub locality: String,
    /// Province or region.
    #[arg(long, default_value = "")]
    pub region: String,
    /// Postal code.
    #[arg(long, default_value = "")]
    pub postal_code: String,
    /// Country (ISO 3166 alpha-2).
    #[arg(long, default_value = "")]
    pub country: String,
    /// DNI trámite number (11 digits, ANSES).
    #[arg(long)]
    pub tramite: Option<String>,
    /// A verification fact for online identity questions, as kind=value (repeatable), e.g.
    /// --fact "employer=SANTA JULIA S A".
    #[arg(long = "fact")]
    pub facts: Vec<String>,
    /// How identity was verified.
    #[arg(long, default_value = "in_person")]
    pub proofing: ProofingLevel,
    /// Operator name recorded in the audit trail.
    #[arg(long, env = "PASARELA_OPERATOR", default_value = "cli")]
    pub operator: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl RegisterArgs {
    fn to_new_citizen(&self) -> anyhow::Result<NewCitizen> {
        let id_type = match &self.id_type {
            Some(t) => t.clone(),
            None => crate::core::identifier::Identifier::parse_any(&self.id_number)
                .map(|i| i.kind().as_str().to_owned())
                .map_err(|e| anyhow::anyhow!("identifier: {e}"))?,
        };
        let verification_facts = self
            .facts
            .iter()
            .map(|f| match f.split_once('=') {
                Some((kind, value)) => Ok(VerificationFact {
                    kind: kind.trim().into(),
                    value: value.trim().into(),
                }),
                None => Err(anyhow::anyhow!(
                    "--fact '{f}' must be of the form kind=value"
                )),
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(NewCitizen {
            id_type,
            id_number: self.id_number.clone(),
            given_name: self.given_name.clone(),
            family_names: self.family_names.clone(),
            birth_date: self.birth_date.clone(),
            email: self.email.clone(),
            mobile: self.mobile.clone(),
            address: PostalAddress {
                street: self.street.clone(),
                locality: self.locality.clone(),
                region: self.region.clone(),
                postal_code: self.postal_code.clone(),
                country: self.country.clone(),
            },
            tramite: self.tramite.clone(),
            verification_facts,
            proofing: Some(self.proofing),
        })
    }
}

fn summary(c: &Citizen) -> String {
    format!(
        "{} — {} {}\n  id:        {}\n  status:    {}\n  proofing:  {}\n  email:     {}\n  mobile:    {}",
        c.identifier,
        c.given_name,
        c.family_names,
        c.id,
        c.status.as_str(),
        c.proofing,
        c.email,
        c.mobile
    )
}

/// Runs a citizen command.
pub async fn run(cmd: CitizenCommand, engine: &Engine) -> anyhow::Result<()> {
    match cmd {
        CitizenCommand::Register(args) => {
            let new = args.to_new_citizen()?;
            let reg = engine
                .register_citizen(&new, &Actor::operator(&args.operator))
                .await?;
            emit(
                args.json,
                &json!({ "citizen": reg.citizen, "activation_code": reg.activation.code, "expires_at": reg.activation.expires_at }),
                || {
                    format!(
                        "registered {}\n\nACTIVATION CODE: {}\nvalid until {} — hand it to the citizen now; it is not shown again.",
                        summary(&reg.citizen),
                        reg.activation.code,
                        reg.activation.expires_at.format("%Y-%m-%d %H:%M UTC")
                    )
                },
            )
        }
        CitizenCommand::Show(t) => {
            let c = engine.find_citizen(&t.citizen).await?;
            let code = engine
                .store
                .activation_code(c.id, PURPOSE_ACTIVATION)
                .await?;
            let code_json = code.as_ref().map(|r| {
                json!({ "issued_at": r.issued_at, "expires_at": r.expires_at, "failures": r.failures, "blocked_at": r.blocked_at })
            });
            let cap = engine.policy.proofing_cap(c.proofing);
            emit(
                t.json,
                &json!({ "citizen": c, "highest_level": cap, "activation_code": code_json }),
                || {
                    let code_text = match &code {
                        None => "none".to_owned(),
                        Some(r) if r.blocked_at.is_some() => {
                            format!("blocked after {} wrong attempts", r.failures)
                        }
                        Some(r) => format!(
                            "valid until {} ({} wrong attempts)",
                            r.expires_at.format("%Y-%m-%d"),
                            r.failures
                        ),
                    };
                    format!(
                        "{}\n  highest level: {}\n  activation code: {code_text}",
                        summary(&c),
                        cap.map(|l| l.as_str()).unwrap_or("none")
                    )
                },
            )
        }
        CitizenCommand::SetLevel { target, proofing } => {
            let c = engine
                .set_proofing_level(
                    &target.citizen,
                    proofing,
                    &Actor::operator(&target.operator),
                )
                .await?;
            let cap = engine.policy.proofing_cap(c.proofing);
            emit(
                target.json,
                &json!({ "citizen": c, "highest_level": cap }),
                || {
                    format!(
                        "{} proofing is now {} (highest level: {})",
                        c.identifier,
                        c.proofing,
                        cap.map(|l| l.as_str()).unwrap_or("none")
                    )
                },
            )
        }
        CitizenCommand::Block { target, reason } => {
            let c = engine
                .block_citizen(&target.citizen, &reason, &Actor::operator(&target.operator))
                .await?;
            emit(target.json, &json!({ "citizen": c }), || {
                format!("{} is blocked", c.identifier)
            })
        }
        CitizenCommand::Unblock(t) => {
            let c = engine
                .unblock_citizen(&t.citizen, &Actor::operator(&t.operator))
                .await?;
            emit(t.json, &json!({ "citizen": c }), || {
                format!(
                    "{} is unblocked (status: {})",
                    c.identifier,
                    c.status.as_str()
                )
            })
        }
        CitizenCommand::ReissueCode(t) => {
            let (c, code) = engine
                .reissue_activation_code(&t.citizen, &Actor::operator(&t.operator))
                .await?;
            emit(
                t.json,
                &json!({ "citizen_id": c.id, "activation_code": code.code, "expires_at": code.expires_at }),
                || {
                    format!(
                        "new activation code for {}: {}\nvalid until {}; the previous code no longer works.",
                        c.identifier,
                        code.code,
                        code.expires_at.format("%Y-%m-%d %H:%M UTC")
                    )
                },
            )
        }
    }
}
