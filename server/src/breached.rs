//! The breached-password check: an optional look-up of every new password in a "Have I Been
//! Pwned"-style range API, by k-anonymity. The password's SHA-1 is computed here; only its
//! first five hex digits are sent (`GET {url}/{PREFIX}`), and the answer lists the suffixes of
//! every breached hash with that prefix (`SUFFIX:COUNT` lines), among which the server looks
//! for its own. Padding lines (`Add-Padding: true`, count 0) hide the range's true size and
//! never count as a match.
//!
//! When the service cannot be asked (unreachable, slow, a non-success status, an answer that is
//! not a range) the configured [`OnError`] decides: accept the password, or refuse to set one
//! until the service answers again.

use serde::Deserialize;
use sha1::{Digest as _, Sha1};
use std::fmt::Write as _;
use std::time::Duration;
use url::Url;

/// Default time allowed for one look-up.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Largest range answer read; real ones are a few tens of KiB.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// What to do with a new password when the service cannot be asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Accept it (the other password rules still apply); the failure is logged.
    #[default]
    Allow,
    /// Refuse to set it: `503 password_check_unavailable`.
    Refuse,
}

/// The configured range API.
#[derive(Debug, Clone)]
pub struct BreachedPasswords {
    url: Url,
    on_error: OnError,
    client: reqwest::Client,
}

/// Why the breached-password check could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The URL is not http(s).
    #[error("expected an http(s) URL")]
    NotHttp,
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}

/// Why a look-up gave no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The service could not be reached, answered too slowly, or with a failure status.
    #[error("the service did not answer: {0}")]
    Unreachable(String),
    /// The answer was not a range of `SUFFIX:COUNT` lines.
    #[error("the answer is not a range: {0}")]
    Garbage(&'static str),
}

/// A new password the check refuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BreachError {
    /// The password appears in known breaches.
    #[error("the password appears in known data breaches")]
    Breached,
    /// The service could not be asked and the server is set to refuse meanwhile.
    #[error("the breached-password service could not be asked")]
    Unavailable,
}

impl BreachedPasswords {
    /// A check against the range API at `url` (`https://api.pwnedpasswords.com/range`, or a
    /// mirror), each look-up allowed `timeout`.
    ///
    /// # Errors
    /// A URL that is not http(s); an HTTP client that cannot be built.
    pub fn new(url: Url, on_error: OnError, timeout: Duration) -> Result<Self, SetupError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SetupError::NotHttp);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SetupError::Client(e.to_string()))?;
        Ok(Self {
            url,
            on_error,
            client,
        })
    }

    /// What happens when the service cannot be asked.
    #[must_use]
    pub fn on_error(&self) -> OnError {
        self.on_error
    }

    /// Whether `password` appears in the service's breaches (with a count above zero).
    ///
    /// # Errors
    /// No usable answer.
    pub async fn is_breached(&self, password: &str) -> Result<bool, LookupError> {
        let hash = sha1_hex_upper(password);
        let (prefix, suffix) = hash.split_at(5);
        let url = format!("{}/{prefix}", self.url.as_str().trim_end_matches('/'));
        // Without the URL: it carries the prefix, which has no business in the log.
        let unreachable = |e: reqwest::Error| LookupError::Unreachable(e.without_url().to_string());
        let mut response = self
            .client
            .get(url)
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(LookupError::Unreachable(format!(
                "status {}",
                response.status()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(LookupError::Garbage("too large"));
            }
            body.extend_from_slice(&chunk);
        }
        range_contains(&body, suffix)
    }
}

/// The SHA-1 of `password`, 40 upper-case hex digits.
fn sha1_hex_upper(password: &str) -> String {
    let digest = Sha1::digest(password.as_bytes());
    let mut out = String::with_capacity(40);
    for byte in digest {
        let _ = write!(out, "{byte:02X}");
    }
    out
}

/// Whether a range answer lists `suffix` (35 upper-case hex digits) with a count above zero.
/// Every line must be `SUFFIX:COUNT`; an answer with none is not a range either.
fn range_contains(body: &[u8], suffix: &str) -> Result<bool, LookupError> {
    let text = std::str::from_utf8(body).map_err(|_| LookupError::Garbage("not UTF-8"))?;
    let mut lines = 0_usize;
    let mut found = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (hex, count) = line
            .split_once(':')
            .ok_or(LookupError::Garbage("a line without a count"))?;
        if hex.len() != 35 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LookupError::Garbage("a suffix that is not 35 hex digits"));
        }
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| LookupError::Garbage("a count that is not a number"))?;
        lines += 1;
        found |= count > 0 && hex.eq_ignore_ascii_case(suffix);
    }
    if lines == 0 {
        return Err(LookupError::Garbage("an empty range"));
    }
    Ok(found)
}

impl crate::Torii {
    /// Refuses a new password that the breached-password check finds (when one is
    /// configured); when the service cannot be asked, its [`OnError`] decides.
    ///
    /// # Errors
    /// [`BreachError::Breached`]; [`BreachError::Unavailable`] when the service cannot be
    /// asked and the server refuses meanwhile.
    pub async fn check_password_not_breached(
        &self,
        password: &torii_shared::Secret,
    ) -> Result<(), BreachError> {
        let Some(check) = self.breached_passwords() else {
            return Ok(());
        };
        match check.is_breached(password.expose()).await {
            Ok(false) => Ok(()),
            Ok(true) => Err(BreachError::Breached),
            Err(error) => {
                tracing::warn!(%error, on_error = ?check.on_error, "breached-password check failed");
                match check.on_error {
                    OnError::Allow => Ok(()),
                    OnError::Refuse => Err(BreachError::Unavailable),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_split_into_a_five_digit_prefix_and_its_suffix() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8.
        let hash = sha1_hex_upper("password");
        assert_eq!(hash, "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }

    const SUFFIX: &str = "1E4C9B93F3F0682250B6CF8331B7EE68FD8";

    #[test]
    fn a_listed_suffix_with_a_count_is_breached_and_padding_is_not() {
        let listed = format!("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n{SUFFIX}:3861493\r\n");
        assert!(range_contains(listed.as_bytes(), SUFFIX).unwrap());
        let lower = listed.to_lowercase();
        assert!(range_contains(lower.as_bytes(), SUFFIX).unwrap());
        let padded = format!("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n{SUFFIX}:0\r\n");
        assert!(!range_contains(padded.as_bytes(), SUFFIX).unwrap());
        let absent = "0018A45C4D1DEF81644B54AB7F969B88D65:1\n";
        assert!(!range_contains(absent.as_bytes(), SUFFIX).unwrap());
    }

    #[tokio::test]
    async fn a_failed_look_up_does_not_carry_the_prefix_into_the_log() {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/range", listener.local_addr().unwrap())
        };
        let check = BreachedPasswords::new(
            closed.parse().unwrap(),
            OnError::Allow,
            Duration::from_secs(5),
        )
        .unwrap();
        let error = check.is_breached("password").await.unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(matches!(error, LookupError::Unreachable(_)), "{shown}");
        assert!(!shown.contains("5BAA6"), "{shown}");
    }

    #[test]
    fn answers_that_are_not_ranges_are_garbage() {
        for body in [
            &b"<html>Service Unavailable</html>"[..],
            b"",
            b"\r\n\r\n",
            b"0018A45C4D1DEF81644B54AB7F969B88D65",
            b"0018A45C4D1DEF81644B54AB7F969B88D65:many",
            b"0018A45C4D1DEF:1",
            b"\xff\xfe:1",
            b"ZZ18A45C4D1DEF81644B54AB7F969B88D65:1",
        ] {
            assert!(
                range_contains(body, SUFFIX).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
