//! Keeping a JWT session's token fresh. In a JWT environment the cookie holds a revocable
//! refresh session and `token` is a short-lived JWT (a minute by default), so the provider asks
//! for a new one (`POST /v1/session/refresh`) at two thirds of the current one's lifetime.
//!
//! One timer at a time, armed again after every answer the state takes: a refresh, a focus
//! refetch, a sign-in. An answer without a token (signed out here, a refresh refused with 401,
//! another tab's sign-out read through `/me`) clears it at once, and so does the provider's
//! unmount. A refresh that fails without an answer (the network, a 503) is tried again soon,
//! while the token it would replace is still the current one.
//!
//! The lifetime is read from the token's own `iat` and `exp` (its payload is base64url JSON;
//! the browser checks no signature, the backends do) and counted from when the answer
//! arrived, so a page whose clock is off still refreshes in time.

use super::Auth;
use super::task::detach;
use leptos::prelude::*;
use serde::Deserialize;
use std::time::Duration;

/// The soonest a refresh is asked for after a new token.
const MIN_DELAY: Duration = Duration::from_secs(1);
/// How long after a failed refresh it is tried again (capped by the token's own schedule).
const RETRY_DELAY: Duration = Duration::from_secs(5);

/// The claims the schedule needs.
#[derive(Deserialize)]
struct Lifetime {
    iat: i64,
    exp: i64,
}

/// When to refresh a JWT received now: two thirds of its lifetime (`exp` - `iat`) from now,
/// at least [`MIN_DELAY`]. `None` for a token that is not a JWT with those claims.
pub(super) fn refresh_delay(token: &str) -> Option<Duration> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims: Lifetime = serde_json::from_slice(&base64url_decode(payload)?).ok()?;
    let lifetime_ms = claims.exp.checked_sub(claims.iat)?.checked_mul(1000)?;
    let delay = u64::try_from(lifetime_ms.checked_mul(2)? / 3).ok()?;
    Some(Duration::from_millis(delay).max(MIN_DELAY))
}

/// Base64url without padding (RFC 4648 §5), as a JWT's parts are encoded.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0_u32;
    let mut bits = 0_u32;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    // Leftover bits must be padding zeros; a single leftover character encodes nothing.
    (bits < 6 && buffer & ((1 << bits) - 1) == 0).then_some(out)
}

/// The current token, if the state holds a JWT session's.
fn current_token(auth: Auth) -> Option<String> {
    auth.me
        .try_with_untracked(|me| me.as_ref().and_then(|me| me.token.clone()))
        .flatten()
}

/// Arms the refresh timer after every answer the state takes, for as long as the provider
/// lives. Browser only: called from [`super::browser::connect_to_browser`].
pub(super) fn keep_token_fresh(auth: Auth) {
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let clear = move || {
        if let Some(handle) = timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    // Tracks `me` itself, not the token: every answer re-arms, even one carrying the same
    // token as before.
    Effect::new(move |_| {
        let token = auth.me.with(|me| {
            me.as_ref()
                .filter(|me| me.user.is_some())
                .and_then(|me| me.token.clone())
        });
        clear();
        if let Some(delay) = token.as_deref().and_then(refresh_delay) {
            arm(auth, timer, delay, token.unwrap_or_default());
        }
    });
    on_cleanup(clear);
}

/// Schedules a refresh of `token` after `delay`.
fn arm(auth: Auth, timer: StoredValue<Option<TimeoutHandle>>, delay: Duration, token: String) {
    let fire = move || {
        timer.try_set_value(None);
        detach(async move {
            // Signed out or replaced meanwhile: the answer that did it re-armed (or cleared).
            if current_token(auth).as_deref() != Some(token.as_str()) {
                return;
            }
            if auth.fetch_refreshed().await.is_err()
                && current_token(auth).as_deref() == Some(token.as_str())
                && timer.try_with_value(Option::is_none).unwrap_or(false)
            {
                // No answer: try again soon, within what is left of the token's life.
                let retry = refresh_delay(&token).map_or(RETRY_DELAY, |d| d.min(RETRY_DELAY));
                arm(auth, timer, retry, token);
            }
        });
    };
    match set_timeout_with_handle(fire, delay) {
        Ok(handle) => {
            timer.try_set_value(Some(handle));
        }
        Err(err) => leptos::logging::error!("torii: could not schedule the token refresh: {err:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("eyJhbGciOiJFZERTQSJ9.{}.c2ln", encode(payload.as_bytes()))
    }

    /// Base64url without padding, to build test tokens.
    fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0_u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap();
                out.push(char::from(ALPHABET[index]));
            }
        }
        out
    }

    #[test]
    fn base64url_round_trips_every_length_and_refuses_other_alphabets() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len)
                .map(|i: u32| u8::try_from((i * 37 + 250) % 256).unwrap())
                .collect();
            assert_eq!(base64url_decode(&encode(&bytes)), Some(bytes));
        }
        assert_eq!(base64url_decode("aGk"), Some(b"hi".to_vec()));
        assert_eq!(base64url_decode("a+k/"), None, "standard alphabet");
        assert_eq!(base64url_decode("aGk="), None, "padding");
        assert_eq!(base64url_decode("aGl"), None, "non-zero leftover bits");
    }

    #[test]
    fn a_token_is_refreshed_at_two_thirds_of_its_lifetime() {
        let token = jwt(r#"{"sub":"usr_1","iat":1000,"exp":1060,"nbf":1000}"#);
        assert_eq!(refresh_delay(&token), Some(Duration::from_secs(40)));
        let short = jwt(r#"{"iat":1000,"exp":1010}"#);
        assert_eq!(refresh_delay(&short), Some(Duration::from_millis(6666)));
        let long = jwt(r#"{"iat":0,"exp":900}"#);
        assert_eq!(refresh_delay(&long), Some(Duration::from_secs(600)));
    }

    #[test]
    fn odd_tokens_get_no_schedule_or_the_shortest() {
        assert_eq!(refresh_delay("opaque-session-token"), None);
        assert_eq!(refresh_delay("a.b"), None);
        assert_eq!(refresh_delay(&format!("{}.x", jwt("{}"))), None);
        assert_eq!(refresh_delay(&jwt(r#"{"iat":5}"#)), None, "no exp");
        assert_eq!(
            refresh_delay(&jwt(r#"{"iat":10,"exp":5}"#)),
            None,
            "negative"
        );
        assert_eq!(refresh_delay(&jwt("not json")), None);
        assert_eq!(
            refresh_delay(&jwt(r#"{"iat":10,"exp":10}"#)),
            Some(MIN_DELAY),
            "already due"
        );
    }
}
