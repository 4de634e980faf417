//! Verifying a signed-in user's email address, and accepting the current Terms: the actions
//! that clear the `email_verification` and `legal_acceptance` gates.
//!
//! Transitions of an email-verification code: `send` stores a hashed 6-digit code (10 minutes,
//! 5 tries, one live code per user, replaced only after a 30-second cooldown) and emails it;
//! `verify` counts each try atomically; the right code is consumed once and marks the email
//! verified, clearing every stored `email_verification` gate of the user.

use super::email_code::{
    CODE_TTL, MAX_ATTEMPTS, RESEND_COOLDOWN, SignUpError, new_code, normalize_code, user_code_hash,
};
use crate::mail;
use crate::session::new_id;
use crate::store::{AttemptReservation, GateTarget, UserCodeRecord, UserRecord};
use crate::{Environment, Torii};
use subtle::ConstantTimeEq as _;
use torii_shared::{GateKey, ResendAccepted, Secret};

const PURPOSE: &str = "email_verification";

impl Torii {
    /// Someone who did not come through one of the user's sessions proved they control the
    /// user's address (a password-reset code, a sign-in link). When the address was not
    /// verified before, whatever was added to the account meanwhile may be a squatter's:
    /// every linked provider identity and passkey is removed and every session revoked, in
    /// one store transaction, and the owner is emailed what was removed. The user is
    /// returned as it now is (verified).
    ///
    /// Verifying with a code from one of the user's own sessions (the `email_verification`
    /// gate) does not come here: whoever holds that session is the one who proved the address.
    ///
    /// # Errors
    /// A store failure.
    pub async fn address_proven(
        &self,
        env: &Environment,
        mut user: UserRecord,
    ) -> Result<UserRecord, crate::store::StoreError> {
        if user.email_verified {
            return Ok(user);
        }
        let now = self.now();
        if let Some(claimed) = self.store().prove_email(&user.id, now).await? {
            tracing::info!(
                user = %user.id,
                identities = claimed.identities.len(),
                passkeys = claimed.passkeys.len(),
                sessions = claimed.sessions,
                "address proven for the first time; methods added while unverified removed"
            );
            if claimed.removed_sign_in_methods() {
                let items = claimed
                    .identities
                    .iter()
                    .map(|identity| {
                        let provider = self
                            .oauth_provider(env, &identity.provider)
                            .map_or_else(|| identity.provider.clone(), |p| p.display_name());
                        match &identity.email {
                            Some(email) => format!("Sign-in with {provider} ({email})"),
                            None => format!("Sign-in with {provider}"),
                        }
                    })
                    .chain(
                        claimed
                            .passkeys
                            .iter()
                            .map(|passkey| format!("The passkey \u{201c}{}\u{201d}", passkey.name)),
                    )
                    .collect();
                let notice = mail::Notice::unverified_methods_removed(&env.name, items);
                self.notify(&env.id, &user.email, &notice);
            }
        }
        user.email_verified = true;
        user.updated_at = now;
        Ok(user)
    }

    /// Emails a code that verifies the user's address.
    ///
    /// # Errors
    /// During the resend cooldown, or a mail or store failure.
    pub async fn send_email_verification(
        &self,
        env: &Environment,
        user: &UserRecord,
    ) -> Result<ResendAccepted, SignUpError> {
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
        if !self.store().put_user_code(&record, now).await? {
            let live = self.store().get_user_code(&user.id, PURPOSE).await?;
            let wait = live.map_or(1, |c| (c.resend_available_at - now).whole_seconds().max(1));
            return Err(SignUpError::ResendCooldown {
                retry_after_secs: u64::try_from(wait).unwrap_or(1),
            });
        }
        let email =
            mail::email_verification_code(&env.name, &user.email, &code, CODE_TTL.whole_minutes())?;
        self.mailer().send(&email).await?;
        Ok(ResendAccepted {
            code_expires_at: record.expires_at,
            resend_available_at: record.resend_available_at,
        })
    }

    /// Checks an email-verification code; the right one marks the email verified.
    ///
    /// # Errors
    /// No code sent, a wrong, expired or exhausted code, a store failure.
    pub async fn verify_email(&self, user: &UserRecord, code: &Secret) -> Result<(), SignUpError> {
        let Some(digits) = normalize_code(code.expose()) else {
            return Err(SignUpError::Validation(crate::validate::FieldErrors::from(
                [(
                    "code".to_owned(),
                    "Enter the 6-digit code from the email.".to_owned(),
                )],
            )));
        };
        let record = self
            .store()
            .get_user_code(&user.id, PURPOSE)
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
            AttemptReservation::Dead if record.expires_at <= now => {
                return Err(SignUpError::CodeExpired);
            }
            AttemptReservation::Dead => return Err(SignUpError::TooManyAttempts),
        };
        let expected = record.code_hash.as_bytes();
        if !bool::from(
            user_code_hash(&record.id, &digits)
                .as_bytes()
                .ct_eq(expected),
        ) {
            return Err(SignUpError::InvalidCode {
                tries_left: MAX_ATTEMPTS.saturating_sub(used),
            });
        }
        if !self.store().consume_user_code(&record.id).await? {
            return Err(SignUpError::AlreadyUsed);
        }
        self.store().set_email_verified(&user.id, now).await?;
        self.store()
            .clear_gate(
                GateTarget::User(&user.id),
                GateKey::EmailVerification.as_str(),
            )
            .await?;
        Ok(())
    }

    /// Records that the user accepted the environment's current Terms, clearing the user's
    /// `legal_acceptance` gate (produced or required).
    ///
    /// # Errors
    /// A store failure.
    pub async fn accept_terms(
        &self,
        env: &Environment,
        user: &UserRecord,
        session_id: &str,
    ) -> Result<(), crate::store::StoreError> {
        if let Some(version) = &env.terms_version {
            self.store()
                .set_legal_version(&user.id, version, self.now())
                .await?;
        }
        let key = GateKey::LegalAcceptance;
        self.store()
            .clear_gate(GateTarget::User(&user.id), key.as_str())
            .await?;
        self.store()
            .clear_gate(GateTarget::Session(session_id), key.as_str())
            .await?;
        Ok(())
    }
}
