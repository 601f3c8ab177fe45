//! The loader's tests: defaults, unknown keys, messages naming the key, environment
//! overrides, and every shipped configuration file.

use super::*;
use crate::core::level::{LevelPolicy, LevelVocabulary};

const MINIMAL: &str = "public_url = \"https://idp.example.es\"\n[keys]\nkek_file = \"k\"\n";

#[test]
fn defaults_fill_a_minimal_file() {
    let c = Config::from_toml(MINIMAL).unwrap();
    assert_eq!(c.issuer(), "https://idp.example.es");
    assert_eq!(c.server.bind.port(), 8080);
    assert_eq!(c.citizens.max_code_failures, 5);
    assert_eq!(c.levels.policy(), LevelPolicy::default());
    assert_eq!(c.levels.vocabulary(), LevelVocabulary::default());
}

#[test]
fn the_handlers_settings_carry_the_file_s_sections() {
    let c = Config::from_toml(&format!("{MINIMAL}[sessions]\nidle_minutes = 5\n")).unwrap();
    let s = c.settings();
    assert_eq!(s.issuer(), c.issuer());
    assert_eq!(s.sessions, c.sessions);
    assert_eq!(s.sessions.idle_minutes, 5);
    assert_eq!(s.credentials, c.credentials);
    assert_eq!(s.server.bind, c.server.bind);
}

#[test]
fn unknown_keys_are_named() {
    let e = Config::from_toml(&format!("{MINIMAL}[server]\nbindd = \"x\"\n")).unwrap_err();
    assert!(e.to_string().contains("server"), "{e}");
    assert!(e.to_string().contains("bindd"), "{e}");
}

#[test]
fn invalid_values_are_named() {
    let e = Config::from_toml(&format!("{MINIMAL}[server]\nbind = \"nowhere\"\n")).unwrap_err();
    assert!(e.to_string().contains("server.bind"), "{e}");
    let e = Config::from_toml("public_url = \"http://idp.example.es\"\n[keys]\nkek_file=\"k\"\n")
        .unwrap_err();
    assert!(e.to_string().contains("public_url: must be https"), "{e}");
    let e = Config::from_toml(&format!("{MINIMAL}rsa_bits = 1024\n")).unwrap_err();
    assert!(e.to_string().contains("keys.rsa_bits"), "{e}");
    let e = Config::from_toml(&format!("{MINIMAL}[ephemeral]\nbackend = \"redis\"\n")).unwrap_err();
    assert!(e.to_string().contains("ephemeral.redis_url"), "{e}");
    let acr = "[levels.acr.low]\nvalue = \"a\"\n[levels.acr.substantial]\nvalue = \"a\"\n\
               [levels.acr.high]\nvalue = \"c\"\n";
    let e = Config::from_toml(&format!("{MINIMAL}{acr}")).unwrap_err();
    assert!(e.to_string().contains("already used"), "{e}");
    let e = Config::from_toml(&format!(
        "{MINIMAL}[citizens]\nsecurity_policy_version = \" \"\n"
    ))
    .unwrap_err();
    assert!(
        e.to_string().contains("citizens.security_policy_version"),
        "{e}"
    );
}

/// Every check of every section, with its whole message: the messages name the TOML key and
/// stay the same wherever the check lives.
#[test]
fn each_section_check_gives_its_message_naming_the_key() {
    let kek = "[keys]\nkek_file = \"k\"\n";
    let https = "public_url = \"https://idp.example.es\"\n";
    let cases: [(String, &str); 24] = [
        (
            format!("public_url = \"mailto:a@b\"\n{kek}"),
            "public_url: 'mailto:a@b' must be an absolute http(s) URL",
        ),
        (
            format!("public_url = \"https://idp.example.es/?a=1\"\n{kek}"),
            "public_url: must not have a query or fragment (it is the issuer)",
        ),
        (
            format!("public_url = \"http://idp.example.es\"\n{kek}"),
            "public_url: must be https outside development (set dev.enabled for a local http \
             issuer)",
        ),
        (
            format!(
                "{MINIMAL}[server.tls]\ncert_file = \"/nonexistent/c.pem\"\n\
                 key_file = \"/nonexistent/k.pem\"\n"
            ),
            "server.tls.cert_file: /nonexistent/c.pem does not exist",
        ),
        (
            format!("{MINIMAL}[server]\nrequest_timeout_secs = 0\n"),
            "server.request_timeout_secs: must be at least 1",
        ),
        (
            format!("{MINIMAL}[database]\nurl = \"mysql://db/x\"\n"),
            "database.url: must start with sqlite:// or postgres://",
        ),
        (
            format!("{MINIMAL}[database]\nmax_connections = 0\n"),
            "database.max_connections: must be at least 1",
        ),
        (
            format!("{MINIMAL}[ephemeral]\nbackend = \"redis\"\n"),
            "ephemeral.redis_url: is required when ephemeral.backend = \"redis\"",
        ),
        (
            format!("{MINIMAL}rsa_bits = 1024\n"),
            "keys.rsa_bits: 1024 is not supported: use 2048 or 3072",
        ),
        (
            https.to_owned(),
            "keys.kek: a key-encryption key is required (it encrypts stored signing keys and \
             keys the hashes of activation codes): set keys.kek_file or PASARELA_KEYS__KEK",
        ),
        (
            format!("{MINIMAL}source = \"files\"\n"),
            "keys.files: source = \"files\" needs at least one [[keys.files]]",
        ),
        (
            format!("{MINIMAL}refresh_secs = 0\n"),
            "keys.refresh_secs: must be at least 1",
        ),
        (
            format!("{MINIMAL}[citizens]\ndefault_region = \"nowhere\"\n"),
            "citizens.default_region: 'nowhere' is not an ISO 3166 region code",
        ),
        (
            format!("{MINIMAL}[citizens]\nactivation_code_days = 0\n"),
            "citizens.activation_code_days: must be at least 1",
        ),
        (
            format!("{MINIMAL}[citizens]\nsecurity_policy_version = \" \"\n"),
            "citizens.security_policy_version: must not be empty: every acceptance is recorded \
             with it",
        ),
        (
            format!("{MINIMAL}[log]\nlevel = \"pasarela=loud\"\n"),
            "log.level: 'pasarela=loud' is not a valid log filter",
        ),
        (
            format!("{MINIMAL}[sessions]\nidle_minutes = 0\n"),
            "sessions: absolute_hours and idle_minutes must be at least 1",
        ),
        (
            format!("{MINIMAL}[login]\nlock_after = 0\n"),
            "login: lock_after and per_address_per_minute must be at least 1",
        ),
        (
            format!("{MINIMAL}[otp]\nmax_sends = 0\n"),
            "otp: ttl_minutes, max_attempts and max_sends must be at least 1",
        ),
        (
            format!("{MINIMAL}[credentials]\nmax_concurrent_hashes = 0\n"),
            "credentials.max_concurrent_hashes: must be at least 1",
        ),
        (
            format!("{MINIMAL}[credentials.argon2]\niterations = 0\n"),
            "credentials.argon2: memory_kib must be at least 8 × parallelism, iterations and \
             parallelism at least 1",
        ),
        (
            format!("{MINIMAL}[levels]\nmethods = []\n"),
            "levels.methods: the method table is empty",
        ),
        (
            format!(
                "{MINIMAL}[levels.acr.low]\nvalue = \"a\"\n[levels.acr.substantial]\n\
                 value = \"a\"\n[levels.acr.high]\nvalue = \"c\"\n"
            ),
            "levels.acr.substantial: 'a' is already used by level 'low'",
        ),
        (
            format!("{MINIMAL}[levels.acr.low]\nvalue = \" \"\n"),
            "levels.acr.low: an acr value is empty",
        ),
    ];
    for (text, message) in cases {
        let e = Config::from_toml(&text).unwrap_err().to_string();
        assert_eq!(e, format!("configuration error: {message}"), "{text}");
    }
}

#[test]
#[allow(clippy::result_large_err)] // figment's Jail API fixes the error type
fn environment_overrides_nested_keys() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("p.toml", MINIMAL)?;
        jail.set_env("PASARELA_DATABASE__URL", "postgres://db/x");
        jail.set_env("PASARELA_SERVER__BIND", "0.0.0.0:9000");
        jail.set_env("PASARELA_CONFIG", "p.toml");
        let c = Config::load(Path::new("p.toml")).map_err(|e| e.to_string())?;
        assert_eq!(c.database.url, "postgres://db/x");
        assert_eq!(c.server.bind.port(), 9000);
        jail.set_env("PASARELA_SERVER__BIND", "nope");
        let e = Config::load(Path::new("p.toml")).unwrap_err().to_string();
        assert!(
            e.contains("server.bind") && e.contains("PASARELA_SERVER__BIND"),
            "{e}"
        );
        Ok(())
    });
}

mod shipped_files {
    use super::*;
    use crate::core::level::{AuthMethod, LevelOfAssurance, ProofingLevel};

    #[test]
    fn the_reference_and_dev_files_are_valid_and_the_reference_matches_the_defaults() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(root.join("pasarela.example.toml")).unwrap();
        let example = Config::from_toml(&text).unwrap();
        let minimal = Config::from_toml(
            "public_url = \"https://idp.example.gob.es\"\n[keys]\nkek_file = \"/etc/pasarela/kek.b64\"\n",
        )
        .unwrap();
        // The reference documents the defaults: reading it must give what no file gives.
        assert_eq!(
            serde_json::to_value(&example).unwrap(),
            serde_json::to_value(&minimal).unwrap()
        );
        let dev = std::fs::read_to_string(root.join("dev.toml")).unwrap();
        let dev = Config::from_toml(&dev).unwrap();
        assert!(dev.dev.enabled && !dev.dev_warnings().is_empty());
    }

    fn shipped(name: &str) -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        // A real deployment adds its key-encryption key; nothing else is missing.
        Config::from_toml(&format!(
            "{text}\n[keys]\nkek_file = \"/etc/pasarela/kek.b64\"\n"
        ))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn level(
        c: &Config,
        proofing: ProofingLevel,
        methods: &[AuthMethod],
    ) -> Option<LevelOfAssurance> {
        c.levels
            .policy()
            .achieved(proofing, &methods.iter().copied().collect())
    }

    #[test]
    fn the_anses_example_gives_nivel_2_online_and_nivel_3_in_person_with_the_password() {
        use AuthMethod::*;
        use LevelOfAssurance::*;
        let c = shipped("anses.example.toml");
        assert_eq!(
            c.credentials.password_policy,
            crate::core::credentials::PolicyPreset::Anses
        );
        assert_eq!(
            c.login.second_factor,
            crate::core::login::SecondFactor::WhenNeeded
        );
        assert_eq!(level(&c, ProofingLevel::Online, &[Pwd]), Some(Substantial));
        assert_eq!(
            level(&c, ProofingLevel::Online, &[Pwd, Sms]),
            Some(Substantial)
        );
        assert_eq!(level(&c, ProofingLevel::InPerson, &[Pwd]), Some(High));
        let vocabulary = c.levels.vocabulary();
        assert_eq!(vocabulary.level_for_acr("nivel2"), Some(Substantial));
        assert_eq!(vocabulary.level_for_acr("nivel3"), Some(High));
        assert_eq!(c.citizens.default_region, "AR");
        // The guide's three nivel-3 services, on the e-office's client.
        let office = &c.oidc.clients[0];
        assert_eq!(office.min_level, Substantial);
        let high: Vec<&str> = office
            .services
            .iter()
            .filter(|s| s.min_level == High)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            high,
            [
                "servicios-corporativos",
                "cambio-lugar-cobro",
                "reparacion-historica"
            ]
        );
    }

    #[test]
    fn the_clave_example_needs_the_sms_code_for_substantial_and_a_certificate_for_high() {
        use AuthMethod::*;
        use LevelOfAssurance::*;
        let c = shipped("clave.example.toml");
        assert_eq!(
            c.login.second_factor,
            crate::core::login::SecondFactor::Always
        );
        assert_eq!(level(&c, ProofingLevel::InPerson, &[Pwd]), Some(Low));
        assert_eq!(
            level(&c, ProofingLevel::InPerson, &[Pwd, Sms]),
            Some(Substantial)
        );
        assert_eq!(
            level(&c, ProofingLevel::Letter, &[Pwd, Otp]),
            Some(Substantial)
        );
        assert_eq!(level(&c, ProofingLevel::Letter, &[Hwk]), Some(Substantial));
        assert_eq!(level(&c, ProofingLevel::InPerson, &[Hwk]), Some(High));
    }
}
