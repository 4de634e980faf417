//! Every code emailed to a user's account: email verification, password reset and email
//! change are one implementation, parameterised by a [`CodePurpose`] (the purpose a code's
//! MAC is bound to, and the email that carries it); what redeeming a code does is the
//! caller's next step. Sign-up codes (in `methods::email_code`) share the code format, the
//! lifetimes and the bound on tries.
//!
//! Guesses are bounded per *ceremony*, not per code: the run of codes sent to one user for
//! one purpose within [`USER_CODE_CEREMONY_TTL`] allows [`MAX_ATTEMPTS`] tries in all, across
//! every resend. Each try is counted atomically in the store before the code is compared, so
//! parallel guesses cannot exceed the bound. Once the tries are used up the ceremony is dead:
//! even the right code and every resend answer `code_attempts_exhausted`, until the
//! ceremony's hour has passed. Codes are stored as HMAC-SHA-256 under the server key, bound
//! to their purpose and record, so a copy of the database gives away no live code.
//!
//! Transitions of a user code: `issue` stores the code's MAC (valid [`CODE_TTL`], replaced
//! only after [`RESEND_COOLDOWN`]); `redeem` counts the try, then compares; the right code is
//! consumed exactly once and its record returned.

use crate::Torii;
use crate::mail::{self, MailError};
use crate::methods::password::hasher::HashError;
use crate::session::new_id;
use crate::store::StoreError;
use crate::store::{AttemptReservation, CodeSend, UserCodeRecord};
use crate::validate::FieldErrors;
use rand::Rng as _;
use rand::rngs::OsRng;
use time::Duration;
use torii_shared::{CODE_DIGITS, ResendAccepted, Secret};

/// How long a code works.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Tries per ceremony, across every code sent in it.
pub const MAX_ATTEMPTS: u32 = 10;
/// How long the codes sent to a user for one purpose count as one ceremony: a code sent
/// within this time of the ceremony's first keeps its count of tries. It also bounds how long
/// someone who used up the tries on another person's account keeps them from a new code.
pub const USER_CODE_CEREMONY_TTL: Duration = Duration::hours(1);
/// Time between two sends for one ceremony.
pub const RESEND_COOLDOWN: Duration = Duration::seconds(30);

/// Why a code step failed: a sign-up's (its form, its code) or a code emailed to an
/// existing account.
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
    /// Signing the user in failed in a way that is not only the store's (a JWT that could
    /// not be signed).
    #[error(transparent)]
    Session(crate::session::SessionError),
}

impl From<crate::session::SessionError> for SignUpError {
    fn from(error: crate::session::SessionError) -> Self {
        match error {
            crate::session::SessionError::Store(e) => Self::Store(e),
            other => Self::Session(other),
        }
    }
}

/// What a code emailed to a user's account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodePurpose {
    /// Proves the user's own address (the `email_verification` gate).
    EmailVerification,
    /// Sets a new password without the old one.
    PasswordReset,
    /// Moves the account to a new address (the code goes to the new one).
    EmailChange,
}

impl CodePurpose {
    /// The name stored with the code, and bound into its MAC.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::EmailVerification => "email_verification",
            Self::PasswordReset => "password_reset",
            Self::EmailChange => "email_change",
        }
    }

    /// The email carrying `code` to `to` for the application `app`.
    ///
    /// # Errors
    /// An address or template the mailer cannot use.
    pub fn email(self, app: &str, to: &str, code: &str) -> Result<mail::Email, MailError> {
        let minutes = CODE_TTL.whole_minutes();
        match self {
            Self::EmailVerification => mail::email_verification_code(app, to, code, minutes),
            Self::PasswordReset => mail::password_reset_code(app, to, code, minutes),
            Self::EmailChange => mail::verify_new_email_code(app, to, code, minutes),
        }
    }
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

/// The answer to a code sent: until when it works and when another may be asked for.
#[must_use]
pub fn accepted(record: &UserCodeRecord) -> ResendAccepted {
    ResendAccepted {
        code_expires_at: record.expires_at,
        resend_available_at: record.resend_available_at,
    }
}

/// A refusal during the resend cooldown, for `wait`.
pub(crate) fn cooldown(wait: Duration) -> SignUpError {
    SignUpError::ResendCooldown {
        retry_after_secs: u64::try_from(wait.whole_seconds().max(1)).unwrap_or(1),
    }
}

impl Torii {
    /// Issues a new code for a user's ceremony of `purpose` (see the module docs): `code` is
    /// what the caller emails, `stored` what is kept (the same, except where nothing is to be
    /// sent and the stored code must match nothing anyone knows).
    ///
    /// # Errors
    /// [`SignUpError::ResendCooldown`], [`SignUpError::TooManyAttempts`] for a dead ceremony,
    /// or a store failure.
    pub(crate) async fn issue_code(
        &self,
        user_id: &str,
        purpose: CodePurpose,
        target: Option<String>,
        stored: &str,
    ) -> Result<UserCodeRecord, SignUpError> {
        let now = self.now();
        let id = new_id("cod");
        let record = UserCodeRecord {
            code_hash: self.server_keys().code_mac(purpose.name(), &id, stored),
            id,
            user_id: user_id.to_owned(),
            purpose: purpose.name().to_owned(),
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
    pub(crate) async fn redeem_code(
        &self,
        user_id: &str,
        purpose: CodePurpose,
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
            .get_user_code(user_id, purpose.name())
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
                .code_matches(&record.code_hash, purpose.name(), &record.id, &digits);
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
    fn purposes_keep_their_stored_names() {
        assert_eq!(CodePurpose::EmailVerification.name(), "email_verification");
        assert_eq!(CodePurpose::PasswordReset.name(), "password_reset");
        assert_eq!(CodePurpose::EmailChange.name(), "email_change");
    }

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
