//! Every emailed code: sign-up with a 6-digit code, and the codes sent to a signed-in user's
//! account (email verification, password reset, email change), issued and checked here.
//!
//! Guesses are bounded per *ceremony*, not per code: a sign-up, or the run of codes sent to
//! one user for one purpose within [`USER_CODE_CEREMONY_TTL`], allows [`MAX_ATTEMPTS`] tries
//! in all, across every resend. Each try is counted atomically in the store before the code
//! is compared, so parallel guesses cannot exceed the bound. Once the tries are used up the
//! ceremony is dead: even the right code and every resend answer `code_attempts_exhausted`;
//! a new ceremony (a new sign-up; for a user code, once the ceremony's hour has passed) is
//! subject to the per-address email limits. Codes are stored as HMAC-SHA-256 under the server
//! key, bound to their purpose and record, so a copy of the database gives away no live code.
//!
//! Transitions of a pending sign-up:
//! - `start`: the form is valid (and consent given when the environment has Terms/Privacy) →
//!   a pending sign-up is stored with the code's MAC, expiring in 10 minutes, and the code is
//!   emailed. When the address already has an account the answer is identical, but the owner
//!   gets a notice instead of a code, so nobody learns which addresses have accounts.
//!   With `passkey` set (and passkeys enabled) the password may be left out: the user creates
//!   a passkey once `verify` has signed them in.
//! - `verify`: each try is first counted; a wrong code answers with the tries left; an expired
//!   code refuses even the right digits (a resend brings a new one); a sign-up whose tries are
//!   used up is dead. The right code consumes the sign-up and creates the user (email
//!   verified), their password and a session in one transaction: exactly one concurrent
//!   verifier wins.
//! - `resend`: after a cooldown, a new code replaces the old one; the tries used stay used.

use crate::mail::{self, MailError};
use crate::methods::password::HashError;
use crate::session::new_id;
use crate::store::{
    AttemptReservation, CodeSend, CompleteSignUp, SignUpRecord, StoreError, UserCodeRecord,
    UserRecord,
};
use crate::validate::{self, FieldErrors};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Environment, Torii};
use rand::Rng as _;
use rand::rngs::OsRng;
use time::Duration;
use torii_shared::{
    CODE_DIGITS, ResendAccepted, Secret, SignInMethod, SignUpCreated, SignUpRequest, SignUpStatus,
};

/// How long a code works.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Tries per ceremony, across every code sent in it.
pub const MAX_ATTEMPTS: u32 = 10;
/// How long the codes sent to a user for one purpose count as one ceremony: a code sent
/// within this time of the ceremony's first keeps its count of tries. It also bounds how long
/// someone who used up the tries on another person's account keeps them from a new code.
pub const USER_CODE_CEREMONY_TTL: Duration = Duration::hours(1);
/// The purpose a sign-up code's MAC is bound to.
const SIGN_UP_PURPOSE: &str = "sign_up";
/// Time between two sends for one sign-up.
pub const RESEND_COOLDOWN: Duration = Duration::seconds(30);
/// Pending sign-ups older than this are purged.
pub const SIGN_UP_TTL: Duration = Duration::hours(24);

/// Why a sign-up step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignUpError {
    /// Some fields are invalid.
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// The environment has Terms/Privacy and they were not accepted.
    #[error("consent required")]
    ConsentRequired,
    /// No such pending sign-up in this environment.
    #[error("sign-up not found")]
    NotFound,
    /// No email-verification code is waiting for this user.
    #[error("no code sent")]
    NoCodeSent,
    /// The code is wrong.
    #[error("wrong code, {tries_left} tries left")]
    InvalidCode {
        /// Tries left on this code.
        tries_left: u32,
    },
    /// The code expired.
    #[error("code expired")]
    CodeExpired,
    /// The ceremony's tries are used up (across every resend): it is over.
    #[error("too many tries")]
    TooManyAttempts,
    /// The code was already used by another request.
    #[error("code already used")]
    AlreadyUsed,
    /// A resend came before the cooldown ended.
    #[error("resend too soon")]
    ResendCooldown {
        /// Seconds until a resend is accepted.
        retry_after_secs: u64,
    },
    /// An account with this email exists now.
    #[error("email taken")]
    EmailTaken,
    /// The email could not be sent.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The password appears in known breaches, or the check could not be made (and the
    /// server refuses meanwhile).
    #[error(transparent)]
    Breached(#[from] crate::breached::BreachError),
}

/// A uniformly random 6-digit code from the OS CSPRNG.
pub(crate) fn new_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000_u32))
}

/// Accepts `123456`, `123 456` and `123-456`.
pub(crate) fn normalize_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

impl Torii {
    /// Starts a sign-up: validates the form, stores the pending sign-up and emails a code.
    ///
    /// # Errors
    /// Invalid fields, missing consent, a mail or store failure.
    pub async fn start_sign_up(
        &self,
        env: &Environment,
        request: &SignUpRequest,
    ) -> Result<SignUpCreated, SignUpError> {
        let mut fields = FieldErrors::new();
        let email = validate::email(&request.email)
            .map_err(|msg| fields.insert("email".to_owned(), msg.to_owned()))
            .ok();
        // A passkey instead of a password: created by the user right after the code, once
        // they are signed in, so no passkey is ever bound to an address nobody verified.
        let passkey_instead = request.passkey
            && request.password.is_none()
            && env.methods.contains(&SignInMethod::Passkey);
        match &request.password {
            None if passkey_instead => {}
            None => {
                fields.insert("password".to_owned(), "Choose a password.".to_owned());
            }
            Some(password) => {
                if let Err(msg) = validate::new_password(password.expose()) {
                    fields.insert("password".to_owned(), msg.to_string());
                }
            }
        }
        let name = validate::name(request.name.as_deref())
            .map_err(|msg| fields.insert("name".to_owned(), msg))
            .ok()
            .flatten();
        let consent_missing = env.legal_required() && request.legal_accepted != Some(true);
        if !fields.is_empty() {
            if consent_missing {
                fields.insert(
                    "legalAccepted".to_owned(),
                    "Accept the Terms of Service and Privacy Policy to continue.".to_owned(),
                );
            }
            return Err(SignUpError::Validation(fields));
        }
        if consent_missing {
            return Err(SignUpError::ConsentRequired);
        }
        let Some(email) = email else {
            return Err(SignUpError::Validation(fields));
        };
        if let Some(password) = &request.password {
            self.check_password_not_breached(password).await?;
        }
        let password_hash = match request.password.as_ref() {
            Some(password) => Some(self.hasher().hash(password).await?),
            None => None,
        };
        let now = self.now();
        let id = new_id("sgu");
        let code = new_code();
        let record = SignUpRecord {
            id: id.clone(),
            environment_id: env.id.clone(),
            email: email.display.clone(),
            email_canonical: email.canonical.clone(),
            name,
            password_hash,
            legal_accepted_at: env.legal_required().then_some(now),
            legal_version: env
                .legal_required()
                .then(|| env.terms_version.clone())
                .flatten(),
            code_hash: self.server_keys().code_mac(SIGN_UP_PURPOSE, &id, &code),
            code_expires_at: now + CODE_TTL,
            attempts: 0,
            resend_available_at: now + RESEND_COOLDOWN,
            created_at: now,
        };
        self.store().insert_sign_up(&record).await?;
        // Opportunistic cleanup keeps the table small without a background task.
        self.store().purge_sign_ups(now - SIGN_UP_TTL).await?;
        self.send_sign_up_email(env, &record, &code).await?;
        Ok(SignUpCreated {
            sign_up_id: id,
            status: SignUpStatus::NeedsVerification,
            code_expires_at: record.code_expires_at,
            resend_available_at: record.resend_available_at,
        })
    }

    async fn send_sign_up_email(
        &self,
        env: &Environment,
        record: &SignUpRecord,
        code: &str,
    ) -> Result<(), SignUpError> {
        let existing = self
            .store()
            .find_user_by_email(&env.id, &record.email_canonical)
            .await?;
        let email = if existing.is_some() {
            mail::sign_up_existing_account(&env.name, &record.email, self.public_url().as_str())?
        } else {
            mail::sign_up_code(&env.name, &record.email, code, CODE_TTL.whole_minutes())?
        };
        self.mailer().send(&email).await.map_err(|error| {
            tracing::warn!(
                sign_up = %record.id,
                error = %crate::log::escaped(&error),
                "sign-up email not sent"
            );
            SignUpError::Mail(error)
        })
    }

    /// Sends a new code for a pending sign-up once the cooldown has passed.
    ///
    /// # Errors
    /// Unknown sign-up, cooldown, mail or store failure.
    pub async fn resend_sign_up_code(
        &self,
        env: &Environment,
        sign_up_id: &str,
    ) -> Result<ResendAccepted, SignUpError> {
        let record = self
            .store()
            .get_sign_up(&env.id, sign_up_id)
            .await?
            .ok_or(SignUpError::NotFound)?;
        let now = self.now();
        let code = new_code();
        let code_expires_at = now + CODE_TTL;
        let resend_available_at = now + RESEND_COOLDOWN;
        let sent = self
            .store()
            .replace_sign_up_code(
                &record.id,
                &self
                    .server_keys()
                    .code_mac(SIGN_UP_PURPOSE, &record.id, &code),
                code_expires_at,
                resend_available_at,
                MAX_ATTEMPTS,
                now,
            )
            .await?;
        match sent {
            CodeSend::Sent => {}
            CodeSend::Cooldown(until) => return Err(cooldown(until - now)),
            CodeSend::Exhausted => return Err(SignUpError::TooManyAttempts),
            CodeSend::NotFound => return Err(SignUpError::NotFound),
        }
        self.send_sign_up_email(env, &record, &code).await?;
        Ok(ResendAccepted {
            code_expires_at,
            resend_available_at,
        })
    }

    /// Checks the emailed code; the right one creates the user and a session.
    ///
    /// # Errors
    /// Malformed, wrong, expired or exhausted code; unknown sign-up; email taken meanwhile.
    pub async fn verify_sign_up(
        &self,
        env: &Environment,
        sign_up_id: &str,
        code: &Secret,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, SignUpError> {
        let Some(code) = normalize_code(code.expose()) else {
            return Err(SignUpError::Validation(FieldErrors::from([(
                "code".to_owned(),
                format!("Enter the {CODE_DIGITS}-digit code from the email."),
            )])));
        };
        let record = self
            .store()
            .get_sign_up(&env.id, sign_up_id)
            .await?
            .ok_or(SignUpError::NotFound)?;
        let now = self.now();
        let used = match self
            .store()
            .reserve_sign_up_attempt(&record.id, MAX_ATTEMPTS, now)
            .await?
        {
            AttemptReservation::Reserved(used) => used,
            AttemptReservation::NotFound => return Err(SignUpError::NotFound),
            AttemptReservation::Expired => return Err(SignUpError::CodeExpired),
            AttemptReservation::Exhausted => return Err(SignUpError::TooManyAttempts),
        };
        // Re-read so that a resend between the two reads is honoured.
        let current = self
            .store()
            .get_sign_up(&env.id, sign_up_id)
            .await?
            .ok_or(SignUpError::AlreadyUsed)?;
        let matches = self.server_keys().code_matches(
            &current.code_hash,
            SIGN_UP_PURPOSE,
            &current.id,
            &code,
        );
        if !matches {
            return Err(SignUpError::InvalidCode {
                tries_left: MAX_ATTEMPTS.saturating_sub(used),
            });
        }
        let user = UserRecord {
            id: new_id("usr"),
            environment_id: env.id.clone(),
            email: current.email.clone(),
            email_canonical: current.email_canonical.clone(),
            name: current.name.clone(),
            email_verified: true,
            legal_version: current.legal_version.clone(),
            created_at: now,
            updated_at: now,
        };
        let (session, token) = self.new_session_record(env, &user.id, client);
        match self
            .store()
            .complete_sign_up(
                &current.id,
                &user,
                current.password_hash.as_deref(),
                &session,
            )
            .await?
        {
            CompleteSignUp::Created(user) => {
                let info = self.session_gates(env, &user, &session.id).await?;
                Ok(self.finish_sign_in(env, session, user, info, token)?)
            }
            CompleteSignUp::AlreadyConsumed => Err(SignUpError::AlreadyUsed),
            CompleteSignUp::EmailTaken => Err(SignUpError::EmailTaken),
        }
    }
}

/// A refusal during the resend cooldown, for `wait`.
fn cooldown(wait: Duration) -> SignUpError {
    SignUpError::ResendCooldown {
        retry_after_secs: u64::try_from(wait.whole_seconds().max(1)).unwrap_or(1),
    }
}

impl Torii {
    /// Stores a new code for a user's ceremony of `purpose` (see the module docs): `code` is
    /// what the caller emails, `stored` what is kept (the same, except where nothing is to be
    /// sent and the stored code must match nothing anyone knows).
    ///
    /// # Errors
    /// [`SignUpError::ResendCooldown`], [`SignUpError::TooManyAttempts`] for a dead ceremony,
    /// or a store failure.
    pub(crate) async fn put_user_code(
        &self,
        user_id: &str,
        purpose: &str,
        target: Option<String>,
        stored: &str,
    ) -> Result<UserCodeRecord, SignUpError> {
        let now = self.now();
        let id = new_id("cod");
        let record = UserCodeRecord {
            code_hash: self.server_keys().code_mac(purpose, &id, stored),
            id,
            user_id: user_id.to_owned(),
            purpose: purpose.to_owned(),
            target,
            expires_at: now + CODE_TTL,
            attempts: 0,
            resend_available_at: now + RESEND_COOLDOWN,
            created_at: now,
            ceremony_expires_at: now + USER_CODE_CEREMONY_TTL,
        };
        match self
            .store()
            .put_user_code(&record, MAX_ATTEMPTS, now)
            .await?
        {
            CodeSend::Sent => Ok(record),
            CodeSend::Cooldown(until) => Err(cooldown(until - now)),
            CodeSend::Exhausted => Err(SignUpError::TooManyAttempts),
            CodeSend::NotFound => Err(SignUpError::NoCodeSent),
        }
    }

    /// Checks a code of a user's ceremony of `purpose`, counting the try first; the right one
    /// is consumed (exactly once) and its record returned.
    ///
    /// # Errors
    /// Malformed, wrong, expired or used code; no code sent; a dead ceremony; a store failure.
    pub(crate) async fn redeem_user_code(
        &self,
        user_id: &str,
        purpose: &str,
        code: &Secret,
    ) -> Result<UserCodeRecord, SignUpError> {
        let Some(digits) = normalize_code(code.expose()) else {
            return Err(SignUpError::Validation(FieldErrors::from([(
                "code".to_owned(),
                format!("Enter the {CODE_DIGITS}-digit code from the email."),
            )])));
        };
        let record = self
            .store()
            .get_user_code(user_id, purpose)
            .await?
            .ok_or(SignUpError::NoCodeSent)?;
        let now = self.now();
        let used = match self
            .store()
            .reserve_user_code_attempt(&record.id, MAX_ATTEMPTS, now)
            .await?
        {
            AttemptReservation::Reserved(used) => used,
            AttemptReservation::NotFound => return Err(SignUpError::NoCodeSent),
            AttemptReservation::Expired => return Err(SignUpError::CodeExpired),
            AttemptReservation::Exhausted => return Err(SignUpError::TooManyAttempts),
        };
        let right =
            self.server_keys()
                .code_matches(&record.code_hash, purpose, &record.id, &digits);
        if !right {
            return Err(SignUpError::InvalidCode {
                tries_left: MAX_ATTEMPTS.saturating_sub(used),
            });
        }
        if !self.store().consume_user_code(&record.id).await? {
            return Err(SignUpError::AlreadyUsed);
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let code = new_code();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn codes_tolerate_separators_only() {
        assert_eq!(normalize_code("123 456").as_deref(), Some("123456"));
        assert_eq!(normalize_code("123-456").as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345a"), None);
        assert_eq!(normalize_code("１２３４５６"), None);
    }
}
