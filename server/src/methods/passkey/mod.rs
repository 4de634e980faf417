//! Passkeys (WebAuthn) through webauthn-rs's passkey flow: user verification required,
//! discoverable credentials (resident keys) so that sign-in needs no email.
//!
//! Ceremonies, each two requests whose state is kept in the store (see [`crate::ceremony`]):
//! - *Registration* (a signed-in user): `options` excludes the user's existing credentials
//!   and keeps webauthn-rs's `PasskeyRegistration` with the user's id; `finish` takes it back
//!   (once, within 5 minutes, only for that user), verifies the browser's answer and stores
//!   the passkey. A credential id already registered, to anyone, is refused.
//! - *Sign-in*: `options` starts a discoverable authentication (no user known yet);
//!   `finish` takes the state back, finds the passkey by the credential id the browser
//!   answered with, checks that the user handle is that passkey's owner's, verifies, then
//!   stores the updated credential (counter, backup state) in one statement that refuses a
//!   counter going backwards, and only then creates the session.
//! - *Re-authentication* (a signed-in user proving who they are again): `options` allows
//!   only the user's own credentials and keeps webauthn-rs's `PasskeyAuthentication` with the
//!   user's and the session's ids; `finish` takes it back (once, within 5 minutes, only for
//!   that session), checks that the credential is one of the user's, verifies it and records
//!   its use as a sign-in does. Making the session's sign-in recent is the caller's
//!   ([`crate::account`]).

mod flows;

use crate::ceremony::CeremonyError;
use crate::error::internal::{InternalError, InternalSource};
use crate::session::sha256_hex;
use crate::store::{PasskeyRecord, StoreError};
use crate::validate::FieldErrors;
use crate::{Environment, Torii};
use serde::{Deserialize, Serialize};
use time::Duration;
use torii_shared::{EnvironmentMode, PasskeyInfo};
use url::Url;
use webauthn_rs::prelude::{PasskeyAuthentication, PasskeyRegistration, Uuid, WebauthnError};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long a ceremony may take, from its options to its finish.
pub const CEREMONY_TTL: Duration = Duration::minutes(5);
/// The name a passkey gets when none is given.
pub const DEFAULT_NAME: &str = "Passkey";
/// Longest passkey name, in characters.
pub const NAME_MAX_CHARS: usize = 64;
/// Longest credential id WebAuthn allows, in bytes.
const CREDENTIAL_ID_MAX_BYTES: usize = 1023;

const REGISTRATION: &str = "passkey_registration";
const SIGN_IN: &str = "passkey_sign_in";
const REAUTHENTICATION: &str = "passkey_reauthentication";

/// Why a passkey operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The environment does not offer passkeys.
    #[error("passkeys are not enabled")]
    NotEnabled,
    /// The ceremony id is unknown, used, expired, or not this user's.
    #[error("the ceremony is unknown, used or expired")]
    CeremonyGone,
    /// The browser's answer is not a credential of the expected shape.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// The answer did not verify (origin, rp id, challenge, signature, user verification).
    #[error("the passkey did not verify: {0}")]
    Invalid(String),
    /// The signature counter did not move forward: a cloned authenticator, or a replay.
    #[error("the passkey's counter went backwards")]
    CounterRegressed,
    /// No passkey with this credential id is registered in the environment.
    #[error("unknown passkey")]
    Unknown,
    /// The credential id is already registered.
    #[error("passkey already registered")]
    Taken,
    /// The signed-in user has no such passkey.
    #[error("passkey not found")]
    NotFound,
    /// The signed-in user has no passkey at all (to re-authenticate with).
    #[error("no passkeys")]
    NoPasskeys,
    /// The credential is registered, but to another user than the signed-in one.
    #[error("another user's passkey")]
    NotYours,
    /// Deleting it would leave the account without a way to sign in.
    #[error("last way to sign in")]
    LastMethod,
    /// The name is not acceptable.
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A failure that is nobody's input (webauthn-rs state that does not serialise).
    #[error(transparent)]
    Internal(#[from] InternalError),
    /// Signing the user in failed in a way that is not only the store's (a JWT that could
    /// not be signed).
    #[error(transparent)]
    Session(crate::session::SessionError),
}

impl From<crate::session::SessionError> for PasskeyError {
    fn from(error: crate::session::SessionError) -> Self {
        match error {
            crate::session::SessionError::Store(e) => Self::Store(e),
            other => Self::Session(other),
        }
    }
}

impl From<CeremonyError> for PasskeyError {
    fn from(error: CeremonyError) -> Self {
        match error {
            CeremonyError::Gone => Self::CeremonyGone,
            CeremonyError::Store(e) => Self::Store(e),
            CeremonyError::Internal(e) => Self::Internal(e),
        }
    }
}

/// webauthn-rs state (`what`) that could not be written or read as JSON.
fn webauthn_state(what: &str, cause: &serde_json::Error) -> PasskeyError {
    PasskeyError::Internal(InternalError::new(
        InternalSource::WebAuthn,
        format_args!("{what}: {cause}"),
    ))
}

fn invalid(error: &WebauthnError) -> PasskeyError {
    match error {
        WebauthnError::CredentialPossibleCompromise => PasskeyError::CounterRegressed,
        other => PasskeyError::Invalid(other.to_string()),
    }
}

/// What a registration keeps between its two requests.
#[derive(Serialize, Deserialize)]
struct RegistrationCeremony {
    user_id: String,
    state: PasskeyRegistration,
}

/// What a re-authentication keeps between its two requests.
#[derive(Serialize, Deserialize)]
struct ReauthenticationCeremony {
    user_id: String,
    session_id: String,
    state: PasskeyAuthentication,
}

/// The relying party of one environment, ready to run ceremonies.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    webauthn: Webauthn,
}

/// Why an environment's relying party could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("environment {environment}: passkeys: {message}")]
pub struct RelyingPartyError {
    environment: String,
    message: String,
}

impl RelyingParty {
    /// The relying party of `env`, its unset values derived from `public_url` (see
    /// [`crate::environment::PasskeySettings`]).
    ///
    /// # Errors
    /// No usable origin, an http origin in live mode, or an rp id that is not the origins'
    /// host or a parent of it (an IP address never is).
    pub fn new(env: &Environment, public_url: &Url) -> Result<Self, RelyingPartyError> {
        let error = |message: String| RelyingPartyError {
            environment: env.name.clone(),
            message,
        };
        let origins = if env.passkeys.origins.is_empty() {
            &env.allowed_origins
        } else {
            &env.passkeys.origins
        };
        let origins = origins
            .iter()
            .filter(|o| env.mode == EnvironmentMode::Test || o.starts_with("https://"))
            .map(|o| Url::parse(o).map_err(|e| error(format!("origin `{o}`: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let Some((first, rest)) = origins.split_first() else {
            return Err(error(
                "no https origin to accept ceremonies from".to_owned(),
            ));
        };
        let rp_id = match &env.passkeys.rp_id {
            Some(id) => id.clone(),
            None => public_url
                .domain()
                .ok_or_else(|| {
                    error(format!(
                        "the public URL {public_url} has no domain name to use as the \
                         relying-party id; set passkeys.rp_id"
                    ))
                })?
                .to_owned(),
        };
        let rp_name = env.passkeys.rp_name.as_deref().unwrap_or(&env.name);
        let mut builder = WebauthnBuilder::new(&rp_id, first)
            .map_err(|e| error(format!("rp id `{rp_id}` does not fit origin {first}: {e}")))?
            .rp_name(rp_name);
        for origin in rest {
            // Every origin must be on the rp id's domain, or the browser refuses anyway.
            WebauthnBuilder::new(&rp_id, origin)
                .map_err(|e| error(format!("rp id `{rp_id}` does not fit origin {origin}: {e}")))?;
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|e| error(format!("invalid configuration: {e}")))?;
        Ok(Self { webauthn })
    }
}

/// The opaque user handle authenticators keep with a discoverable credential: derived from
/// the user id, so it needs no column and says nothing about the user.
fn user_handle(user_id: &str) -> Uuid {
    let digest = sha256_hex(format!("torii-passkey-user:{user_id}").as_bytes());
    let mut bytes = [0_u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digest.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0);
    }
    Uuid::from_bytes(bytes)
}

/// The API form of a stored passkey.
#[must_use]
pub fn passkey_info(record: &PasskeyRecord) -> PasskeyInfo {
    PasskeyInfo {
        id: record.id.clone(),
        name: record.name.clone(),
        created_at: record.created_at,
        last_used_at: record.last_used_at,
    }
}

fn validate_name(name: Option<&str>) -> Result<String, PasskeyError> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match name {
        None => Ok(DEFAULT_NAME.to_owned()),
        Some(name)
            if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) =>
        {
            Err(PasskeyError::Validation(FieldErrors::from([(
                "name".to_owned(),
                format!("Use at most {NAME_MAX_CHARS} characters."),
            )])))
        }
        Some(name) => Ok(name.to_owned()),
    }
}

/// The `publicKey` member of webauthn-rs's challenge, as JSON.
fn public_key_json(challenge: &impl Serialize) -> Result<serde_json::Value, PasskeyError> {
    let mut value =
        serde_json::to_value(challenge).map_err(|e| webauthn_state("passkey options", &e))?;
    Ok(value
        .get_mut("publicKey")
        .map(serde_json::Value::take)
        .unwrap_or_default())
}

/// The counter inside a serialised passkey (webauthn-rs keeps it private).
fn stored_counter(credential: &serde_json::Value) -> u32 {
    credential
        .pointer("/cred/counter")
        .and_then(serde_json::Value::as_u64)
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(0)
}

impl Torii {
    fn relying_party(&self, env: &Environment) -> Result<&RelyingParty, PasskeyError> {
        self.passkey_relying_party(&env.id)
            .ok_or(PasskeyError::NotEnabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_are_stable_and_distinct() {
        assert_eq!(user_handle("usr_a"), user_handle("usr_a"));
        assert_ne!(user_handle("usr_a"), user_handle("usr_b"));
    }

    #[test]
    fn names_default_and_are_bounded() {
        assert_eq!(validate_name(None).unwrap(), DEFAULT_NAME);
        assert_eq!(validate_name(Some("  ")).unwrap(), DEFAULT_NAME);
        assert_eq!(validate_name(Some(" Laptop ")).unwrap(), "Laptop");
        assert!(validate_name(Some(&"x".repeat(NAME_MAX_CHARS + 1))).is_err());
        assert!(validate_name(Some("a\nb")).is_err());
    }

    #[test]
    fn relying_party_defaults_to_localhost_and_the_allowed_origins() {
        let mut env = Environment::new_test("env_1", "Demo", "pk_test_1", "sk_test_1");
        env.allowed_origins = vec!["http://localhost:3000".to_owned()];
        let public = Url::parse("http://localhost:3000").unwrap();
        assert!(RelyingParty::new(&env, &public).is_ok());
        let ip = Url::parse("http://127.0.0.1:3000").unwrap();
        assert!(RelyingParty::new(&env, &ip).is_err(), "an IP is no rp id");
        env.passkeys.rp_id = Some("example.com".to_owned());
        assert!(
            RelyingParty::new(&env, &public).is_err(),
            "rp id of another site"
        );
    }

    #[test]
    fn live_mode_uses_https_origins_only() {
        let mut env = Environment::new_test("env_1", "Demo", "pk_live_1", "sk_live_1");
        env.mode = EnvironmentMode::Live;
        env.allowed_origins = vec!["http://app.example.com".to_owned()];
        let public = Url::parse("https://app.example.com").unwrap();
        assert!(RelyingParty::new(&env, &public).is_err());
        env.allowed_origins = vec!["https://app.example.com".to_owned()];
        env.passkeys.rp_id = Some("example.com".to_owned());
        assert!(RelyingParty::new(&env, &public).is_ok());
    }
}
