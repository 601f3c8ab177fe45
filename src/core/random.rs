//! Randomness from OpenSSL's CSPRNG, in the shapes the engine needs.

use base64::Engine;

/// `n` random bytes. OpenSSL's generator only fails when the system cannot seed it, in which
/// case nothing security-relevant may continue, so the error is returned to the caller.
pub fn bytes(n: usize) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let mut buf = vec![0u8; n];
    openssl::rand::rand_bytes(&mut buf)?;
    Ok(buf)
}

/// A URL-safe opaque token with `n` random bytes (`n * 8` bits of entropy).
pub fn token(n: usize) -> Result<String, openssl::error::ErrorStack> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes(n)?))
}

/// A string of `len` decimal digits, uniformly distributed (rejection sampling, no modulo bias).
pub fn digits(len: usize) -> Result<String, openssl::error::ErrorStack> {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in bytes(len * 2)? {
            // 250 is the largest multiple of 10 below 256: values above it would bias the digits.
            if b < 250 && out.len() < len {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_have_the_asked_length_and_only_digits() {
        let d = super::digits(8).unwrap();
        assert_eq!(d.len(), 8);
        assert!(d.chars().all(|c| c.is_ascii_digit()));
        assert_ne!(super::token(16).unwrap(), super::token(16).unwrap());
        assert_eq!(super::token(32).unwrap().len(), 43);
    }
}
