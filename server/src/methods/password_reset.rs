//! Password reset with an emailed code.
//!
//! Transitions: `request` → for an account, a 6-digit code's MAC is stored (10 minutes,
//! replaced only after a 30-second cooldown; tries counted per ceremony, see [`crate::codes`]) and
//! the code is emailed; for an unknown address nothing is sent and the answer is the same.
//! `complete` → the right code, within the ceremony's tries, sets the new password, revokes
//! every session of the user and signs them in afresh. Every failure of `complete` answers
//! alike (unknown address, no code, wrong, expired or used code), so the step reveals nothing
//! about which addresses have accounts; once an address has had more wrong tries than the
//! ceremony allows, `complete` answers `code_attempts_exhausted` whether or not it has an
//! account (tries at addresses without a live code are counted per address in the store).

use super::email_code::SignUpError;
use crate::codes::{CodePurpose, MAX_ATTEMPTS, new_code, normalize_code};
use crate::guard::Guarded;
use crate::mail::MailError;
use crate::methods::password::HashError;
use crate::rate_limit::{IpKey, RateBucket, account_key};
use crate::store::StoreError;
use crate::validate::{self, FieldErrors};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Environment, Torii};
use torii_shared::{Secret, SignInMethod};

const PURPOSE: CodePurpose = CodePurpose::PasswordReset;

/// Why a reset step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordResetError {
    /// The email or new password is not acceptable.
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// The code is not valid for this address (wrong, expired, used, or none).
    #[error("invalid code")]
    InvalidCode,
    /// Too many wrong codes were tried for this address in this ceremony.
    #[error("too many tries")]
    AttemptsExhausted,
    /// The email could not be sent.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The new password appears in known breaches, or the check could not be made (and the
    /// server refuses meanwhile).
    #[error(transparent)]
    Breached(#[from] crate::breached::BreachError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Issuing the reset code failed in a way a reset request does not expect (answered as
    /// an internal failure).
    #[error("unexpected failure issuing a reset code: {0}")]
    UnexpectedCode(Box<SignUpError>),
    /// Signing the user in failed in a way that is not only the store's (a JWT that could
    /// not be signed).
    #[error(transparent)]
    Session(crate::session::SessionError),
}

impl From<crate::session::SessionError> for PasswordResetError {
    fn from(error: crate::session::SessionError) -> Self {
        match error {
            crate::session::SessionError::Store(e) => Self::Store(e),
            other => Self::Session(other),
        }
    }
}

impl Torii {
    /// Emails a reset code when the address has an account; answers the same either way.
    /// Needs passwords enabled; limited per client address and per address emailed.
    ///
    /// # Errors
    /// Passwords disabled; a rate limit; an invalid email; a mail or store failure.
    pub async fn request_password_reset(
        &self,
        env: &Environment,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), Guarded<PasswordResetError>> {
        let address = account_key(email);
        let buckets = RateBucket::email(client, &address);
        let work = self.send_password_reset(env, email);
        self.guarded(env, Some(SignInMethod::Password), &buckets, work)
            .await
    }

    async fn send_password_reset(
        &self,
        env: &Environment,
        email: &str,
    ) -> Result<(), PasswordResetError> {
        let address = validate::email(email).map_err(|m| {
            PasswordResetError::Validation(FieldErrors::from([("email".to_owned(), m.to_owned())]))
        })?;
        let Some(user) = self
            .store()
            .find_user_by_email(&env.id, &address.canonical)
            .await?
        else {
            return Ok(());
        };
        let code = new_code();
        // During the cooldown the earlier code stays valid and nothing new is sent; a dead
        // ceremony sends nothing either. The answer does not change, so it reveals nothing.
        match self.issue_code(&user.id, PURPOSE, None, &code).await {
            Ok(_) => {}
            Err(SignUpError::ResendCooldown { .. } | SignUpError::TooManyAttempts) => {
                return Ok(());
            }
            Err(SignUpError::Store(e)) => return Err(e.into()),
            Err(other) => return Err(PasswordResetError::UnexpectedCode(Box::new(other))),
        }
        let email = PURPOSE.email(&env.name, &user.email, &code)?;
        self.deliver_in_background(email, "password reset code");
        Ok(())
    }

    /// Sets a new password with the emailed code, revokes every session of the user, and
    /// signs them in with a new one. Needs passwords enabled; limited per client address and
    /// per account.
    ///
    /// # Errors
    /// Passwords disabled; a rate limit; an invalid new password; any code failure as
    /// [`PasswordResetError::InvalidCode`].
    pub async fn complete_password_reset(
        &self,
        env: &Environment,
        email: &str,
        code: &Secret,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, Guarded<PasswordResetError>> {
        let account = account_key(email);
        let buckets = [
            RateBucket::VerifyIp(IpKey::of(client)),
            RateBucket::ResetAccount(&account),
        ];
        let work = self.reset_password(env, email, code, password, client);
        self.guarded(env, Some(SignInMethod::Password), &buckets, work)
            .await
    }

    async fn reset_password(
        &self,
        env: &Environment,
        email: &str,
        code: &Secret,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, PasswordResetError> {
        validate::new_password(password.expose()).map_err(|m| {
            PasswordResetError::Validation(FieldErrors::from([(
                "password".to_owned(),
                m.to_string(),
            )]))
        })?;
        // Before the code is tried, so a refused password does not cost one of its tries.
        self.check_password_not_breached(password).await?;
        if normalize_code(code.expose()).is_none() {
            return Err(PasswordResetError::InvalidCode);
        }
        let Ok(address) = validate::email(email) else {
            return Err(PasswordResetError::InvalidCode);
        };
        let user = self
            .store()
            .find_user_by_email(&env.id, &address.canonical)
            .await?;
        let redeemed = match &user {
            Some(user) => self.redeem_code(&user.id, PURPOSE, code).await,
            None => Err(SignUpError::NoCodeSent),
        };
        let user = match (redeemed, user) {
            (Ok(_), Some(user)) => user,
            (Err(SignUpError::TooManyAttempts), _) => {
                return Err(PasswordResetError::AttemptsExhausted);
            }
            (Err(SignUpError::NoCodeSent) | Ok(_), _) => {
                // No live code (or no account): the tries are counted per address instead,
                // so that the answer after too many is the same as for an account's ceremony.
                let tries = self
                    .count_hit(env, RateBucket::ResetUnmatched(&address.canonical))
                    .await?;
                return Err(if tries > MAX_ATTEMPTS {
                    PasswordResetError::AttemptsExhausted
                } else {
                    PasswordResetError::InvalidCode
                });
            }
            (Err(SignUpError::Store(e)), _) => return Err(e.into()),
            (Err(_), _) => return Err(PasswordResetError::InvalidCode),
        };
        let now = self.now();
        let hash = self.hasher().hash(password).await?;
        self.store().set_password(&user.id, &hash, now).await?;
        let revoked = self.store().delete_user_sessions(&user.id).await?;
        tracing::info!(user = %user.id, revoked, "password reset; sessions revoked");
        // Receiving the code proved control of the mailbox.
        let user = self.address_proven(env, user).await?;
        self.notify(
            &env.id,
            &user.email,
            &crate::mail::Notice::password_reset(&env.name),
        );
        Ok(self
            .sign_in_user(env, user, client, crate::FirstFactor::EmailCode)
            .await?)
    }
}
