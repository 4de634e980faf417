//! Offline verification of JWT sessions: the token's Ed25519 signature checked against the
//! server's published keys (`GET {api_url}/.well-known/jwks.json`), its issuer, audience
//! (the environment id) and lifetime checked against this machine's clock. No request per
//! page: the keys are fetched once, kept for [`JwksVerifier::KEYS_MAX_AGE`], and fetched
//! again early when a token names a key not yet seen (a rotation). Fetches are one at a
//! time and at most one per [`JwksVerifier::REFETCH_INTERVAL`], so a flood of made-up key
//! ids cannot turn into a flood of requests to the Torii server. Keys past their age are
//! fetched again in the background while they keep verifying, so a slow or unreachable
//! server never holds a page that carries a known key.
//!
//! What a JWT says is what held when it was issued: a session signed out or revoked on the
//! server stays valid here until the token expires, exactly as it does for the server itself.
//! Torii's cookie holds an opaque session token (a database session's, or in a JWT
//! environment the refresh session's) that reads as signed out here: use
//! [`RemoteVerifier`](super::RemoteVerifier) for cookies, and this for the short-lived JWTs a
//! page sends its backend (`use_auth().token` as `Authorization: Bearer`).

use super::{SessionState, SessionVerifier, VerifyError, VerifyFuture};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use torii_shared::SessionClaims;

/// Verifies JWT sessions offline with the Torii server's JWKS. Cheap to clone (the key
/// cache is shared).
#[derive(Clone)]
pub struct JwksVerifier {
    jwks_url: String,
    issuer: String,
    environment_id: String,
    refetch_interval: Duration,
    client: reqwest::Client,
    keys: Arc<RwLock<KeyCache>>,
    /// Serialises fetches, so concurrent misses make one request.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksVerifier")
            .field("jwks_url", &self.jwks_url)
            .field("issuer", &self.issuer)
            .field("environment_id", &self.environment_id)
            .finish_non_exhaustive()
    }
}

/// The keys last fetched, by `kid`; when they were fetched, and how the last attempt went.
#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    last_failed: bool,
}

fn within(at: Option<Instant>, age: Duration) -> bool {
    at.is_some_and(|at| at.elapsed() < age)
}

/// One key of the JWK set, as far as verification needs it.
#[derive(Deserialize)]
struct Jwk {
    kid: String,
    kty: String,
    crv: String,
    x: String,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

impl JwksVerifier {
    /// How long fetched keys are used before they are fetched again (the server serves them
    /// with `max-age=300`).
    pub const KEYS_MAX_AGE: Duration = Duration::from_secs(300);
    /// The least time between two fetches (by default; see
    /// [`JwksVerifier::refetch_interval`]).
    pub const REFETCH_INTERVAL: Duration = Duration::from_secs(2);
    /// How long one fetch may take before the state counts as unavailable.
    pub const TIMEOUT: Duration = Duration::from_secs(5);

    /// A verifier for the JWT sessions of environment `environment_id` (`env_…`) of the Torii
    /// server at `api_url`. The tokens' issuer is taken to be `api_url`'s origin; when the app
    /// reaches the server by another address than its public URL, set the public one with
    /// [`JwksVerifier::issuer`].
    ///
    /// # Errors
    /// `api_url` is not an absolute `http(s)` URL, or the HTTP client could not be built.
    pub fn new(api_url: &str, environment_id: &str) -> Result<Self, VerifyError> {
        let api_url = api_url.trim().trim_end_matches('/');
        let issuer = origin(api_url).ok_or(VerifyError::InvalidUrl)?;
        let client = reqwest::Client::builder()
            .timeout(Self::TIMEOUT)
            .build()
            .map_err(|_| VerifyError::Unreachable)?;
        Ok(Self {
            jwks_url: format!("{api_url}/.well-known/jwks.json"),
            issuer,
            environment_id: environment_id.trim().to_owned(),
            refetch_interval: Self::REFETCH_INTERVAL,
            client,
            keys: Arc::default(),
            fetching: Arc::default(),
        })
    }

    /// The least time between two fetches of the key set (default
    /// [`JwksVerifier::REFETCH_INTERVAL`]): how long a token signed by a key rotated in
    /// moments ago may read as signed out, and how often made-up key ids can cause a fetch.
    #[must_use]
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// The issuer the tokens must name: the Torii server's public URL's origin.
    #[must_use]
    pub fn issuer(mut self, public_url: &str) -> Self {
        let public_url = public_url.trim().trim_end_matches('/');
        self.issuer = origin(public_url).unwrap_or_else(|| public_url.to_owned());
        self
    }

    async fn check(&self, token: &str) -> Result<SessionState, VerifyError> {
        let Some(kid) = acceptable_kid(token) else {
            return Ok(SessionState::SignedOut);
        };
        let (known, fresh, attempted_recently, last_failed) = {
            let cache = self.keys.read().unwrap_or_else(PoisonError::into_inner);
            (
                cache.keys.contains_key(&kid),
                within(cache.fetched_at, Self::KEYS_MAX_AGE),
                within(cache.attempted_at, self.refetch_interval),
                cache.last_failed,
            )
        };
        if known && !fresh && !attempted_recently {
            // Known keys past their age still verify the tokens they signed: fetched again
            // in the background, so neither a slow nor an unreachable server holds the page.
            let verifier = self.clone();
            tokio::spawn(async move {
                let _ = verifier.refresh().await;
            });
        } else if !known && !attempted_recently {
            self.refresh().await?;
        } else if !known && last_failed {
            // The set could not be read lately: an unknown key may be a new one.
            return Err(VerifyError::Unreachable);
        }
        let cache = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let Some(key) = cache.keys.get(&kid) else {
            return Ok(SessionState::SignedOut);
        };
        Ok(
            decode(token, key, &self.issuer, &self.environment_id, unix_now())
                .map_or(SessionState::SignedOut, |claims| state_of(&claims)),
        )
    }

    /// Fetches the key set again, unless another task just tried.
    async fn refresh(&self) -> Result<(), VerifyError> {
        let started = Instant::now();
        let _one_at_a_time = self.fetching.lock().await;
        {
            let cache = self.keys.read().unwrap_or_else(PoisonError::into_inner);
            if cache.attempted_at.is_some_and(|at| at >= started) {
                return if cache.last_failed {
                    Err(VerifyError::Unreachable)
                } else {
                    Ok(())
                };
            }
        }
        let fetched = self.fetch().await;
        let mut cache = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        cache.attempted_at = Some(Instant::now());
        cache.last_failed = fetched.is_err();
        let keys = fetched?;
        cache.keys = keys;
        cache.fetched_at = cache.attempted_at;
        Ok(())
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, VerifyError> {
        let response = self
            .client
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|_| VerifyError::Unreachable)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(VerifyError::UnexpectedAnswer(status));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|_| VerifyError::Unreachable)?;
        read_key_set(&bytes).ok_or(VerifyError::UnexpectedAnswer(status))
    }
}

impl SessionVerifier for JwksVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.check(token))
    }
}

/// `scheme://host[:port]` of an absolute `http(s)` URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// The key id of a token whose header is acceptable: `EdDSA`, with a `kid`, and no header
/// pointing elsewhere for keys. `None` for anything else (not a JWT at all, for one).
fn acceptable_kid(token: &str) -> Option<String> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let points_elsewhere = header.jku.is_some()
        || header.jwk.is_some()
        || header.x5u.is_some()
        || header.x5c.is_some();
    (header.alg == Algorithm::EdDSA && !points_elsewhere)
        .then_some(header.kid)
        .flatten()
}

/// The Ed25519 keys of a JWK set, by `kid`; `None` when the body is not a JWK set. Keys of
/// other types are left out.
fn read_key_set(body: &[u8]) -> Option<HashMap<String, DecodingKey>> {
    let set: JwkSet = serde_json::from_slice(body).ok()?;
    Some(
        set.keys
            .into_iter()
            .filter(|key| key.kty == "OKP" && key.crv == "Ed25519")
            .filter_map(|key| {
                let decoding = DecodingKey::from_ed_components(&key.x).ok()?;
                Some((key.kid, decoding))
            })
            .collect(),
    )
}

/// The claims of `token` if its signature, issuer, audience and lifetime hold at `now`.
fn decode(
    token: &str,
    key: &DecodingKey,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Option<SessionClaims> {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    // Lifetime is checked below, without leeway, as the server checks it.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<SessionClaims>(token, key, &validation)
        .ok()?
        .claims;
    (claims.exp > now && claims.nbf <= now).then_some(claims)
}

fn state_of(claims: &SessionClaims) -> SessionState {
    let (user, session) = (claims.user(), claims.session());
    if session.info.is_active() {
        SessionState::Active { user, session }
    } else {
        SessionState::Pending { user, session }
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_is_the_origin_of_the_api_url() {
        assert_eq!(
            origin("https://auth.example.com/base"),
            Some("https://auth.example.com".to_owned())
        );
        assert_eq!(
            origin("http://localhost:3000"),
            Some("http://localhost:3000".to_owned())
        );
        assert_eq!(origin("auth.example.com"), None);
        assert_eq!(origin("ftp://auth.example.com"), None);
        assert_eq!(origin("https://"), None);
        assert!(matches!(
            JwksVerifier::new("not a url", "env_1"),
            Err(VerifyError::InvalidUrl)
        ));
    }

    #[test]
    fn tokens_that_are_not_eddsa_jwts_name_no_key() {
        // An opaque database-session token.
        assert_eq!(acceptable_kid("dbs_0123456789abcdef"), None);
        // `{"alg":"HS256","kid":"k1"}` with an empty payload and signature.
        assert_eq!(
            acceptable_kid("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln"),
            None
        );
        // `{"alg":"none"}`.
        assert_eq!(acceptable_kid("eyJhbGciOiJub25lIn0.e30."), None);
    }

    #[test]
    fn a_key_set_keeps_its_ed25519_keys() {
        let body = br#"{"keys":[
            {"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"RSA","kid":"k2","crv":"","x":"","n":"AQAB","e":"AQAB"}
        ]}"#;
        let keys = read_key_set(body).expect("a JWK set");
        assert!(keys.contains_key("k1"));
        assert_eq!(keys.len(), 1);
        assert!(read_key_set(b"<html>").is_none());
    }
}
