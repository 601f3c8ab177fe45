//! Service providers: their SAML settings, read from their metadata and kept in the
//! relying-party model as [`ProtocolSettings::Saml`] JSON.

use super::error::SamlError;
use super::xml::{self, BINDING_POST, BINDING_REDIRECT, BINDING_SOAP, NS_DS, NS_MD};
use crate::core::level::LevelOfAssurance;
use crate::core::relying_party::{LogoutEndpoints, ProtocolSettings, RelyingParty};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Persistent (pairwise per SP) NameID format.
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// Transient NameID format.
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
/// Unspecified NameID format (the citizen's PersonIdentifier).
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// The eIDAS natural-person attributes released by default.
pub const DEFAULT_ATTRIBUTES: [&str; 4] = [
    "PersonIdentifier",
    "CurrentFamilyName",
    "CurrentGivenName",
    "DateOfBirth",
];

/// eIDAS SP type: public-sector or private-sector service provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SpType {
    /// A public-sector body.
    #[default]
    Public,
    /// A private-sector service provider.
    Private,
}

impl std::str::FromStr for SpType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "public" => Ok(Self::Public),
            "private" => Ok(Self::Private),
            o => Err(format!("unknown SP type '{o}': expected public or private")),
        }
    }
}

impl SpType {
    /// `public` or `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// An AssertionConsumerService endpoint from the metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcsEndpoint {
    /// Binding URI.
    pub binding: String,
    /// Location URL.
    pub location: String,
    /// Index.
    pub index: u16,
    /// Whether this is the default endpoint.
    pub is_default: bool,
}

/// A service provider's SAML settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpSettings {
    /// Every AssertionConsumerService endpoint, as listed.
    pub acs: Vec<AcsEndpoint>,
    /// Signing certificates (base64 DER).
    pub signing_certificates: Vec<String>,
    /// Encryption certificates (base64 DER).
    #[serde(default)]
    pub encryption_certificates: Vec<String>,
    /// NameID formats the SP lists (first preferred).
    #[serde(default)]
    pub name_id_formats: Vec<String>,
    /// NameID format used when the request names none.
    pub name_id_format: String,
    /// Whether assertions are to be encrypted.
    #[serde(default)]
    pub encrypt_assertions: bool,
    /// eIDAS SP type.
    #[serde(default)]
    pub sp_type: SpType,
    /// Responses and assertions signed with the EC key (ECDSA-SHA256) instead of RSA.
    #[serde(default)]
    pub sign_with_ec: bool,
}

impl SpSettings {
    /// The settings of a relying party, if it is a SAML SP.
    pub fn of(rp: &RelyingParty) -> Result<Option<SpSettings>, SamlError> {
        match &rp.settings {
            ProtocolSettings::Saml(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| SamlError::internal(format!("stored SP settings: {e}"))),
            ProtocolSettings::Oidc(_) => Ok(None),
        }
    }

    /// The signing certificates, decoded.
    pub fn signing_der(&self) -> Vec<Vec<u8>> {
        self.signing_certificates
            .iter()
            .filter_map(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
            .collect()
    }

    /// The encryption certificates, decoded.
    pub fn encryption_der(&self) -> Vec<Vec<u8>> {
        self.encryption_certificates
            .iter()
            .filter_map(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
            .collect()
    }

    /// The HTTP-POST ACS endpoint a request names: by URL (which must be registered), by
    /// index, or the default (the `isDefault` one, else the first).
    pub fn acs_for(&self, url: Option<&str>, index: Option<u16>) -> Option<&AcsEndpoint> {
        let post = || self.acs.iter().filter(|a| a.binding == BINDING_POST);
        match (url, index) {
            (Some(u), _) => post().find(|a| a.location == u),
            (None, Some(i)) => post().find(|a| a.index == i),
            (None, None) => post().find(|a| a.is_default).or_else(|| post().next()),
        }
    }
}

/// The SingleLogoutService a browser can be sent to (HTTP-Redirect or HTTP-POST), as
/// `(binding, location)`: the `preferred` binding if the SP has it, else the other.
pub fn front_channel_slo<'a>(
    rp: &'a RelyingParty,
    preferred: &str,
) -> Option<&'a (String, String)> {
    let front = || {
        rp.logout
            .saml_slo
            .iter()
            .filter(|(b, _)| b == BINDING_POST || b == BINDING_REDIRECT)
    };
    front()
        .find(|(b, _)| b == preferred)
        .or_else(|| front().next())
}

/// The location of the SP's SOAP SingleLogoutService, for logouts without a browser.
pub fn soap_slo(rp: &RelyingParty) -> Option<&str> {
    rp.logout
        .saml_slo
        .iter()
        .find(|(b, _)| b == BINDING_SOAP)
        .map(|(_, location)| location.as_str())
}

/// What an operator registers: the metadata plus the choices the metadata does not carry.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The SP's metadata XML.
    pub metadata: String,
    /// Minimum level.
    pub min_level: LevelOfAssurance,
    /// Encrypt assertions.
    pub encrypt: bool,
    /// SP type.
    pub sp_type: SpType,
    /// Attributes released (empty: the eIDAS natural-person minimum set).
    pub attributes: Vec<String>,
    /// Display name (empty: the entityID).
    pub display_name: String,
    /// Sign with the EC key.
    pub sign_with_ec: bool,
    /// NameID format when a request names none (`None`: the metadata's first known one).
    pub name_id_format: Option<String>,
}

/// Builds a relying party from SP metadata.
pub fn from_metadata(reg: &Registration) -> Result<RelyingParty, SamlError> {
    let text = xml::checked_text(reg.metadata.as_bytes(), 1 << 20)?;
    let doc = xml::parse(&text)?;
    let root = doc.root_element();
    let entity = if xml::is(root, NS_MD, "EntityDescriptor") {
        root
    } else {
        return Err(SamlError::malformed("metadata: no EntityDescriptor root"));
    };
    let entity_id = entity
        .attribute("entityID")
        .filter(|e| !e.is_empty())
        .ok_or_else(|| SamlError::malformed("metadata: no entityID"))?;
    let sp = xml::child(entity, NS_MD, "SPSSODescriptor")
        .ok_or_else(|| SamlError::malformed("metadata: no SPSSODescriptor"))?;
    let mut signing = Vec::new();
    let mut encryption = Vec::new();
    for kd in xml::children(sp, NS_MD, "KeyDescriptor") {
        let certs: Vec<String> = kd
            .descendants()
            .filter(|n| xml::is(*n, NS_DS, "X509Certificate"))
            .map(|n| xml::text_of(n).split_whitespace().collect::<String>())
            .collect();
        for c in &certs {
            let der = base64::engine::general_purpose::STANDARD
                .decode(c)
                .map_err(|_| SamlError::malformed("metadata: certificate is not base64"))?;
            openssl::x509::X509::from_der(&der)
                .map_err(|_| SamlError::malformed("metadata: certificate is not X.509"))?;
        }
        match kd.attribute("use") {
            Some("signing") => signing.extend(certs),
            Some("encryption") => encryption.extend(certs),
            _ => {
                signing.extend(certs.clone());
                encryption.extend(certs);
            }
        }
    }
    if signing.is_empty() {
        return Err(SamlError::malformed(
            "metadata: no signing certificate (requests must be signed)",
        ));
    }
    if reg.encrypt && encryption.is_empty() {
        return Err(SamlError::malformed(
            "metadata: --encrypt needs an encryption certificate",
        ));
    }
    let mut acs = Vec::new();
    for (n, e) in xml::children(sp, NS_MD, "AssertionConsumerService").enumerate() {
        let binding = e.attribute("Binding").unwrap_or_default().to_owned();
        let location = e.attribute("Location").unwrap_or_default().to_owned();
        url::Url::parse(&location)
            .map_err(|_| SamlError::malformed("metadata: ACS Location is not a URL"))?;
        let index = match e.attribute("index") {
            Some(i) => i
                .parse()
                .map_err(|_| SamlError::malformed("metadata: ACS index is not a number"))?,
            None => u16::try_from(n).unwrap_or(u16::MAX),
        };
        acs.push(AcsEndpoint {
            binding,
            location,
            index,
            is_default: e.attribute("isDefault") == Some("true"),
        });
    }
    if !acs.iter().any(|a| a.binding == BINDING_POST) {
        return Err(SamlError::malformed(
            "metadata: no HTTP-POST AssertionConsumerService",
        ));
    }
    let slo = xml::children(sp, NS_MD, "SingleLogoutService")
        .filter_map(|e| {
            let b = e.attribute("Binding")?;
            // SOAP is kept for logouts without a browser (a password reset, the account's
            // session list); the browser is only ever sent to the other two.
            [BINDING_POST, BINDING_REDIRECT, BINDING_SOAP]
                .contains(&b)
                .then(|| {
                    (
                        b.to_owned(),
                        e.attribute("Location").unwrap_or_default().to_owned(),
                    )
                })
        })
        .collect();
    let name_id_formats: Vec<String> = xml::children(sp, NS_MD, "NameIDFormat")
        .map(xml::text_of)
        .collect();
    let offered = [NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED];
    let name_id_format = match &reg.name_id_format {
        Some(f) if offered.contains(&f.as_str()) => f.clone(),
        Some(f) => {
            return Err(SamlError::malformed(format!(
                "NameID format '{f}' is not offered"
            )));
        }
        None => name_id_formats
            .iter()
            .find(|f| offered.contains(&f.as_str()))
            .cloned()
            .unwrap_or_else(|| NAMEID_PERSISTENT.to_owned()),
    };
    let settings = SpSettings {
        acs,
        signing_certificates: signing,
        encryption_certificates: encryption,
        name_id_formats,
        name_id_format,
        encrypt_assertions: reg.encrypt,
        sp_type: reg.sp_type,
        sign_with_ec: reg.sign_with_ec,
    };
    let attribute_release = if reg.attributes.is_empty() {
        DEFAULT_ATTRIBUTES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        reg.attributes.clone()
    };
    Ok(RelyingParty {
        id: entity_id.to_owned(),
        display_name: if reg.display_name.is_empty() {
            entity_id.to_owned()
        } else {
            reg.display_name.clone()
        },
        min_level: reg.min_level,
        services: vec![],
        attribute_release,
        logout: LogoutEndpoints {
            saml_slo: slo,
            ..LogoutEndpoints::default()
        },
        settings: ProtocolSettings::Saml(
            serde_json::to_value(&settings).map_err(SamlError::internal)?,
        ),
        enabled: true,
    })
}

/// Registers (or replaces) the service providers of `[[saml.service_providers]]`: called at
/// every start, so the configuration is the source of truth for those entityIDs. Returns
/// the entityIDs registered.
pub async fn register_configured(
    engine: &crate::core::engine::Engine,
    cfg: &super::SamlConfig,
) -> Result<Vec<String>, SamlError> {
    let mut done = Vec::new();
    for (n, sp) in cfg.service_providers.iter().enumerate() {
        let metadata = std::fs::read_to_string(&sp.metadata_file).map_err(|e| {
            SamlError::malformed(format!(
                "saml.service_providers[{n}].metadata_file {}: {e}",
                sp.metadata_file.display()
            ))
        })?;
        let rp = from_metadata(&Registration {
            metadata,
            min_level: sp.min_level,
            encrypt: sp.encrypt,
            sp_type: sp.sp_type,
            attributes: sp.attributes.clone(),
            display_name: sp.display_name.clone(),
            sign_with_ec: sp.signing_alg == super::config::SigningAlg::EcdsaSha256,
            name_id_format: sp.name_id_format.clone(),
        })
        .map_err(|e| {
            SamlError::malformed(format!(
                "saml.service_providers[{n}] ({}): {e}",
                sp.metadata_file.display()
            ))
        })?;
        engine.store.put_relying_party(&rp).await?;
        engine
            .audit(
                engine
                    .event(&crate::core::engine::Actor::system(), "saml.sp.configured")
                    .detail(serde_json::json!({ "sp": rp.id })),
            )
            .await?;
        done.push(rp.id);
    }
    Ok(done)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// SP metadata with `cert` (base64 DER) for signing and encryption and two POST ACS.
    pub fn metadata(entity: &str, cert: &str) -> String {
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}">
<md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{entity}/slo"/>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs" index="0" isDefault="true"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs2" index="1"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="{entity}/art" index="2"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#
        )
    }

    fn test_cert() -> String {
        let ring = crate::core::keys::KeyRing::in_memory(chrono::Utc::now()).unwrap();
        let key = ring.active(crate::core::keys::JwsAlg::RS256).unwrap();
        base64::engine::general_purpose::STANDARD.encode(key.certificate_der())
    }

    fn reg(metadata: String) -> Registration {
        Registration {
            metadata,
            min_level: LevelOfAssurance::Substantial,
            encrypt: false,
            sp_type: SpType::Public,
            attributes: vec![],
            display_name: String::new(),
            sign_with_ec: false,
            name_id_format: None,
        }
    }

    #[test]
    fn every_post_acs_is_kept_and_matched_by_url_or_index() {
        let rp = from_metadata(&reg(metadata("https://sp.example", &test_cert()))).unwrap();
        assert_eq!(rp.id, "https://sp.example");
        let s = SpSettings::of(&rp).unwrap().unwrap();
        assert_eq!(s.acs.len(), 3);
        assert_eq!(
            s.acs_for(None, None).unwrap().location,
            "https://sp.example/acs"
        );
        assert_eq!(
            s.acs_for(None, Some(1)).unwrap().location,
            "https://sp.example/acs2"
        );
        assert!(s.acs_for(Some("https://sp.example/acs2"), None).is_some());
        assert!(s.acs_for(Some("https://sp.example/art"), None).is_none());
        assert!(s.acs_for(Some("https://evil.example/acs"), None).is_none());
        assert!(s.acs_for(None, Some(2)).is_none());
        assert_eq!(rp.logout.saml_slo.len(), 1);
        assert_eq!(s.name_id_format, NAMEID_PERSISTENT);
        assert_eq!(rp.attribute_release.len(), 4);
    }

    #[test]
    fn a_soap_logout_endpoint_is_kept_but_never_offered_to_the_browser() {
        let soap = r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://sp.example/soap"/>"#;
        let both = metadata("https://sp.example", &test_cert())
            .replace("<md:NameIDFormat>", &format!("{soap}<md:NameIDFormat>"));
        let rp = from_metadata(&reg(both.clone())).unwrap();
        assert_eq!(rp.logout.saml_slo.len(), 2);
        assert_eq!(soap_slo(&rp), Some("https://sp.example/soap"));
        for preferred in [BINDING_POST, BINDING_SOAP] {
            let front = front_channel_slo(&rp, preferred).unwrap();
            assert_eq!(front.0, BINDING_REDIRECT, "the SP's only front-channel one");
        }
        let redirect = r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.example/slo"/>"#;
        let only_soap = both.replace(redirect, "");
        let rp = from_metadata(&reg(only_soap)).unwrap();
        assert_eq!(front_channel_slo(&rp, BINDING_REDIRECT), None);
        assert_eq!(soap_slo(&rp), Some("https://sp.example/soap"));
        let rp = from_metadata(&reg(metadata("https://sp.example", &test_cert()))).unwrap();
        assert_eq!(soap_slo(&rp), None);
    }

    #[test]
    fn metadata_without_signing_certificate_or_with_a_dtd_is_refused() {
        let no_cert = metadata("https://sp.example", "")
            .replace("<md:KeyDescriptor", "<md:Other")
            .replace("</md:KeyDescriptor>", "</md:Other>");
        assert!(from_metadata(&reg(no_cert)).is_err());
        let dtd = format!(
            "<!DOCTYPE x>{}",
            metadata("https://sp.example", &test_cert())
        );
        assert!(from_metadata(&reg(dtd)).is_err());
    }
}
