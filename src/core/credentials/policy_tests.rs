use super::*;
use PolicyViolation::*;
use std::time::{Duration, Instant};

fn id() -> Identifier {
    Identifier::parse(IdentifierKind::Dni, "12345678Z").unwrap()
}

fn ctx(id: &Identifier) -> PasswordContext<'_> {
    PasswordContext {
        identifier: id,
        given_name: "María José",
        family_names: "Fernández de la Rosa",
        email: "mjfernandez@example.es",
    }
}

fn anses(pw: &str) -> Vec<PolicyViolation> {
    let id = id();
    check(PolicyPreset::Anses, pw, &ctx(&id))
        .err()
        .unwrap_or_default()
}

fn nist(pw: &str) -> Vec<PolicyViolation> {
    let id = id();
    check(PolicyPreset::Nist, pw, &ctx(&id))
        .err()
        .unwrap_or_default()
}

#[test]
fn preset_parses_and_defaults_to_nist() {
    assert_eq!(PolicyPreset::default(), PolicyPreset::Nist);
    assert_eq!("ANSES".parse(), Ok(PolicyPreset::Anses));
    #[derive(Deserialize)]
    struct C {
        p: PolicyPreset,
    }
    let c: C = toml::from_str("p = \"anses\"").unwrap();
    assert_eq!(c.p, PolicyPreset::Anses);
}

#[test]
fn anses_refuses_runs_and_repeats_and_accepts_a_valid_password() {
    assert_eq!(anses("Abcd1234"), vec![Sequence { length: 4 }]);
    assert_eq!(
        anses("Abb12345"),
        vec![RepeatedCharacter, Sequence { length: 4 }]
    );
    assert_eq!(anses("Abb1357x"), vec![RepeatedCharacter]);
    assert_eq!(anses("Clave7Segura2"), vec![]);
    assert_eq!(anses("Xk4mP9qr"), vec![]);
}

#[test]
fn anses_rules_one_by_one() {
    assert!(anses("Ab1").contains(&TooShort { min: 8 }));
    assert_eq!(anses("Clave7Segura2xyzW"), vec![TooLong { max: 15 }]);
    let special = anses("Abc1234!");
    assert!(special.contains(&SpecialCharacters));
    assert!(special.contains(&Sequence { length: 4 }));
    assert_eq!(anses("Clave7Señura2"), vec![SpecialCharacters]);
    assert_eq!(anses("Clave 7Segura"), vec![SpecialCharacters]);
    assert_eq!(anses("clave7segura"), vec![NoUppercase]);
    assert_eq!(anses("ClaveSegura"), vec![NoDigit]);
    assert_eq!(anses("73920517"), vec![NoLetter, NoUppercase]);
    assert_eq!(anses("Zx9876ab"), vec![Sequence { length: 4 }]);
    assert_eq!(anses("Zx9DCBA7"), vec![Sequence { length: 4 }]);
    // Case-insensitive for letters; case-sensitive for repeats.
    assert_eq!(anses("x7aBcD9q"), vec![Sequence { length: 4 }]);
    assert_eq!(anses("Aa7Bb2Cc"), vec![]);
    // Three in a row is allowed; mixing digits and letters never makes a run.
    assert_eq!(anses("Abc7Xyz9"), vec![]);
    assert_eq!(anses("P9a8b7cQ"), vec![]);
}

#[test]
fn longest_run_follows_direction() {
    let run = |s: &str| longest_run(&s.chars().collect::<Vec<_>>());
    assert_eq!(run(""), 0);
    assert_eq!(run("a"), 1);
    assert_eq!(run("1212"), 2);
    assert_eq!(run("12345"), 5);
    assert_eq!(run("9a876"), 3);
    assert_eq!(run("z9:;<"), 1);
}

#[test]
fn nist_refuses_common_and_personal_passwords() {
    assert!(nist("password").contains(&CommonPassword));
    assert!(nist("12345678").contains(&CommonPassword));
    assert!(nist("Contraseña").contains(&CommonPassword));
    assert!(nist("12345678Z").contains(&ContainsIdentifier));
    assert!(nist("mi dni es 12345678").contains(&ContainsIdentifier));
    assert!(nist("rosaleda del fernandez").contains(&ContainsName));
    assert!(nist("Lavanda FERNÁNDEZ 1979").contains(&ContainsName));
    assert!(nist("mariajose77").contains(&ContainsName));
    assert!(nist("aaaaaaaaaaaa").contains(&TooEasyToGuess));
    // "de" and "la" are short: only refused as the whole password, not inside words.
    assert!(!nist("delante de la ventana verde").contains(&ContainsName));
}

#[test]
fn nist_checks_the_dni_inside_a_cuil() {
    let cuil = Identifier::parse(IdentifierKind::Cuil, "20-12345678-6").unwrap();
    let c = ctx(&cuil);
    let err = check(PolicyPreset::Nist, "nube 12345678 azul", &c).unwrap_err();
    assert!(err.contains(&ContainsIdentifier));
}

#[test]
fn nist_length_and_no_composition() {
    assert_eq!(nist("caballo bateria grapa correcta"), vec![]);
    assert!(nist("Ab1!xyz").contains(&TooShort { min: 8 }));
    let sixty_four = "el gato negro salta sobre la valla del vecino cada noche de luna";
    assert_eq!(sixty_four.chars().count(), 64);
    assert_eq!(nist(sixty_four), vec![]);
    let long: String = sixty_four.repeat(3);
    assert!(nist(&long).contains(&TooLong { max: 128 }));
    // Unicode scalar values are counted, not bytes.
    assert_eq!(nist("ñandú pingüino cigüeña"), vec![]);
    assert!(nist("ñandú").contains(&TooShort { min: 8 }));
}

#[test]
fn nist_is_fast() {
    let id = id();
    let c = ctx(&id);
    let _ = check(PolicyPreset::Nist, "warm up", &c);
    let start = Instant::now();
    for pw in [
        "caballo bateria grapa correcta",
        "password",
        "el gato negro salta sobre la valla del vecino cada noche de luna",
        "X7#kq pelícano 2",
    ] {
        let _ = check(PolicyPreset::Nist, pw, &c);
    }
    eprintln!("4 nist checks: {:?}", start.elapsed());
    // Generous bound for a debug build on a busy machine; release is far below 2 ms each.
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn every_message_exists_and_differs_by_language() {
    let all = [
        TooShort { min: 8 },
        TooLong { max: 15 },
        CommonPassword,
        ContainsIdentifier,
        ContainsName,
        TooEasyToGuess,
        SpecialCharacters,
        NoLetter,
        NoDigit,
        NoUppercase,
        RepeatedCharacter,
        Sequence { length: 4 },
    ];
    for v in all {
        let [es, ca, en] = Lang::ALL.map(|l| v.message(l));
        assert!(!es.is_empty() && !ca.is_empty() && !en.is_empty());
        assert!(es != ca && ca != en && es != en, "{v:?}");
    }
    assert!(
        SpecialCharacters
            .message(Lang::Es)
            .contains("caracteres especiales")
    );
    assert!(TooShort { min: 8 }.message(Lang::En).contains('8'));
    for preset in [PolicyPreset::Nist, PolicyPreset::Anses] {
        let [es, ca, en] = Lang::ALL.map(|l| rules_description(preset, l));
        assert!(!es.is_empty() && es.len() == ca.len() && ca.len() == en.len());
        assert!(es != ca && ca != en);
    }
}
