//! Session tokens and cookies. A token is 256 bits from the OS CSPRNG, shown to the client once;
//! the store keeps only its SHA-256, so a leaked database does not leak live sessions.

mod authenticate;
pub(crate) mod cache;
pub mod device;
mod error;
pub mod follow;
pub mod jwt;
pub(crate) mod lookups;
mod sign_in;
pub(crate) mod touch;

pub use authenticate::{TOUCH_INTERVAL, is_jwt};
pub use error::SessionError;
pub use sign_in::{AuthenticatedSession, AuthenticatedSessionWithToken, user_payload};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};
use std::fmt;
use time::Duration;
use torii_shared::EnvironmentMode;

/// Sessions a node's lookup cache holds at most, unless configured.
pub const DEFAULT_SESSION_CACHE_CAPACITY: usize = 10_000;
/// How long at most a change that ends or alters a session takes to reach every node, unless
/// configured.
pub const DEFAULT_REVOCATION_BOUND: std::time::Duration = std::time::Duration::from_secs(1);

/// Cookie name in test mode.
pub const COOKIE_NAME: &str = "torii_session";
/// Cookie name in live mode: the `__Host-` prefix pins it to Secure, Path=/ and no Domain.
pub const LIVE_COOKIE_NAME: &str = "__Host-torii_session";

/// A secret session token as handed to the client.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A new random token.
    #[must_use]
    pub fn generate() -> Self {
        Self(random_url_token(32))
    }

    /// Wraps a token received from a client.
    #[must_use]
    pub fn from_client(value: &str) -> Self {
        Self(value.to_owned())
    }

    /// The token itself, for the cookie or a bearer header.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The form kept in the store.
    #[must_use]
    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

/// `len` random bytes, base64url without padding.
#[must_use]
pub fn random_url_token(len: usize) -> String {
    let mut bytes = vec![0_u8; len];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A prefixed random id such as `usr_…`: 128 bits, lower-case base32-like alphabet.
#[must_use]
pub fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut bytes = [0_u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let mut value = u128::from_be_bytes(bytes);
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    for _ in 0..26 {
        out.push(char::from(ALPHABET[(value & 31) as usize]));
        value >>= 5;
    }
    out
}

/// Lower-case hex SHA-256.
#[must_use]
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    out
}

/// The cookie name for an environment mode.
#[must_use]
pub fn cookie_name(mode: EnvironmentMode) -> &'static str {
    match mode {
        EnvironmentMode::Test => COOKIE_NAME,
        EnvironmentMode::Live => LIVE_COOKIE_NAME,
    }
}

/// `Set-Cookie` value carrying a session token for `max_age`.
#[must_use]
pub fn session_cookie(mode: EnvironmentMode, token: &SessionToken, max_age: Duration) -> String {
    let secure = if mode == EnvironmentMode::Live {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(mode),
        token.expose(),
        max_age.whole_seconds().max(0)
    )
}

/// `Set-Cookie` value that removes the session cookie.
#[must_use]
pub fn clear_cookie(mode: EnvironmentMode) -> String {
    let secure = if mode == EnvironmentMode::Live {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(mode)
    )
}

/// Finds a cookie's value in a `Cookie` header.
#[must_use]
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name && !value.is_empty()).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.expose());
    }

    #[test]
    fn ids_carry_their_prefix() {
        let id = new_id("usr");
        assert!(id.starts_with("usr_"));
        assert_eq!(id.len(), 30);
        assert_ne!(id, new_id("usr"));
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cookie_attributes_follow_the_mode() {
        let token = SessionToken::from_client("t0k");
        let test = session_cookie(EnvironmentMode::Test, &token, Duration::hours(1));
        assert_eq!(
            test,
            "torii_session=t0k; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600"
        );
        let live = session_cookie(EnvironmentMode::Live, &token, Duration::hours(1));
        assert!(live.starts_with("__Host-torii_session=t0k;"));
        assert!(live.ends_with("; Secure"));
        assert!(clear_cookie(EnvironmentMode::Test).contains("Max-Age=0"));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let header = "a=1; torii_session=abc; torii_session_x=no";
        assert_eq!(find_cookie(header, "torii_session"), Some("abc"));
        assert_eq!(find_cookie(header, "missing"), None);
        assert_eq!(find_cookie("torii_session=", "torii_session"), None);
    }

    #[test]
    fn tokens_never_show_in_debug() {
        let token = SessionToken::from_client("secret-value");
        assert!(!format!("{token:?}").contains("secret-value"));
    }
}
