//! Preparing a deployment through the real command line: clients, the SAML SP, citizens, and
//! their activation through the real pages.

use super::*;

// ----------------------------------------------------------------------------------------------
// Preparation through the real CLI.

pub(crate) struct Cli2<'a> {
    pub(crate) bin: &'a Path,
    pub(crate) config: &'a Path,
}

impl Cli2<'_> {
    pub(crate) fn json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let out = Command::new(self.bin)
            .arg("--config")
            .arg(self.config)
            .args(args)
            .arg("--json")
            .env_remove("PASARELA_CONFIG")
            .output()?;
        if !out.status.success() {
            bail!(
                "pasarela {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }
}

/// A valid DNI for `n` (8 digits and the check letter).
pub(crate) fn dni(n: u32) -> String {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    format!("{n:08}{}", LETTERS[(n % 23) as usize] as char)
}

pub(crate) struct Citizen {
    pub(crate) id: String,
    pub(crate) mobile: String,
}

pub(crate) fn sp_metadata(entity: &str, cert_b64: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}">
<md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs" index="0" isDefault="true"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

pub(crate) async fn activate(
    http: &reqwest::Client,
    base: &str,
    outbox: &Mutex<Outbox>,
    c: &Citizen,
    code: &str,
    email: &str,
) -> Result<()> {
    let mut j = Jar::default();
    j.get(http, base, "/activate").await?;
    let a = j
        .post(
            http,
            base,
            "/activate",
            &[("identifier", &c.id), ("email", email), ("code", code)],
        )
        .await?;
    expect(&a, 303, "/activate/policy", "activation code")?;
    j.get(http, base, "/activate/policy").await?;
    let seen = outbox.lock().await.count(&c.mobile)?;
    let a = j
        .post(http, base, "/activate/policy", &[("accept", "yes")])
        .await?;
    expect(&a, 303, "/activate/code", "security policy")?;
    j.get(http, base, "/activate/code").await?;
    let sms = code_after(outbox, &c.mobile, seen).await?;
    let a = j
        .post(http, base, "/activate/code", &[("code", &sms)])
        .await?;
    expect(&a, 303, "/activate/password", "SMS code")?;
    j.get(http, base, "/activate/password").await?;
    let a = j
        .post(
            http,
            base,
            "/activate/password",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await?;
    expect(&a, 303, "/activate/done", "password")?;
    Ok(())
}
