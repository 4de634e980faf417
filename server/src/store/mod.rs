//! The storage contract. Everything that must survive a restart or be shared between server
//! nodes goes through a [`Store`]: users, credentials, sessions, pending sign-ups, and the
//! environments the server created itself. Backends live one per file.
//!
//! Single-use and counted operations are single atomic statements here (a conditional
//! `UPDATE` checked by rows affected, a `DELETE` inside the transaction that consumes), never
//! read-then-write in the caller, so that concurrent requests on any number of nodes cannot
//! both win.

mod sql;
pub(crate) use sql::MAX_LOOKUP_BATCH;

pub use sql::{ACQUIRE_TIMEOUT, MySqlStore, PostgresStore, SqliteStore};

use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool timeout).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness constraint was violated; the string names the constraint or column.
    #[error("conflict on {0}")]
    Conflict(String),
    /// Any other database failure.
    #[error("store failure: {0}")]
    Other(String),
}

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// `usr_…`
    pub id: String,
    /// Environment the user belongs to.
    pub environment_id: String,
    /// Email as the user typed it (trimmed).
    pub email: String,
    /// Canonical form used for uniqueness and lookups.
    pub email_canonical: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// The Terms version the user accepted, when the environment versions its Terms.
    pub legal_version: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last update.
    pub updated_at: OffsetDateTime,
}

/// A session row. The token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// `ses_…`
    pub id: String,
    /// Environment the session belongs to.
    pub environment_id: String,
    /// Owner.
    pub user_id: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Last time a request used it (written at most once a minute).
    pub last_active_at: OffsetDateTime,
    /// When the user last proved who they are on this session: its sign-in, or a later
    /// re-authentication. Sensitive account changes ask for a recent one.
    pub authenticated_at: OffsetDateTime,
    /// Client user agent at creation.
    pub user_agent: Option<String>,
    /// Client IP at creation.
    pub ip: Option<String>,
}

/// A pending sign-up: everything the user entered, waiting for the emailed code.
#[derive(Clone, PartialEq, Eq)]
pub struct SignUpRecord {
    /// `sgu_…`
    pub id: String,
    /// Environment.
    pub environment_id: String,
    /// Email as typed (trimmed).
    pub email: String,
    /// Canonical email.
    pub email_canonical: String,
    /// Display name.
    pub name: Option<String>,
    /// argon2id PHC string of the chosen password.
    pub password_hash: Option<String>,
    /// When consent was given, if the environment asks for it.
    pub legal_accepted_at: Option<OffsetDateTime>,
    /// The Terms version consented to, when the environment versions its Terms.
    pub legal_version: Option<String>,
    /// Hash of the current code.
    pub code_hash: String,
    /// When the current code stops working.
    pub code_expires_at: OffsetDateTime,
    /// Tries used in this sign-up, across every code sent for it.
    pub attempts: u32,
    /// Earliest time a resend is accepted.
    pub resend_available_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Debug for SignUpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpRecord")
            .field("id", &self.id)
            .field("environment_id", &self.environment_id)
            .field("email", &self.email)
            .field("attempts", &self.attempts)
            .field("code_expires_at", &self.code_expires_at)
            .finish_non_exhaustive()
    }
}

/// An environment the server created and keeps in the store.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredEnvironment {
    /// `env_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// `test` or `live`.
    pub mode: String,
    /// `pk_test_…` / `pk_live_…`.
    pub publishable_key: String,
    /// SHA-256 of the secret key; the key itself is shown once, at creation.
    pub secret_key_hash: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Debug for StoredEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEnvironment")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("mode", &self.mode)
            .field("publishable_key", &self.publishable_key)
            .finish_non_exhaustive()
    }
}

/// What a code attempt may do, decided atomically by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptReservation {
    /// The attempt is counted; this is how many have been used, this one included.
    Reserved(u32),
    /// No such pending sign-up.
    NotFound,
    /// The code expired (the ceremony has tries left: a resend brings a new code).
    Expired,
    /// The ceremony's tries are used up: no code of it will ever be accepted.
    Exhausted,
}

/// What storing a new code for a ceremony did, decided atomically by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSend {
    /// The code is stored; the ceremony's count of tries is unchanged.
    Sent,
    /// The previous code's resend cooldown runs until then; nothing changed.
    Cooldown(OffsetDateTime),
    /// The ceremony's tries are used up; nothing changed.
    Exhausted,
    /// No such ceremony.
    NotFound,
}

/// The result of finishing a sign-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompleteSignUp {
    /// The user and session were created.
    Created(UserRecord),
    /// Another request finished (or removed) this sign-up first.
    AlreadyConsumed,
    /// An account with this email exists now.
    EmailTaken,
}

/// What a gate is required on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateTarget<'a> {
    /// A user: every session of theirs, present and future.
    User(&'a str),
    /// One session alone.
    Session(&'a str),
}

/// A required gate as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRecord {
    /// The gate key's wire form.
    pub key: String,
    /// When it was required (orders application-defined gates).
    pub created_at: OffsetDateTime,
}

/// A code sent to a signed-in user's address for one purpose (one live code per purpose).
#[derive(Clone, PartialEq, Eq)]
pub struct UserCodeRecord {
    /// `cod_…`
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// What the code is for, e.g. `email_verification`.
    pub purpose: String,
    /// The address the code was sent to when it is not the user's own (an email change's
    /// new address).
    pub target: Option<String>,
    /// Hash of the code.
    pub code_hash: String,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Tries used in this ceremony, across every code sent in it.
    pub attempts: u32,
    /// Earliest time a replacement is accepted.
    pub resend_available_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When the ceremony ends: until then a new code for the same user and purpose keeps the
    /// count of tries; after it a new ceremony starts from zero.
    pub ceremony_expires_at: OffsetDateTime,
}

impl Debug for UserCodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCodeRecord")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// A sign-in link; the token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicLinkRecord {
    /// `mlk_…`
    pub id: String,
    /// Environment.
    pub environment_id: String,
    /// Who it signs in.
    pub user_id: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Where to send the browser afterwards (already checked against the allow-list).
    pub redirect_url: Option<String>,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A JWT signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtKeyRecord {
    /// Key id, in every token's header.
    pub kid: String,
    /// The environment whose tokens it signs and verifies; no other.
    pub environment_id: String,
    /// PKCS#8 DER of the Ed25519 private key, sealed under the server key (see
    /// [`crate::secret_key::ServerKey::seal`]) with the key id and environment as associated
    /// data; empty once the key is retired.
    pub private_key: String,
    /// The raw public key, base64url (the JWK `x`).
    pub public_key: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When it stopped signing.
    pub retired_at: Option<OffsetDateTime>,
}

impl Debug for JwtKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeyRecord")
            .field("kid", &self.kid)
            .field("environment_id", &self.environment_id)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// The state of a multi-step ceremony (an OAuth redirect, a WebAuthn challenge) between its
/// start and its finish. The ceremony id is handed to the client; only its hash is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// SHA-256 of the ceremony id, hex.
    pub id_hash: String,
    /// What the ceremony is, e.g. `oauth` or `passkey_sign_in`; a ceremony is only ever
    /// taken back by the kind that made it.
    pub kind: String,
    /// Environment.
    pub environment_id: String,
    /// The method's own state, serialised (JSON).
    pub payload: String,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Debug for CeremonyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CeremonyRecord")
            .field("kind", &self.kind)
            .field("environment_id", &self.environment_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An account at an OAuth / OpenID Connect provider, linked to a user. Keyed by the provider's
/// subject within an environment, never by email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthIdentityRecord {
    /// `oid_…`
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Environment.
    pub environment_id: String,
    /// The provider's id in the environment's configuration, e.g. `google`.
    pub provider: String,
    /// The provider's stable id for the account (`sub`, GitHub's numeric id).
    pub subject: String,
    /// The email the provider gave when the account was linked, for display.
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: OffsetDateTime,
}

/// What [`Store::prove_email`] removed from an account whose address was not verified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimedMethods {
    /// The provider identities that were linked.
    pub identities: Vec<OAuthIdentityRecord>,
    /// The passkeys that were registered.
    pub passkeys: Vec<PasskeyRecord>,
    /// How many sessions were revoked.
    pub sessions: u64,
}

impl ClaimedMethods {
    /// Whether anything but sessions was removed.
    #[must_use]
    pub fn removed_sign_in_methods(&self) -> bool {
        !self.identities.is_empty() || !self.passkeys.is_empty()
    }
}

/// The result of creating a user who signed up through a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOAuthUser {
    /// The user, their identity and the session were created.
    Created,
    /// An account with this email exists (created meanwhile).
    EmailTaken,
    /// This provider account is linked already (another request won).
    IdentityTaken,
}

/// One of a user's sign-in methods, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethodRef<'a> {
    /// A passkey (`pky_…`).
    Passkey(&'a str),
    /// A linked provider account (`oid_…`).
    OAuthIdentity(&'a str),
}

/// The result of removing a sign-in method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodRemoval {
    /// Removed.
    Removed,
    /// The user has no such method.
    NotFound,
    /// It is the user's last way to sign in; kept.
    LastMethod,
}

/// The verdict on an attempt under a growing delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// Counted: this many failures now stand against the bucket, this one included.
    Counted(u32),
    /// Not counted: the bucket waits until then.
    Wait(OffsetDateTime),
}

/// A passkey (WebAuthn credential) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// `pky_…`
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Environment of the owner.
    pub environment_id: String,
    /// The credential id, base64url without padding; unique across every user.
    pub credential_id: String,
    /// webauthn-rs's serialised `Passkey` (public key, counter, backup state), JSON.
    pub credential: String,
    /// The signature counter last seen, repeated out of `credential` for the atomic update.
    pub sign_count: u32,
    /// What the user calls it.
    pub name: String,
    /// Registration time.
    pub created_at: OffsetDateTime,
    /// Last sign-in with it.
    pub last_used_at: Option<OffsetDateTime>,
}

/// The storage contract every backend implements.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// Applies embedded migrations; a no-op on an up-to-date database, an error on one
    /// migrated by a newer version.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Cheap round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Environments the server created itself.
    async fn list_environments(&self) -> Result<Vec<StoredEnvironment>, StoreError>;
    /// Keeps a server-created environment.
    async fn insert_environment(&self, env: &StoredEnvironment) -> Result<(), StoreError>;

    /// A user by canonical email within an environment.
    async fn find_user_by_email(
        &self,
        environment_id: &str,
        email_canonical: &str,
    ) -> Result<Option<UserRecord>, StoreError>;
    /// A user by id.
    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Creates a user directly (secret-key API), with an optional password hash.
    async fn insert_user(
        &self,
        user: &UserRecord,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Records the Terms version a user accepted.
    async fn set_legal_version(
        &self,
        user_id: &str,
        version: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Marks a user's email verified.
    async fn set_email_verified(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// The first proof that someone controls a user's address (a password-reset code, a
    /// sign-in link): marks it verified and, in the same transaction, removes every linked
    /// provider identity, passkey and session of the user and the user's
    /// `email_verification` gate. Whatever was added while the address was unverified may be
    /// a squatter's, and the address's owner is the one who has now shown up. `None` when the
    /// address was verified already: nothing is removed, and of concurrent proofs exactly
    /// one gets `Some`.
    async fn prove_email(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ClaimedMethods>, StoreError>;

    /// Stores a new code for a user and purpose (atomically). Within a live ceremony the code
    /// replaces the current one (keeping the count of tries and the ceremony's end) only when
    /// its resend cooldown has passed and fewer than `max_attempts` tries were used; once the
    /// ceremony has ended, `code` starts a new one. Never [`CodeSend::NotFound`].
    async fn put_user_code(
        &self,
        code: &UserCodeRecord,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<CodeSend, StoreError>;
    /// The live code of a user for a purpose.
    async fn get_user_code(
        &self,
        user_id: &str,
        purpose: &str,
    ) -> Result<Option<UserCodeRecord>, StoreError>;
    /// Atomically counts one try on a live code whose ceremony has tries left.
    async fn reserve_user_code_attempt(
        &self,
        id: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<AttemptReservation, StoreError>;
    /// Consumes a code; exactly one concurrent caller gets true.
    async fn consume_user_code(&self, id: &str) -> Result<bool, StoreError>;

    /// Sets (or replaces) a user's password hash.
    async fn set_password(
        &self,
        user_id: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Revokes every session of a user; returns how many.
    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError>;

    /// Stores a sign-in link, invalidating the user's older ones in the same transaction.
    async fn insert_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError>;
    /// A link by token hash, without consuming it (the landing page's check).
    async fn find_magic_link(
        &self,
        token_hash: &str,
    ) -> Result<Option<MagicLinkRecord>, StoreError>;
    /// Consumes a live link by token hash: exactly one concurrent caller gets it; used,
    /// expired and unknown links are all `None`.
    async fn consume_magic_link(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<MagicLinkRecord>, StoreError>;

    /// Stores the state of a ceremony that has just started.
    async fn insert_ceremony(&self, ceremony: &CeremonyRecord) -> Result<(), StoreError>;
    /// Takes a ceremony back, consuming it: exactly one concurrent caller gets it, and only
    /// when it is of `kind`, in `environment_id` and not expired. Anything else is `None`
    /// (and a ceremony of another kind is left alone).
    async fn take_ceremony(
        &self,
        kind: &str,
        environment_id: &str,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<CeremonyRecord>, StoreError>;
    /// Removes ceremonies that expired before `before`.
    async fn purge_ceremonies(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

    /// Every JWT signing key, oldest first.
    async fn list_jwt_keys(&self) -> Result<Vec<JwtKeyRecord>, StoreError>;
    /// Adds a signing key and retires every other one of its environment (erasing their
    /// private halves), in one transaction.
    async fn rotate_jwt_key(&self, key: &JwtKeyRecord) -> Result<(), StoreError>;

    /// Counts one hit on a rate-limit bucket and returns the hits in its current window
    /// (this one included) and when that window started. Every hit is counted exactly once,
    /// whatever the concurrency, so a limit checked on the returned count cannot be slipped.
    async fn hit_rate_limit(
        &self,
        bucket: &str,
        window: time::Duration,
        now: OffsetDateTime,
    ) -> Result<(u32, OffsetDateTime), StoreError>;

    /// Counts one attempt on a failed-attempt bucket, unless the bucket is waiting out a
    /// delay. A counted attempt is judged a failure until [`Store::clear_attempts`] says
    /// otherwise, and sets the next allowed time to `now + delay_after(failures)`. Failures
    /// are forgotten when the last attempt was at or before `forget_before`. Concurrent
    /// attempts are serialised on the bucket, so none slips past a delay another one set.
    async fn reserve_attempt(
        &self,
        bucket: &str,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
        delay_after: &(dyn Fn(u32) -> time::Duration + Sync),
    ) -> Result<AttemptVerdict, StoreError>;
    /// Forgets a bucket's failures (the attempt succeeded).
    async fn clear_attempts(&self, bucket: &str) -> Result<(), StoreError>;
    /// Removes rate-limit windows that started before `windows_before` and failed-attempt
    /// buckets last used before `attempts_before`.
    async fn purge_counters(
        &self,
        windows_before: OffsetDateTime,
        attempts_before: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// Deletes a user; their password, sessions and other rows go with them. False when
    /// there was no such user.
    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError>;
    /// The user's password hash, when they have a password.
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError>;

    /// Stores a new pending sign-up.
    async fn insert_sign_up(&self, sign_up: &SignUpRecord) -> Result<(), StoreError>;
    /// A pending sign-up by id within an environment.
    async fn get_sign_up(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<SignUpRecord>, StoreError>;
    /// Atomically counts one try on the current code, if it is alive and the sign-up has
    /// tries left (counted across every code it was sent).
    async fn reserve_sign_up_attempt(
        &self,
        id: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<AttemptReservation, StoreError>;
    /// Atomically replaces the code when the resend cooldown has passed and fewer than
    /// `max_attempts` tries were used; the count of tries is kept.
    async fn replace_sign_up_code(
        &self,
        id: &str,
        code_hash: &str,
        code_expires_at: OffsetDateTime,
        resend_available_at: OffsetDateTime,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<CodeSend, StoreError>;
    /// In one transaction: consumes the sign-up, creates the user (with its password, if any)
    /// and the session. Exactly one concurrent caller gets [`CompleteSignUp::Created`].
    async fn complete_sign_up(
        &self,
        sign_up_id: &str,
        user: &UserRecord,
        password_hash: Option<&str>,
        session: &SessionRecord,
    ) -> Result<CompleteSignUp, StoreError>;
    /// Removes pending sign-ups created before `before`.
    async fn purge_sign_ups(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

    /// The identity a provider's subject names in an environment.
    async fn find_oauth_identity(
        &self,
        environment_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OAuthIdentityRecord>, StoreError>;
    /// A user's linked identities, oldest first.
    async fn list_oauth_identities(
        &self,
        user_id: &str,
    ) -> Result<Vec<OAuthIdentityRecord>, StoreError>;
    /// Links an identity to an existing user; [`StoreError::Conflict`] when that provider
    /// account is linked already.
    async fn insert_oauth_identity(&self, identity: &OAuthIdentityRecord)
    -> Result<(), StoreError>;
    /// In one transaction: creates the user, links the identity and stores the session.
    async fn create_oauth_user(
        &self,
        user: &UserRecord,
        identity: &OAuthIdentityRecord,
        session: &SessionRecord,
    ) -> Result<CreateOAuthUser, StoreError>;

    /// Stores a new session.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// A session and its user by token hash, in one query.
    async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
    /// [`Store::session_by_token_hash`] plus whether any gate is stored on the session or its
    /// user, still in one round trip, so that a request on a session without gates (the common
    /// case) needs no second query. The default answers `true` (look the gates up).
    async fn session_for_request(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord, bool)>, StoreError> {
        Ok(self
            .session_by_token_hash(token_hash)
            .await?
            .map(|(session, user)| (session, user, true)))
    }
    /// [`Store::session_for_request`] for several token hashes at once: the sessions found,
    /// in any order (each names its token hash), no more than one per hash. The SQL stores
    /// answer with one query; the default asks once per hash.
    async fn sessions_for_requests(
        &self,
        token_hashes: &[String],
    ) -> Result<Vec<(SessionRecord, UserRecord, bool)>, StoreError> {
        let mut found = Vec::with_capacity(token_hashes.len());
        for hash in token_hashes {
            if let Some(one) = self.session_for_request(hash).await? {
                found.push(one);
            }
        }
        Ok(found)
    }
    /// Marks a session used now, only when its last mark is older than `stale_before`.
    async fn touch_session(
        &self,
        session_id: &str,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// A session by id.
    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// Requires a gate; requiring it again changes nothing.
    async fn require_gate(
        &self,
        target: GateTarget<'_>,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Clears a gate; false when it was not required.
    async fn clear_gate(&self, target: GateTarget<'_>, key: &str) -> Result<bool, StoreError>;
    /// The gates of a user and of one of their sessions, together, in no particular order.
    async fn gates(&self, user_id: &str, session_id: &str) -> Result<Vec<GateRecord>, StoreError>;

    /// Stores a newly registered passkey; [`StoreError::Conflict`] when its credential id is
    /// already registered, to anyone.
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> Result<(), StoreError>;
    /// A user's passkeys, oldest first.
    async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, StoreError>;
    /// How many passkeys a user has.
    async fn count_passkeys(&self, user_id: &str) -> Result<u64, StoreError>;
    /// A passkey by credential id within an environment.
    async fn find_passkey_by_credential_id(
        &self,
        environment_id: &str,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError>;
    /// After a sign-in: stores the updated credential, its counter and the time of use, only
    /// when the counter moved forward (or both the stored and the new counter are 0, for
    /// authenticators without one). False when it did not: a counter going backwards, or a
    /// concurrent sign-in that got there first, or the passkey is gone.
    async fn record_passkey_use(
        &self,
        id: &str,
        credential: &str,
        sign_count: u32,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Renames a user's passkey; false when the user has no such passkey.
    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str)
    -> Result<bool, StoreError>;
    /// Removes one of a user's sign-in methods, unless it is their last one (a password,
    /// a linked identity and a passkey each count as one). The check and the removal are one
    /// transaction serialised per user, so concurrent removals cannot take away the last two.
    async fn remove_sign_in_method(
        &self,
        user_id: &str,
        method: SignInMethodRef<'_>,
    ) -> Result<MethodRemoval, StoreError>;

    /// Revokes a session; false when it did not exist.
    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError>;

    /// Every session of a user, most recently active first (expired ones included: the
    /// caller decides what is still valid).
    async fn list_user_sessions(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError>;
    /// Revokes one session of a user; false when the user has no session with this id (so
    /// another user's session is never touched).
    async fn delete_user_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError>;
    /// Revokes every session of a user except `keep`; returns how many.
    async fn delete_other_sessions(&self, user_id: &str, keep: &str) -> Result<u64, StoreError>;
    /// Records a re-authentication on a session and gives it a new token hash in the same
    /// statement (the old token stops working); false when it does not exist.
    async fn reauthenticate_session(
        &self,
        session_id: &str,
        at: OffsetDateTime,
        token_hash: &str,
    ) -> Result<bool, StoreError>;
    /// Records a re-authentication on a session; false when it does not exist.
    async fn set_session_authenticated(
        &self,
        session_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Sets (or clears) a user's display name.
    async fn set_user_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Replaces a user's email with a verified one; [`StoreError::Conflict`] when another
    /// user of the environment has it.
    async fn set_user_email(
        &self,
        user_id: &str,
        email: &str,
        email_canonical: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
