//! Authenticator apps (RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps, one step of skew
//! either way): the secret, its sealed form, the `otpauth://` URI and its QR code, and which
//! time step a code belongs to.

use crate::error::internal::{InternalError, InternalSource};
use crate::secret_key::ServerKeys;
use rand::RngCore as _;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;
use totp_rs::{Algorithm, TOTP};

/// Seconds in a time step.
pub const STEP_SECS: i64 = 30;
/// Digits in a code.
pub const DIGITS: usize = 6;
/// Steps accepted either side of the current one (clock skew).
pub const SKEW_STEPS: i64 = 1;
/// Older steps recognised as an expired code (rather than a wrong one): five minutes.
const EXPIRED_STEPS: i64 = 10;
/// Bytes of a secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// What a code is, against an authenticator's secret at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMatch {
    /// The code of this step, within the skew of now.
    Step(i64),
    /// The code of an older step, outside the skew: it expired.
    Expired,
    /// No recent step's code.
    Wrong,
}

/// The time step of an instant.
#[must_use]
pub fn step_of(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(STEP_SECS)
}

/// A new random secret.
#[must_use]
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0; SECRET_BYTES];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// What a sealed secret is bound to: its owner, so a row copied to another user opens for
/// nobody.
fn associated(user_id: &str) -> Vec<u8> {
    format!("totp:{user_id}").into_bytes()
}

/// Seals a secret under the current server key.
#[must_use]
pub fn seal(keys: &ServerKeys, user_id: &str, secret: &[u8]) -> String {
    keys.current.seal(secret, &associated(user_id))
}

/// Opens a sealed secret with the current (or, during a rotation, the previous) server key.
///
/// # Errors
/// Neither key opens it: the wrong key file, or an altered row.
pub fn open(keys: &ServerKeys, user_id: &str, sealed: &str) -> Result<Vec<u8>, InternalError> {
    keys.open(sealed, &associated(user_id))
        .map(|(secret, _)| secret)
        .map_err(|e| InternalError::new(InternalSource::Totp, e))
}

/// The secret of `sealed` sealed under the current server key, when it opened only with the
/// previous one (a rotation); `None` when it needs nothing.
///
/// # Errors
/// Neither key opens it.
pub fn resealed(
    keys: &ServerKeys,
    user_id: &str,
    sealed: &str,
) -> Result<Option<String>, InternalError> {
    let (secret, with_previous) = keys
        .open(sealed, &associated(user_id))
        .map_err(|e| InternalError::new(InternalSource::Totp, e))?;
    Ok(with_previous.then(|| seal(keys, user_id, &secret)))
}

/// `otpauth://` labels may not hold a colon (it separates the issuer from the account).
fn label(text: &str) -> String {
    text.replace(':', " ")
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<TOTP, InternalError> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        u8::try_from(SKEW_STEPS).unwrap_or(1),
        u64::try_from(STEP_SECS).unwrap_or(30),
        secret.to_vec(),
        Some(label(issuer)),
        label(account),
    )
    .map_err(|e| InternalError::new(InternalSource::Totp, format!("TOTP: {e:?}")))
}

/// What an authenticator app needs: the base32 secret, the `otpauth://` URI, and the URI as
/// a QR code (SVG).
///
/// # Errors
/// A secret or label the TOTP library refuses, or a URI too long for a QR code (neither
/// happens with the secrets made here).
pub fn provisioning(
    secret: &[u8],
    issuer: &str,
    account: &str,
) -> Result<(String, String, String), InternalError> {
    let totp = totp(secret, issuer, account)?;
    let uri = totp.get_url();
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| InternalError::new(InternalSource::Totp, format!("QR code: {e}")))?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok((totp.get_secret_base32(), uri, svg))
}

/// The code of a step.
fn code_at(totp: &TOTP, step: i64) -> String {
    totp.generate(u64::try_from(step * STEP_SECS).unwrap_or(0))
}

/// Which step `code` (six digits) is the code of, around `now`: the latest matching step
/// within the skew, else whether it is an older step's.
///
/// # Errors
/// A secret the TOTP library refuses.
pub fn match_code(
    secret: &[u8],
    code: &str,
    now: OffsetDateTime,
) -> Result<CodeMatch, InternalError> {
    let totp = totp(secret, "torii", "user")?;
    let current = step_of(now);
    let matches = |step: i64| bool::from(code_at(&totp, step).as_bytes().ct_eq(code.as_bytes()));
    // Every candidate is compared, so the time taken does not say which one matched.
    let mut found = None;
    for step in current - SKEW_STEPS..=current + SKEW_STEPS {
        if matches(step) {
            found = Some(step);
        }
    }
    if let Some(step) = found {
        return Ok(CodeMatch::Step(step));
    }
    let mut expired = false;
    for step in current - SKEW_STEPS - EXPIRED_STEPS..current - SKEW_STEPS {
        expired |= matches(step);
    }
    Ok(if expired {
        CodeMatch::Expired
    } else {
        CodeMatch::Wrong
    })
}

/// A code as typed: six digits, spaces ignored; `None` when it is not that shape.
#[must_use]
pub fn normalize(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    #[test]
    fn rfc_6238_vectors_match_their_steps() {
        // RFC 6238 appendix B, SHA-1, truncated to 6 digits.
        let secret = b"12345678901234567890";
        assert_eq!(
            match_code(secret, "287082", at(59)).unwrap(),
            CodeMatch::Step(1)
        );
        assert_eq!(
            match_code(secret, "081804", at(1_111_111_109)).unwrap(),
            CodeMatch::Step(37_037_036)
        );
        // One step of skew either way; two steps back is expired; anything else is wrong.
        assert_eq!(
            match_code(secret, "081804", at(1_111_111_109 + 30)).unwrap(),
            CodeMatch::Step(37_037_036)
        );
        assert_eq!(
            match_code(secret, "081804", at(1_111_111_109 - 30)).unwrap(),
            CodeMatch::Step(37_037_036)
        );
        assert_eq!(
            match_code(secret, "081804", at(1_111_111_109 + 60)).unwrap(),
            CodeMatch::Expired
        );
        assert_eq!(
            match_code(secret, "000000", at(1_111_111_109)).unwrap(),
            CodeMatch::Wrong
        );
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(normalize(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize("12345"), None);
        assert_eq!(normalize("1234567"), None);
        assert_eq!(normalize("12345a"), None);
        assert_eq!(normalize("１２３４５６"), None);
    }

    #[test]
    fn sealed_secrets_open_only_for_their_user() {
        let keys = ServerKeys {
            current: crate::secret_key::ServerKey::from_bytes([3; 32]),
            previous: None,
            ephemeral: false,
        };
        let secret = new_secret();
        let sealed = seal(&keys, "usr_a", &secret);
        assert_eq!(open(&keys, "usr_a", &sealed).unwrap(), secret);
        assert!(open(&keys, "usr_b", &sealed).is_err());
        assert_eq!(resealed(&keys, "usr_a", &sealed).unwrap(), None);
        // After a rotation: opened with the previous key, sealed again under the new one.
        let rotated = ServerKeys {
            current: crate::secret_key::ServerKey::from_bytes([4; 32]),
            previous: Some(keys.current.clone()),
            ephemeral: false,
        };
        let again = resealed(&rotated, "usr_a", &sealed).unwrap().unwrap();
        assert_eq!(rotated.current.open(&again, b"totp:usr_a").unwrap(), secret);
        assert!(resealed(&rotated, "usr_b", &sealed).is_err());
    }

    #[test]
    fn provisioning_gives_a_uri_and_an_svg() {
        let (base32, uri, svg) =
            provisioning(&new_secret(), "Acme: Inc", "ada@example.com").unwrap();
        assert_eq!(base32.len(), 32);
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&base32), "{uri}");
        assert!(svg.contains("<svg"), "{svg}");
    }
}
