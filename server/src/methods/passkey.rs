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

use crate::ceremony::CeremonyError;
use crate::session::{new_id, sha256_hex};
use crate::store::{MethodRemoval, PasskeyRecord, SignInMethodRef, StoreError, UserRecord};
use crate::validate::FieldErrors;
use crate::{AuthenticatedSessionWithToken, ClientInfo, Environment, Torii};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::Duration;
use torii_shared::{EnvironmentMode, PasskeyInfo, PasskeyOptions};
use url::Url;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, WebauthnError,
};
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
}

impl From<CeremonyError> for PasskeyError {
    fn from(error: CeremonyError) -> Self {
        match error {
            CeremonyError::Gone => Self::CeremonyGone,
            CeremonyError::Store(e) => Self::Store(e),
        }
    }
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
    let mut value = serde_json::to_value(challenge)
        .map_err(|e| PasskeyError::Store(StoreError::Other(format!("passkey options: {e}"))))?;
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

    /// Starts registering a passkey for a signed-in user.
    ///
    /// # Errors
    /// Passkeys not enabled; a store failure.
    pub async fn start_passkey_registration(
        &self,
        env: &Environment,
        user: &UserRecord,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let rp = self.relying_party(env)?;
        let exclude = self
            .store()
            .list_passkeys(&user.id)
            .await?
            .iter()
            .filter_map(|p| URL_SAFE_NO_PAD.decode(&p.credential_id).ok())
            .collect::<Vec<_>>();
        let display_name = user.name.as_deref().unwrap_or(&user.email);
        let (challenge, state) = rp
            .webauthn
            .start_passkey_registration(
                user_handle(&user.id),
                &user.email,
                display_name,
                Some(exclude),
            )
            .map_err(|e| invalid(&e))?;
        let mut public_key = public_key_json(&challenge)?;
        // Sign-in without an email needs the credential kept on the authenticator
        // (discoverable); webauthn-rs's passkey flow only prefers it.
        if let Some(selection) = public_key
            .get_mut("authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            selection.insert("residentKey".to_owned(), "required".into());
            selection.insert("requireResidentKey".to_owned(), true.into());
        }
        let ceremony = RegistrationCeremony {
            user_id: user.id.clone(),
            state,
        };
        let ceremony_id = self
            .start_ceremony(REGISTRATION, &env.id, &ceremony, CEREMONY_TTL)
            .await?;
        Ok(PasskeyOptions {
            ceremony_id,
            public_key,
        })
    }

    /// Finishes a registration: verifies the browser's answer and stores the passkey.
    ///
    /// # Errors
    /// Unknown, used, expired or another user's ceremony; an answer that does not verify; a
    /// credential already registered; a store failure.
    pub async fn finish_passkey_registration(
        &self,
        env: &Environment,
        user: &UserRecord,
        ceremony_id: &str,
        credential: &serde_json::Value,
        name: Option<&str>,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let rp = self.relying_party(env)?;
        let name = validate_name(name)?;
        let ceremony: RegistrationCeremony = self
            .take_ceremony(REGISTRATION, &env.id, ceremony_id)
            .await?;
        if ceremony.user_id != user.id {
            return Err(PasskeyError::CeremonyGone);
        }
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        // webauthn-rs refuses the user's own (excluded) credentials with an unspecific
        // error; known ones are answered as what they are. Whoever else's credential it is,
        // the unique index refuses it below.
        let claimed_id = URL_SAFE_NO_PAD.encode(&credential.raw_id);
        if self
            .store()
            .find_passkey_by_credential_id(&env.id, &claimed_id)
            .await?
            .is_some()
        {
            return Err(PasskeyError::Taken);
        }
        let passkey = rp
            .webauthn
            .finish_passkey_registration(&credential, &ceremony.state)
            .map_err(|e| invalid(&e))?;
        let raw_id: &[u8] = passkey.cred_id().as_ref();
        if raw_id.len() > CREDENTIAL_ID_MAX_BYTES {
            return Err(PasskeyError::Invalid("credential id too long".to_owned()));
        }
        let serialised = serde_json::to_value(&passkey)
            .map_err(|e| PasskeyError::Store(StoreError::Other(format!("passkey: {e}"))))?;
        let record = PasskeyRecord {
            id: new_id("pky"),
            user_id: user.id.clone(),
            environment_id: env.id.clone(),
            credential_id: URL_SAFE_NO_PAD.encode(raw_id),
            sign_count: stored_counter(&serialised),
            credential: serialised.to_string(),
            name,
            created_at: self.now(),
            last_used_at: None,
        };
        match self.store().insert_passkey(&record).await {
            Ok(()) => {
                self.notify(
                    &env.id,
                    &user.email,
                    &crate::mail::Notice::passkey_added(&env.name, &record.name),
                );
                Ok(passkey_info(&record))
            }
            Err(StoreError::Conflict(_)) => Err(PasskeyError::Taken),
            Err(other) => Err(other.into()),
        }
    }

    /// Starts a sign-in with a discoverable passkey: no email needed.
    ///
    /// # Errors
    /// Passkeys not enabled; a store failure.
    pub async fn start_passkey_sign_in(
        &self,
        env: &Environment,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let rp = self.relying_party(env)?;
        let (challenge, state) = rp
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| invalid(&e))?;
        let public_key = public_key_json(&challenge)?;
        let ceremony_id = self
            .start_ceremony(SIGN_IN, &env.id, &state, CEREMONY_TTL)
            .await?;
        Ok(PasskeyOptions {
            ceremony_id,
            public_key,
        })
    }

    /// Finishes a sign-in: verifies the assertion, records the passkey's use, and creates a
    /// session for its owner.
    ///
    /// # Errors
    /// Unknown, used or expired ceremony; an unknown passkey; an assertion that does not
    /// verify, or whose counter went backwards; a store failure.
    pub async fn finish_passkey_sign_in(
        &self,
        env: &Environment,
        ceremony_id: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, PasskeyError> {
        let rp = self.relying_party(env)?;
        let state: DiscoverableAuthentication =
            self.take_ceremony(SIGN_IN, &env.id, ceremony_id).await?;
        let credential: PublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let (handle, raw_id) = rp
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|_| PasskeyError::Unknown)?;
        let record = self
            .store()
            .find_passkey_by_credential_id(&env.id, &URL_SAFE_NO_PAD.encode(raw_id))
            .await?
            .ok_or(PasskeyError::Unknown)?;
        if handle != user_handle(&record.user_id) {
            return Err(PasskeyError::Unknown);
        }
        let passkey: Passkey = serde_json::from_str(&record.credential)
            .map_err(|e| PasskeyError::Store(StoreError::Other(format!("passkey: {e}"))))?;
        let result = rp
            .webauthn
            .finish_discoverable_authentication_v2(&credential, state, &passkey)
            .map_err(|e| invalid(&e))?;
        self.record_verified_use(&record, &result).await?;
        let user = self
            .store()
            .get_user(&record.user_id)
            .await?
            .ok_or(PasskeyError::Unknown)?;
        Ok(self.sign_in_user(env, user, client).await?)
    }

    /// Starts a re-authentication of a signed-in user with one of their own passkeys (the
    /// challenge names every one of them and no other).
    ///
    /// # Errors
    /// Passkeys not enabled; the user has none; a store failure.
    pub async fn start_passkey_reauthentication(
        &self,
        env: &Environment,
        user_id: &str,
        session_id: &str,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let rp = self.relying_party(env)?;
        let owned = self
            .store()
            .list_passkeys(user_id)
            .await?
            .iter()
            .filter(|record| record.environment_id == env.id)
            .map(|record| {
                serde_json::from_str::<Passkey>(&record.credential)
                    .map_err(|e| PasskeyError::Store(StoreError::Other(format!("passkey: {e}"))))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if owned.is_empty() {
            return Err(PasskeyError::NoPasskeys);
        }
        let (challenge, state) = rp
            .webauthn
            .start_passkey_authentication(&owned)
            .map_err(|e| invalid(&e))?;
        let public_key = public_key_json(&challenge)?;
        let ceremony = ReauthenticationCeremony {
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            state,
        };
        let ceremony_id = self
            .start_ceremony(REAUTHENTICATION, &env.id, &ceremony, CEREMONY_TTL)
            .await?;
        Ok(PasskeyOptions {
            ceremony_id,
            public_key,
        })
    }

    /// Verifies a re-authentication's assertion: the ceremony must be this session's, the
    /// credential one of this user's passkeys, and the signature, challenge, origin, user
    /// verification and counter right. The passkey's use is recorded as a sign-in's is.
    ///
    /// # Errors
    /// Unknown, used, expired or another session's ceremony; a credential that is unknown or
    /// another user's; an assertion that does not verify; a store failure.
    pub async fn verify_passkey_reauthentication(
        &self,
        env: &Environment,
        user_id: &str,
        session_id: &str,
        ceremony_id: &str,
        credential: &serde_json::Value,
    ) -> Result<(), PasskeyError> {
        let rp = self.relying_party(env)?;
        let ceremony: ReauthenticationCeremony = self
            .take_ceremony(REAUTHENTICATION, &env.id, ceremony_id)
            .await?;
        if ceremony.user_id != user_id || ceremony.session_id != session_id {
            return Err(PasskeyError::CeremonyGone);
        }
        let credential: PublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let record = self
            .store()
            .find_passkey_by_credential_id(&env.id, &URL_SAFE_NO_PAD.encode(&credential.raw_id))
            .await?
            .ok_or(PasskeyError::Unknown)?;
        if record.user_id != user_id {
            return Err(PasskeyError::NotYours);
        }
        // Only the credentials named in the challenge (this user's) verify.
        let result = rp
            .webauthn
            .finish_passkey_authentication(&credential, &ceremony.state)
            .map_err(|e| invalid(&e))?;
        self.record_verified_use(&record, &result).await
    }

    /// After a verified assertion: the user was verified, and the stored credential moves on
    /// (counter, backup state) in one statement that refuses a counter going backwards.
    async fn record_verified_use(
        &self,
        record: &PasskeyRecord,
        result: &AuthenticationResult,
    ) -> Result<(), PasskeyError> {
        if !result.user_verified() {
            return Err(PasskeyError::Invalid("user not verified".to_owned()));
        }
        let mut passkey: Passkey = serde_json::from_str(&record.credential)
            .map_err(|e| PasskeyError::Store(StoreError::Other(format!("passkey: {e}"))))?;
        passkey.update_credential(result);
        let serialised = serde_json::to_value(&passkey)
            .map_err(|e| PasskeyError::Store(StoreError::Other(format!("passkey: {e}"))))?;
        let recorded = self
            .store()
            .record_passkey_use(
                &record.id,
                &serialised.to_string(),
                result.counter(),
                self.now(),
            )
            .await?;
        if recorded {
            Ok(())
        } else {
            Err(PasskeyError::CounterRegressed)
        }
    }

    /// The user's passkeys, oldest first.
    ///
    /// # Errors
    /// A store failure.
    pub async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyInfo>, PasskeyError> {
        Ok(self
            .store()
            .list_passkeys(user_id)
            .await?
            .iter()
            .map(passkey_info)
            .collect())
    }

    /// Renames one of the user's passkeys.
    ///
    /// # Errors
    /// An invalid name; no such passkey; a store failure.
    pub async fn rename_passkey(
        &self,
        user_id: &str,
        id: &str,
        name: &str,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let name = validate_name(Some(name))?;
        if !self.store().rename_passkey(user_id, id, &name).await? {
            return Err(PasskeyError::NotFound);
        }
        self.store()
            .list_passkeys(user_id)
            .await?
            .iter()
            .find(|p| p.id == id)
            .map(passkey_info)
            .ok_or(PasskeyError::NotFound)
    }

    /// Deletes one of the user's passkeys, unless it is their last way to sign in.
    ///
    /// # Errors
    /// No such passkey; the last way to sign in; a store failure.
    pub async fn delete_passkey(&self, user_id: &str, id: &str) -> Result<(), PasskeyError> {
        match self
            .store()
            .remove_sign_in_method(user_id, SignInMethodRef::Passkey(id))
            .await?
        {
            MethodRemoval::Removed => Ok(()),
            MethodRemoval::NotFound => Err(PasskeyError::NotFound),
            MethodRemoval::LastMethod => Err(PasskeyError::LastMethod),
        }
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
