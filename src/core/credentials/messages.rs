//! What the password policies say to citizens, in Spanish, Catalan and English.

use super::lang::Lang;
use super::policy::{
    ANSES_MAX_LEN, ANSES_MAX_RUN, ANSES_MIN_LEN, NIST_MAX_LEN, NIST_MIN_LEN, PolicyPreset,
    PolicyViolation,
};

impl PolicyViolation {
    /// The rule that was broken, worded for the citizen in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        use Lang::*;
        use PolicyViolation::*;
        match (self, lang) {
            (TooShort { min }, Es) => {
                format!("La contraseña debe tener al menos {min} caracteres.")
            }
            (TooShort { min }, Ca) => {
                format!("La contrasenya ha de tenir com a mínim {min} caràcters.")
            }
            (TooShort { min }, En) => {
                format!("The password must be at least {min} characters long.")
            }
            (TooLong { max }, Es) => {
                format!("La contraseña no puede tener más de {max} caracteres.")
            }
            (TooLong { max }, Ca) => format!("La contrasenya no pot tenir més de {max} caràcters."),
            (TooLong { max }, En) => {
                format!("The password cannot be longer than {max} characters.")
            }
            (CommonPassword, Es) => "Esta contraseña es una de las más usadas; elija otra.".into(),
            (CommonPassword, Ca) => {
                "Aquesta contrasenya és una de les més utilitzades; trieu-ne una altra.".into()
            }
            (CommonPassword, En) => {
                "This password is one of the most commonly used; choose another.".into()
            }
            (ContainsIdentifier, Es) => {
                "La contraseña no puede contener su número de documento.".into()
            }
            (ContainsIdentifier, Ca) => {
                "La contrasenya no pot contenir el vostre número de document.".into()
            }
            (ContainsIdentifier, En) => "The password cannot contain your document number.".into(),
            (ContainsName, Es) => {
                "La contraseña no puede contener su nombre ni sus apellidos.".into()
            }
            (ContainsName, Ca) => {
                "La contrasenya no pot contenir el vostre nom ni els vostres cognoms.".into()
            }
            (ContainsName, En) => {
                "The password cannot contain your given name or family names.".into()
            }
            (TooEasyToGuess, Es) => "La contraseña es demasiado fácil de adivinar; use una frase \
                                     más larga o menos previsible."
                .into(),
            (TooEasyToGuess, Ca) => "La contrasenya és massa fàcil d'endevinar; feu servir una \
                                     frase més llarga o menys previsible."
                .into(),
            (TooEasyToGuess, En) => {
                "The password is too easy to guess; use a longer or less predictable phrase.".into()
            }
            (SpecialCharacters, Es) => "La contraseña solo puede contener letras y números: no se \
                                        admiten caracteres especiales, espacios, tildes ni eñes."
                .into(),
            (SpecialCharacters, Ca) => "La contrasenya només pot contenir lletres i números: no \
                                        s'admeten caràcters especials, espais ni accents."
                .into(),
            (SpecialCharacters, En) => "The password may only contain letters and digits: special \
                                        characters, spaces and accented letters are not allowed."
                .into(),
            (NoLetter, Es) => "La contraseña debe contener al menos una letra.".into(),
            (NoLetter, Ca) => "La contrasenya ha de contenir almenys una lletra.".into(),
            (NoLetter, En) => "The password must contain at least one letter.".into(),
            (NoDigit, Es) => "La contraseña debe contener al menos un número.".into(),
            (NoDigit, Ca) => "La contrasenya ha de contenir almenys un número.".into(),
            (NoDigit, En) => "The password must contain at least one digit.".into(),
            (NoUppercase, Es) => "La contraseña debe contener al menos una letra mayúscula.".into(),
            (NoUppercase, Ca) => {
                "La contrasenya ha de contenir almenys una lletra majúscula.".into()
            }
            (NoUppercase, En) => "The password must contain at least one capital letter.".into(),
            (RepeatedCharacter, Es) => "La contraseña no puede tener el mismo carácter dos veces \
                                        seguidas (como «bb» o «11»)."
                .into(),
            (RepeatedCharacter, Ca) => "La contrasenya no pot tenir el mateix caràcter dues \
                                        vegades seguides (com «bb» o «11»)."
                .into(),
            (RepeatedCharacter, En) => "The password cannot have the same character twice in a \
                                        row (such as \"bb\" or \"11\")."
                .into(),
            (Sequence { length }, Es) => format!(
                "La contraseña no puede contener {length} o más caracteres consecutivos en orden \
                 ascendente o descendente (como «1234», «9876» o «abcd»)."
            ),
            (Sequence { length }, Ca) => format!(
                "La contrasenya no pot contenir {length} o més caràcters consecutius en ordre \
                 ascendent o descendent (com «1234», «9876» o «abcd»)."
            ),
            (Sequence { length }, En) => format!(
                "The password cannot contain {length} or more consecutive characters in \
                 ascending or descending order (such as \"1234\", \"9876\" or \"abcd\")."
            ),
        }
    }
}

/// The rules of `preset`, worded for the "choose a password" page.
pub(super) fn rules_description(preset: PolicyPreset, lang: Lang) -> Vec<String> {
    match (preset, lang) {
        (PolicyPreset::Nist, Lang::Es) => vec![
            format!(
                "Entre {NIST_MIN_LEN} y {NIST_MAX_LEN} caracteres. Una frase de varias palabras \
                 es más segura y más fácil de recordar."
            ),
            "Puede usar cualquier carácter, también espacios; no hace falta mezclar mayúsculas, \
             números ni símbolos."
                .into(),
            "No puede ser una contraseña habitual ni fácil de adivinar.".into(),
            "No puede contener su número de documento, su nombre ni sus apellidos.".into(),
        ],
        (PolicyPreset::Nist, Lang::Ca) => vec![
            format!(
                "Entre {NIST_MIN_LEN} i {NIST_MAX_LEN} caràcters. Una frase de diverses paraules \
                 és més segura i més fàcil de recordar."
            ),
            "Podeu fer servir qualsevol caràcter, també espais; no cal barrejar majúscules, \
             números ni símbols."
                .into(),
            "No pot ser una contrasenya habitual ni fàcil d'endevinar.".into(),
            "No pot contenir el vostre número de document, el vostre nom ni els cognoms.".into(),
        ],
        (PolicyPreset::Nist, Lang::En) => vec![
            format!(
                "Between {NIST_MIN_LEN} and {NIST_MAX_LEN} characters. A phrase of several words \
                 is safer and easier to remember."
            ),
            "Any character is allowed, spaces too; there is no need to mix capitals, digits or \
             symbols."
                .into(),
            "It cannot be a common or easy-to-guess password.".into(),
            "It cannot contain your document number, given name or family names.".into(),
        ],
        (PolicyPreset::Anses, Lang::Es) => vec![
            format!("Entre {ANSES_MIN_LEN} y {ANSES_MAX_LEN} caracteres."),
            "Solo letras y números, sin caracteres especiales, espacios, tildes ni eñes.".into(),
            "Al menos una letra, una letra mayúscula y un número.".into(),
            "Sin el mismo carácter dos veces seguidas (como «bb» o «11»).".into(),
            format!("Sin {ANSES_MAX_RUN} o más caracteres consecutivos (como «1234» o «abcd»)."),
        ],
        (PolicyPreset::Anses, Lang::Ca) => vec![
            format!("Entre {ANSES_MIN_LEN} i {ANSES_MAX_LEN} caràcters."),
            "Només lletres i números, sense caràcters especials, espais ni accents.".into(),
            "Almenys una lletra, una lletra majúscula i un número.".into(),
            "Sense el mateix caràcter dues vegades seguides (com «bb» o «11»).".into(),
            format!("Sense {ANSES_MAX_RUN} o més caràcters consecutius (com «1234» o «abcd»)."),
        ],
        (PolicyPreset::Anses, Lang::En) => vec![
            format!("Between {ANSES_MIN_LEN} and {ANSES_MAX_LEN} characters."),
            "Letters and digits only: no special characters, spaces or accented letters.".into(),
            "At least one letter, one capital letter and one digit.".into(),
            "No character twice in a row (such as \"bb\" or \"11\").".into(),
            format!(
                "No {ANSES_MAX_RUN} or more consecutive characters (such as \"1234\" or \"abcd\")."
            ),
        ],
    }
}
