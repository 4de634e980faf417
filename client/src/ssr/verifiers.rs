//! The verifiers that ask a Torii server: a separate one over HTTP with the secret key, or
//! one in the same process.

use super::{SessionState, SessionVerifier, VerifyError, VerifyFuture};
use axum::http::header;
use std::fmt;
use std::time::Duration;
use torii_shared::{ErrorBody, ErrorCode, Me};

/// Verifies sessions with a separate `torii-server`: `POST {api_url}/v1/admin/sessions/verify`
/// with the environment's secret key (`sk_…`, which never leaves the app's server).
#[derive(Clone)]
pub struct RemoteVerifier {
    verify_url: String,
    authorization: String,
    client: reqwest::Client,
}

impl fmt::Debug for RemoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteVerifier")
            .field("verify_url", &self.verify_url)
            .field("secret_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl RemoteVerifier {
    /// How long one verification may take before the state counts as unavailable.
    pub const TIMEOUT: Duration = Duration::from_secs(5);

    /// A verifier for the Torii server at `api_url` (e.g. `https://auth.example.com`).
    ///
    /// # Errors
    /// The HTTP client could not be built.
    pub fn new(api_url: &str, secret_key: &str) -> Result<Self, VerifyError> {
        let client = reqwest::Client::builder()
            .timeout(Self::TIMEOUT)
            .build()
            .map_err(|_| VerifyError::Unreachable)?;
        Ok(Self {
            verify_url: format!(
                "{}/v1/admin/sessions/verify",
                api_url.trim().trim_end_matches('/')
            ),
            authorization: format!("Bearer {}", secret_key.trim()),
            client,
        })
    }

    async fn ask(&self, token: &str) -> Result<SessionState, VerifyError> {
        let body = serde_json::json!({ "token": token }).to_string();
        let response = self
            .client
            .post(&self.verify_url)
            .header(header::AUTHORIZATION, &self.authorization)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|_| VerifyError::Unreachable)?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|_| VerifyError::Unreachable)?;
        interpret_verify_answer(status, &bytes)
    }
}

impl SessionVerifier for RemoteVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.ask(token))
    }
}

/// Reads the answer of `POST /v1/admin/sessions/verify`: 200 with `Me`, 401 `unauthenticated`
/// (no live session: signed out), or a refusal of the key.
pub(super) fn interpret_verify_answer(
    status: u16,
    body: &[u8],
) -> Result<SessionState, VerifyError> {
    match status {
        200 => serde_json::from_slice::<Me>(body)
            .map(SessionState::from_me)
            .map_err(|_| VerifyError::UnexpectedAnswer(status)),
        401 | 403 => {
            let code = serde_json::from_slice::<ErrorBody>(body)
                .map(|body| body.error.code)
                .map_err(|_| VerifyError::UnexpectedAnswer(status))?;
            if code == ErrorCode::Unauthenticated {
                Ok(SessionState::SignedOut)
            } else {
                Err(VerifyError::SecretKeyRefused)
            }
        }
        _ => Err(VerifyError::UnexpectedAnswer(status)),
    }
}

/// Verifies sessions with a `Torii` instance in this process: the app that mounts Torii's
/// router (`torii_server::router`) in its own axum app, on the same origin and cookie.
#[cfg(feature = "server")]
#[derive(Debug, Clone)]
pub struct InProcessVerifier {
    torii: torii_server::Torii,
    publishable_key: Option<String>,
}

#[cfg(feature = "server")]
impl InProcessVerifier {
    /// Sessions of the environment `publishable_key` names (`None`: the only one).
    #[must_use]
    pub fn new(torii: torii_server::Torii, publishable_key: Option<&str>) -> Self {
        Self {
            torii,
            publishable_key: publishable_key.map(str::to_owned),
        }
    }

    async fn ask(&self, token: &str) -> Result<SessionState, VerifyError> {
        let env = self
            .torii
            .environment_for(self.publishable_key.as_deref())
            .ok_or(VerifyError::UnknownEnvironment)?;
        let token = torii_server::session::SessionToken::from_client(token);
        let found = self
            .torii
            .authenticate(env, &token)
            .await
            .map_err(|_| VerifyError::StoreUnavailable)?;
        Ok(found.map_or(SessionState::SignedOut, |found| {
            SessionState::from_me(found.me())
        }))
    }
}

#[cfg(feature = "server")]
impl SessionVerifier for InProcessVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.ask(token))
    }
}
