//! Texts of the security notices sent after account changes, in es, ca and en. They carry no
//! secrets and no links: a notice must not be usable for phishing.

use crate::core::credentials::Lang;

/// Which change the citizen is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notice {
    /// The password was changed from the account.
    PasswordChanged,
    /// The password was reset with the recovery code.
    PasswordReset,
    /// The mobile number was changed (sent to the old number).
    MobileChanged,
    /// The account was deregistered.
    Deregistered,
}

impl Notice {
    /// Subject and body of the email.
    pub(super) fn email(self, lang: Lang) -> (String, String) {
        let (subject, what) = match (self, lang) {
            (Self::PasswordChanged, Lang::Es) => (
                "Su contraseña ha cambiado",
                "La contraseña de su cuenta de pasarela se ha cambiado.",
            ),
            (Self::PasswordChanged, Lang::Ca) => (
                "La seua contrasenya ha canviat",
                "La contrasenya del seu compte de pasarela s'ha canviat.",
            ),
            (Self::PasswordChanged, Lang::En) => (
                "Your password was changed",
                "The password of your pasarela account was changed.",
            ),
            (Self::PasswordReset, Lang::Es) => (
                "Su contraseña se ha restablecido",
                "La contraseña de su cuenta de pasarela se ha restablecido y se han cerrado todas sus sesiones.",
            ),
            (Self::PasswordReset, Lang::Ca) => (
                "La seua contrasenya s'ha restablit",
                "La contrasenya del seu compte de pasarela s'ha restablit i s'han tancat totes les seues sessions.",
            ),
            (Self::PasswordReset, Lang::En) => (
                "Your password was reset",
                "The password of your pasarela account was reset and all your sessions were ended.",
            ),
            (Self::MobileChanged, Lang::Es) => (
                "Su móvil ha cambiado",
                "El número de móvil de su cuenta de pasarela se ha cambiado.",
            ),
            (Self::MobileChanged, Lang::Ca) => (
                "El seu mòbil ha canviat",
                "El número de mòbil del seu compte de pasarela s'ha canviat.",
            ),
            (Self::MobileChanged, Lang::En) => (
                "Your mobile number was changed",
                "The mobile number of your pasarela account was changed.",
            ),
            (Self::Deregistered, Lang::Es) => (
                "Su cuenta se ha dado de baja",
                "Su cuenta de pasarela se ha dado de baja y ya no puede usarse para identificarse.",
            ),
            (Self::Deregistered, Lang::Ca) => (
                "El seu compte s'ha donat de baixa",
                "El seu compte de pasarela s'ha donat de baixa i ja no es pot fer servir per a identificar-se.",
            ),
            (Self::Deregistered, Lang::En) => (
                "Your account was closed",
                "Your pasarela account was closed and can no longer be used to sign in.",
            ),
        };
        let warning = match lang {
            Lang::Es => "Si no ha sido usted, acuda a una oficina de registro cuanto antes.",
            Lang::Ca => {
                "Si no ha estat vosté, acudisca a una oficina de registre com més prompte millor."
            }
            Lang::En => "If this was not you, go to a registry office as soon as possible.",
        };
        (subject.to_owned(), format!("{what}\n\n{warning}\n"))
    }

    /// The same notice as one SMS.
    pub(super) fn sms(self, lang: Lang) -> String {
        let (_, body) = self.email(lang);
        format!("pasarela: {}", body.replace("\n\n", " ").trim_end())
    }
}
