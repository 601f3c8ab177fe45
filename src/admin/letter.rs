//! `pasarela admin letter …`: invitation letters with a CSV code, mailed to the citizen's
//! registered postal address so that they can get an activation code online.

use super::output::emit;
use crate::core::citizen::Citizen;
use crate::core::engine::{Actor, Engine};
use crate::core::registry::IssuedCode;
use clap::Subcommand;
use serde_json::json;

/// Letter commands.
#[derive(Debug, Subcommand)]
pub enum LetterCommand {
    /// Issue an invitation letter (any previous letter stops working) and print it.
    Issue(super::citizen::Target),
}

/// The letter as printed: name, postal address, CSV and instructions, in Spanish.
pub fn letter_text(c: &Citizen, letter: &IssuedCode) -> String {
    let a = &c.address;
    let city = [a.postal_code.as_str(), a.locality.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let address = [a.street.as_str(), city.as_str(), a.region.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "{} {}\n{address}\n\n\
         Estimado/a {}:\n\n\
         Para obtener su código de activación en pasarela, entre en la página de registro,\n\
         escriba su número de identificación ({}) y el siguiente código seguro de verificación (CSV):\n\n\
         \x20   CSV: {}\n\n\
         Recibirá el código de activación por SMS en el móvil que consta en su registro.\n\
         Este CSV sirve una sola vez y caduca el {}. No lo comparta con nadie.",
        c.given_name,
        c.family_names,
        c.given_name,
        c.identifier,
        letter.code,
        letter.expires_at.format("%d/%m/%Y"),
    )
}

/// Runs a letter command.
pub async fn run(cmd: LetterCommand, engine: &Engine) -> anyhow::Result<()> {
    match cmd {
        LetterCommand::Issue(t) => {
            let (c, letter) = engine
                .issue_letter(&t.citizen, &Actor::operator(&t.operator))
                .await?;
            emit(
                t.json,
                &json!({ "citizen_id": c.id, "name": format!("{} {}", c.given_name, c.family_names), "address": c.address, "csv": letter.code, "expires_at": letter.expires_at }),
                || letter_text(&c, &letter),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::world;

    #[tokio::test]
    async fn letter_names_the_citizen_and_carries_the_csv() {
        let w = world().await;
        let (c, letter) = w
            .engine
            .issue_letter("12345678Z", &Actor::operator("ana"))
            .await
            .unwrap();
        let text = letter_text(&c, &letter);
        assert!(text.contains("Lucía García Pérez"));
        assert!(text.contains(&letter.code));
        assert!(text.contains("12345678Z"));
    }
}
