//! The AuthnRequest as this IdP reads it — only from the part its signature covers — with the
//! eIDAS extensions (`SPType`, `RequestedAttributes`) that samael's type lacks, and the level
//! rules of `RequestedAuthnContext`.

use super::error::SamlError;
use super::sp::SpType;
use super::xml::{self, NS_EIDAS, NS_SAML, NS_SAMLP};
use crate::core::level::{AuthMethod, LevelOfAssurance, LevelPolicy, LevelVocabulary};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Cl@ve: the requested attribute that carries the SP's own relay state, echoed back.
pub const CLAVE_RELAY_STATE: &str = "http://es.minhafp.clave/RelayState";
/// Cl@ve: requested attributes that exclude an identity provider from the citizen's choice.
pub const CLAVE_EXCLUDABLE_IDPS: [&str; 5] = [
    "http://es.minhafp.clave/AFirmaIdP",
    "http://es.minhafp.clave/GISSIdP",
    "http://es.minhafp.clave/AEATIdP",
    "http://es.minhafp.clave/CLVMOVILIdP",
    "http://es.minhafp.clave/EIDASIdP",
];

/// `RequestedAuthnContext/@Comparison`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// One of the listed levels exactly (the SAML default).
    Exact,
    /// At least the lowest listed level.
    Minimum,
    /// Strictly above the lowest listed level.
    Better,
    /// At most the highest listed level.
    Maximum,
}

/// The levels a request accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedContext {
    /// How to compare.
    pub comparison: Comparison,
    /// The levels named (unknown class references are dropped).
    pub levels: Vec<LevelOfAssurance>,
}

impl RequestedContext {
    /// Whether `level` satisfies the request.
    pub fn accepts(&self, level: LevelOfAssurance) -> bool {
        let (Some(lo), Some(hi)) = (self.levels.iter().min(), self.levels.iter().max()) else {
            return false;
        };
        match self.comparison {
            Comparison::Exact => self.levels.contains(&level),
            Comparison::Minimum => level >= *lo,
            Comparison::Better => level > *lo,
            Comparison::Maximum => level <= *hi,
        }
    }
}

/// A requested eIDAS attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedAttribute {
    /// The attribute's Name (a URI).
    pub name: String,
    /// `isRequired`.
    pub required: bool,
    /// Values sent with the request (Cl@ve's RelayState carries one).
    pub values: Vec<String>,
}

/// A verified AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthnRequest {
    /// ID (answered as InResponseTo).
    pub id: String,
    /// Issuer: the SP's entityID.
    pub issuer: String,
    /// IssueInstant.
    pub issue_instant: DateTime<Utc>,
    /// Destination.
    pub destination: Option<String>,
    /// AssertionConsumerServiceURL.
    pub acs_url: Option<String>,
    /// AssertionConsumerServiceIndex.
    pub acs_index: Option<u16>,
    /// ProtocolBinding requested for the response.
    pub protocol_binding: Option<String>,
    /// ForceAuthn.
    pub force_authn: bool,
    /// IsPassive.
    pub is_passive: bool,
    /// NameIDPolicy/@Format.
    pub name_id_format: Option<String>,
    /// RequestedAuthnContext.
    pub context: Option<RequestedContext>,
    /// eIDAS SPType.
    pub sp_type: Option<SpType>,
    /// eIDAS RequestedAttributes.
    pub attributes: Vec<RequestedAttribute>,
}

impl AuthnRequest {
    /// Cl@ve identity providers the SP excluded (their requested attribute is present).
    pub fn excluded_idps(&self) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|a| CLAVE_EXCLUDABLE_IDPS.contains(&a.name.as_str()))
            .map(|a| a.name.as_str())
            .collect()
    }

    /// The Cl@ve relay state value, if requested.
    pub fn clave_relay_state(&self) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == CLAVE_RELAY_STATE)
            .and_then(|a| a.values.first())
            .map(String::as_str)
    }
}

fn bool_attr(v: Option<&str>) -> Result<bool, SamlError> {
    match v {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(SamlError::malformed("boolean attribute")),
    }
}

/// The root's ID and Issuer, read before verification only to find the SP and its keys.
pub fn peek(xml_text: &str) -> Result<(String, String), SamlError> {
    let doc = xml::parse(xml_text)?;
    let root = doc.root_element();
    let id = root
        .attribute("ID")
        .ok_or_else(|| SamlError::malformed("no ID"))?;
    let issuer = xml::child(root, NS_SAML, "Issuer")
        .map(xml::text_of)
        .ok_or_else(|| SamlError::malformed("no Issuer"))?;
    Ok((id.to_owned(), issuer))
}

/// Reads an AuthnRequest from XML that xmlsec returned as signed.
pub fn parse(verified: &str, vocab: &LevelVocabulary) -> Result<AuthnRequest, SamlError> {
    let doc = xml::parse(verified)?;
    let root = doc.root_element();
    if !xml::is(root, NS_SAMLP, "AuthnRequest") {
        return Err(SamlError::malformed("not an AuthnRequest"));
    }
    if root.attribute("Version") != Some("2.0") {
        return Err(SamlError::malformed("Version must be 2.0"));
    }
    let id = root
        .attribute("ID")
        .ok_or_else(|| SamlError::malformed("no ID"))?;
    let issue_instant = root
        .attribute("IssueInstant")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| SamlError::malformed("IssueInstant"))?
        .with_timezone(&Utc);
    let issuer = xml::child(root, NS_SAML, "Issuer")
        .map(xml::text_of)
        .ok_or_else(|| SamlError::malformed("no Issuer"))?;
    let acs_index = root
        .attribute("AssertionConsumerServiceIndex")
        .map(|i| {
            i.parse::<u16>()
                .map_err(|_| SamlError::malformed("ACS index"))
        })
        .transpose()?;
    let context = match xml::child(root, NS_SAMLP, "RequestedAuthnContext") {
        None => None,
        Some(rac) => {
            let comparison = match rac.attribute("Comparison").unwrap_or("exact") {
                "exact" => Comparison::Exact,
                "minimum" => Comparison::Minimum,
                "better" => Comparison::Better,
                "maximum" => Comparison::Maximum,
                _ => return Err(SamlError::malformed("Comparison")),
            };
            let levels = xml::children(rac, NS_SAML, "AuthnContextClassRef")
                .filter_map(|r| vocab.level_for_saml_uri(&xml::text_of(r)))
                .collect();
            Some(RequestedContext { comparison, levels })
        }
    };
    let mut sp_type = None;
    let mut attributes = Vec::new();
    if let Some(ext) = xml::child(root, NS_SAMLP, "Extensions") {
        if let Some(t) = xml::child(ext, NS_EIDAS, "SPType") {
            sp_type = Some(
                xml::text_of(t)
                    .parse()
                    .map_err(|_| SamlError::malformed("SPType"))?,
            );
        }
        if let Some(ra) = xml::child(ext, NS_EIDAS, "RequestedAttributes") {
            for a in xml::children(ra, NS_EIDAS, "RequestedAttribute") {
                attributes.push(RequestedAttribute {
                    name: a.attribute("Name").unwrap_or_default().to_owned(),
                    required: bool_attr(a.attribute("isRequired"))?,
                    values: xml::children(a, NS_EIDAS, "AttributeValue")
                        .map(xml::text_of)
                        .collect(),
                });
            }
        }
    }
    Ok(AuthnRequest {
        id: id.to_owned(),
        issuer,
        issue_instant,
        destination: root.attribute("Destination").map(str::to_owned),
        acs_url: root
            .attribute("AssertionConsumerServiceURL")
            .map(str::to_owned),
        acs_index,
        protocol_binding: root.attribute("ProtocolBinding").map(str::to_owned),
        force_authn: bool_attr(root.attribute("ForceAuthn"))?,
        is_passive: bool_attr(root.attribute("IsPassive"))?,
        name_id_format: xml::child(root, NS_SAMLP, "NameIDPolicy")
            .and_then(|p| p.attribute("Format"))
            .map(str::to_owned),
        context,
        sp_type,
        attributes,
    })
}

/// The highest level the login pages can reach: the methods they offer are the password, an
/// SMS code and a TOTP app (a certificate or DNIe login is not offered yet).
pub fn reachable_by_login(policy: &LevelPolicy) -> Option<LevelOfAssurance> {
    reachable_with(policy, &[AuthMethod::Sms, AuthMethod::Otp])
}

/// The highest level a login with the password and one of `second` can reach.
pub fn reachable_with(policy: &LevelPolicy, second: &[AuthMethod]) -> Option<LevelOfAssurance> {
    let offered: Vec<AuthMethod> = [AuthMethod::Sms, AuthMethod::Otp]
        .into_iter()
        .filter(|m| second.contains(m))
        .chain([AuthMethod::Pwd])
        .collect();
    policy
        .methods
        .iter()
        .filter(|r| r.methods.iter().all(|m| offered.contains(m)))
        .map(|r| r.level)
        .max()
}

/// Whether a session at `level` may answer: at least the SP's minimum and what the request
/// asks for.
pub fn level_ok(
    level: LevelOfAssurance,
    sp_min: LevelOfAssurance,
    ctx: Option<&RequestedContext>,
) -> bool {
    level >= sp_min && ctx.is_none_or(|c| c.accepts(level))
}

/// The lowest level at or below `ceiling` that satisfies the SP and the request (what a login
/// should aim for); `None`: no level can (`NoAuthnContext`).
pub fn target_level(
    sp_min: LevelOfAssurance,
    ctx: Option<&RequestedContext>,
    ceiling: Option<LevelOfAssurance>,
) -> Option<LevelOfAssurance> {
    LevelOfAssurance::ALL
        .into_iter()
        .filter(|l| ceiling.is_some_and(|c| *l <= c))
        .find(|l| level_ok(*l, sp_min, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use LevelOfAssurance::*;

    fn ctx(comparison: Comparison, levels: &[LevelOfAssurance]) -> RequestedContext {
        RequestedContext {
            comparison,
            levels: levels.to_vec(),
        }
    }

    #[test]
    fn comparisons_follow_saml_core() {
        let min = ctx(Comparison::Minimum, &[Substantial]);
        assert!(!min.accepts(Low) && min.accepts(Substantial) && min.accepts(High));
        let exact = ctx(Comparison::Exact, &[Substantial]);
        assert!(!exact.accepts(Low) && exact.accepts(Substantial) && !exact.accepts(High));
        let better = ctx(Comparison::Better, &[Low]);
        assert!(!better.accepts(Low) && better.accepts(Substantial));
        let max = ctx(Comparison::Maximum, &[Substantial]);
        assert!(max.accepts(Low) && max.accepts(Substantial) && !max.accepts(High));
        assert!(!ctx(Comparison::Minimum, &[]).accepts(High));
    }

    #[test]
    fn targets_respect_the_sp_minimum_and_what_a_login_can_reach() {
        let policy = LevelPolicy::default();
        let reach = reachable_by_login(&policy);
        assert_eq!(reach, Some(Substantial));
        let high = ctx(Comparison::Minimum, &[High]);
        assert_eq!(target_level(Low, Some(&high), reach), None);
        let low = ctx(Comparison::Minimum, &[Low]);
        assert_eq!(
            target_level(Substantial, Some(&low), reach),
            Some(Substantial)
        );
        let max_low = ctx(Comparison::Maximum, &[Low]);
        assert_eq!(target_level(Substantial, Some(&max_low), reach), None);
        assert_eq!(target_level(Low, None, reach), Some(Low));
        assert!(!level_ok(Substantial, Low, Some(&high)));
    }

    #[test]
    fn extensions_are_read() {
        let x = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:eidas="http://eidas.europa.eu/saml-extensions" ID="_a" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" ForceAuthn="true" AssertionConsumerServiceIndex="1">
<saml:Issuer>https://sp</saml:Issuer>
<samlp:Extensions><eidas:SPType>private</eidas:SPType><eidas:RequestedAttributes>
<eidas:RequestedAttribute Name="http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier" isRequired="true"/>
<eidas:RequestedAttribute Name="http://es.minhafp.clave/RelayState" isRequired="false"><eidas:AttributeValue>abc</eidas:AttributeValue></eidas:RequestedAttribute>
<eidas:RequestedAttribute Name="http://es.minhafp.clave/AEATIdP" isRequired="false"/>
</eidas:RequestedAttributes></samlp:Extensions>
<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>http://eidas.europa.eu/LoA/high</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>
</samlp:AuthnRequest>"#;
        let r = parse(x, &LevelVocabulary::default()).unwrap();
        assert_eq!(r.sp_type, Some(SpType::Private));
        assert!(r.force_authn && !r.is_passive);
        assert_eq!(r.acs_index, Some(1));
        assert_eq!(r.attributes.len(), 3);
        assert!(r.attributes[0].required);
        assert_eq!(r.clave_relay_state(), Some("abc"));
        assert_eq!(r.excluded_idps(), vec!["http://es.minhafp.clave/AEATIdP"]);
        assert_eq!(r.context.unwrap().levels, vec![High]);
    }
}
