//! Password reset with an emailed code.
//!
//! Transitions: `request` → for an account, a hashed 6-digit code is stored (10 minutes, 5
//! tries, replaced only after a 30-second cooldown) and emailed; for an unknown address
//! nothing is sent and the answer is the same. `complete` → the right code, within its tries,
//! sets the new password, revokes every session of the user and signs them in afresh. Every
//! failure of `complete` answers alike (unknown address, no code, wrong, expired or exhausted
//! code), so the step reveals nothing about which addresses have accounts.

use super::email_code::{
    CODE_TTL, MAX_ATTEMPTS, RESEND_COOLDOWN, new_code, normalize_code, user_code_hash,
};
use crate::mail::{self, MailError};
use crate::methods::password::HashError;
use crate::session::new_id;
use crate::store::{AttemptReservation, StoreError, UserCodeRecord};
use crate::validate::{self, FieldErrors};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Environment, Torii};
use subtle::ConstantTimeEq as _;
use torii_shared::Secret;

const PURPOSE: &str = "password_reset";

/// Why a reset step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordResetError {
    /// The email or new password is not acceptable.
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// The code is not valid for this address (wrong, expired, used up, or none).
    #[error("invalid code")]
    InvalidCode,
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
}

impl Torii {
    /// Emails a reset code when the address has an account; answers the same either way.
    ///
    /// # Errors
    /// An invalid email; a mail or store failure.
    pub async fn request_password_reset(
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
        let now = self.now();
        let code = new_code();
        let id = new_id("cod");
        let record = UserCodeRecord {
            code_hash: user_code_hash(&id, &code),
            id,
            user_id: user.id.clone(),
            purpose: PURPOSE.to_owned(),
            target: None,
            expires_at: now + CODE_TTL,
            attempts: 0,
            resend_available_at: now + RESEND_COOLDOWN,
            created_at: now,
        };
        // During the cooldown the earlier code stays valid and nothing new is sent; the
        // answer does not change, so it reveals nothing.
        if !self.store().put_user_code(&record, now).await? {
            return Ok(());
        }
        let email =
            mail::password_reset_code(&env.name, &user.email, &code, CODE_TTL.whole_minutes())?;
        self.deliver_in_background(email, "password reset code");
        Ok(())
    }

    /// Sets a new password with the emailed code, revokes every session of the user, and
    /// signs them in with a new one.
    ///
    /// # Errors
    /// An invalid new password; any code failure as [`PasswordResetError::InvalidCode`].
    pub async fn complete_password_reset(
        &self,
        env: &Environment,
        email: &str,
        code: &Secret,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, PasswordResetError> {
        validate::new_password(password.expose()).map_err(|m| {
            PasswordResetError::Validation(FieldErrors::from([("password".to_owned(), m)]))
        })?;
        // Before the code is tried, so a refused password does not cost one of its tries.
        self.check_password_not_breached(password).await?;
        let Some(digits) = normalize_code(code.expose()) else {
            return Err(PasswordResetError::InvalidCode);
        };
        let Ok(address) = validate::email(email) else {
            return Err(PasswordResetError::InvalidCode);
        };
        let Some(user) = self
            .store()
            .find_user_by_email(&env.id, &address.canonical)
            .await?
        else {
            return Err(PasswordResetError::InvalidCode);
        };
        let Some(record) = self.store().get_user_code(&user.id, PURPOSE).await? else {
            return Err(PasswordResetError::InvalidCode);
        };
        let now = self.now();
        let AttemptReservation::Reserved(_) = self
            .store()
            .reserve_user_code_attempt(&record.id, MAX_ATTEMPTS, now)
            .await?
        else {
            return Err(PasswordResetError::InvalidCode);
        };
        let matches = bool::from(
            user_code_hash(&record.id, &digits)
                .as_bytes()
                .ct_eq(record.code_hash.as_bytes()),
        );
        if !matches {
            return Err(PasswordResetError::InvalidCode);
        }
        // Hashed before the code is spent: a busy server refuses without costing the code.
        let hash = self.hasher().hash(password).await?;
        if !self.store().consume_user_code(&record.id).await? {
            return Err(PasswordResetError::InvalidCode);
        }
        self.store().set_password(&user.id, &hash, now).await?;
        let revoked = self.store().delete_user_sessions(&user.id).await?;
        tracing::info!(user = %user.id, revoked, "password reset; sessions revoked");
        if !user.email_verified {
            // Receiving the code proved control of the mailbox.
            self.store().set_email_verified(&user.id, now).await?;
        }
        let user = self.store().get_user(&user.id).await?.unwrap_or(user);
        Ok(self.sign_in_user(env, user, client).await?)
    }
}
