//! Making new signing keys: the key pair, a fresh kid and a self-signed certificate.

use super::alg::KeyFamily;
use super::kek::Kek;
use super::signing::SigningKey;
use crate::core::{CoreError, random};
use crate::store::{KeyState, StoredKey};
use chrono::{DateTime, Months, Utc};
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509, X509NameBuilder};

/// RSA modulus sizes this provider generates.
pub const RSA_BITS_ALLOWED: [u32; 2] = [2048, 3072];

/// How long generated certificates are valid. Rotation, not expiry, retires keys; SAML peers
/// generally ignore certificate validity, but some refuse an expired one.
const CERT_VALIDITY_MONTHS: u32 = 120;

/// Refuses RSA sizes other than 2048 and 3072.
pub fn check_rsa_bits(bits: u32) -> Result<(), CoreError> {
    if RSA_BITS_ALLOWED.contains(&bits) {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "RSA key size must be 2048 or 3072 bits, not {bits}"
        )))
    }
}

/// A kid that sorts by creation day and is unique: `YYYYMMDD-` and 96 random bits.
pub fn new_kid(now: DateTime<Utc>) -> Result<String, CoreError> {
    Ok(format!("{}-{}", now.format("%Y%m%d"), random::token(12)?))
}

/// A self-signed X.509 v3 certificate for `pkey`: random serial, valid from `now` for ten
/// years, subject and issuer `CN=subject_cn`, SHA-256 signature, digitalSignature only.
pub fn self_signed_certificate(
    pkey: &PKeyRef<Private>,
    subject_cn: &str,
    now: DateTime<Utc>,
) -> Result<X509, CoreError> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, subject_cn)?;
    let name = name.build();

    let mut serial = random::bytes(16)?;
    // Keep the DER INTEGER positive and at most 16 bytes, as RFC 5280 §4.1.2.2 asks.
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let serial = BigNum::from_slice(&serial)?;
    let serial = Asn1Integer::from_bn(&serial)?;

    let not_after = now
        .checked_add_months(Months::new(CERT_VALIDITY_MONTHS))
        .ok_or_else(|| CoreError::Invalid("certificate validity overflows".into()))?;

    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(pkey)?;
    let not_before = Asn1Time::from_unix(now.timestamp())?;
    let not_after = Asn1Time::from_unix(not_after.timestamp())?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    builder.sign(pkey, MessageDigest::sha256())?;
    Ok(builder.build())
}

/// A fresh private key of `family` (`rsa_bits` applies to RSA).
pub fn new_private_key(family: KeyFamily, rsa_bits: u32) -> Result<PKey<Private>, CoreError> {
    Ok(match family {
        KeyFamily::Rsa => {
            check_rsa_bits(rsa_bits)?;
            PKey::from_rsa(Rsa::generate(rsa_bits)?)?
        }
        KeyFamily::Ec => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
    })
}

/// A new key in `state`, ready to use and ready to store: the private key is encrypted with
/// `kek` and the certificate is stored with it so every node publishes the same one.
pub fn generate(
    kek: &Kek,
    family: KeyFamily,
    rsa_bits: u32,
    state: KeyState,
    now: DateTime<Utc>,
    subject_cn: &str,
) -> Result<(SigningKey, StoredKey), CoreError> {
    let pkey = new_private_key(family, rsa_bits)?;
    let kid = new_kid(now)?;
    let certificate = self_signed_certificate(&pkey, subject_cn, now)?;
    let stored = StoredKey {
        kid: kid.clone(),
        alg: family.stored_alg().to_owned(),
        state,
        encrypted_private_key: kek.encrypt(&kid, &pkey.private_key_to_pkcs8()?)?,
        certificate: certificate.to_der()?,
        created_at: now,
        state_changed_at: now,
    };
    let key = SigningKey::new(kid, state, pkey, certificate, now, now)?;
    Ok((key, stored))
}
