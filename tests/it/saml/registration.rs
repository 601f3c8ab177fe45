//! Service providers registered with the `admin sp` commands and from the configuration.

use super::*;

#[tokio::test]
async fn saml_sp_commands_register_list_show_and_remove() {
    let d = Deployment::new("");
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
    let md = d.dir.path().join("sp.xml");
    std::fs::write(&md, sp_metadata(SP, &cert)).unwrap();
    let added = d.cli_json(&[
        "admin",
        "sp",
        "add",
        "--metadata",
        md.to_str().unwrap(),
        "--min-level",
        "high",
        "--encrypt",
        "--sp-type",
        "private",
    ]);
    assert_eq!(added["entity_id"], SP);
    assert_eq!(added["min_level"], "high");
    assert_eq!(added["sp_type"], "private");
    assert_eq!(added["encrypt_assertions"], true);
    assert_eq!(added["acs"].as_array().unwrap().len(), 2);
    let list = d.cli_json(&["admin", "sp", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let shown = d.cli_json(&["admin", "sp", "show", SP]);
    assert_eq!(shown["acs"][1]["location"], "https://sp.example.es/acs2");
    d.cli_json(&["admin", "sp", "remove", SP]);
    assert!(!d.cli(&["admin", "sp", "show", SP]).status.success());
    assert_eq!(
        d.cli_json(&["admin", "sp", "list"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn saml_service_providers_from_the_configuration_are_registered_at_start() {
    let d = journey_deployment("");
    let ring = KeyRing::in_memory(chrono::Utc::now()).unwrap();
    let key = ring.active(JwsAlg::RS256).unwrap();
    let cert = base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
    let md = d.dir.path().join("configured-sp.xml");
    std::fs::write(&md, sp_metadata("https://conf.example.es", &cert)).unwrap();
    let mut text = std::fs::read_to_string(&d.config_path).unwrap();
    text.push_str(&format!(
        "\n[saml]\n[[saml.service_providers]]\nmetadata_file = \"{}\"\nmin_level = \"low\"\n\
         attributes = [\"PersonIdentifier\"]\n\
         name_id_format = \"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"\n\
         encrypt = true\nsp_type = \"private\"\nsigning_alg = \"ecdsa-sha256\"\n\
         display_name = \"Sede de prueba\"\n",
        md.display()
    ));
    std::fs::write(&d.config_path, &text).unwrap();
    // Not there before the server starts; there, with every option, once it has.
    assert!(
        !d.cli(&["admin", "sp", "show", "https://conf.example.es"])
            .status
            .success()
    );
    let server = d.start().await;
    let v = d.cli_json(&["admin", "sp", "show", "https://conf.example.es"]);
    assert_eq!(v["min_level"], "low");
    assert_eq!(v["attributes"], serde_json::json!(["PersonIdentifier"]));
    assert_eq!(
        v["name_id_format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    );
    assert_eq!(v["encrypt_assertions"], true);
    assert_eq!(v["sp_type"], "private");
    assert_eq!(v["sign_with_ec"], true);
    assert_eq!(v["display_name"], "Sede de prueba");
    drop(server);
    // A configured SP whose metadata cannot be read stops the start, naming the key.
    text.push_str("[[saml.service_providers]]\nmetadata_file = \"/nonexistent/sp.xml\"\n");
    std::fs::write(&d.config_path, &text).unwrap();
    let err = pasarela::server::start(d.config(), Arc::new(pasarela::clock::SystemClock))
        .await
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("saml.service_providers"),
        "{err:#}"
    );
    // An unknown Cl@ve IdP in the table is refused when the configuration is read.
    let bad = text.replace("[saml]\n", "[saml]\nclave_idp_methods = { FooIdP = [] }\n");
    std::fs::write(&d.config_path, bad).unwrap();
    let err = pasarela::config::Config::load(&d.config_path).unwrap_err();
    assert!(err.0.contains("saml.clave_idp_methods.FooIdP"), "{}", err.0);
}
