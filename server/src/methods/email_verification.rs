//! Verifying a signed-in user's email address, and accepting the current Terms: the actions
//! that clear the `email_verification` and `legal_acceptance` gates.
//!
//! Transitions of an email-verification code (see `email_code` for the ceremony and its
//! bound on tries): `send` stores the code's MAC (10 minutes, replaced only after a 30-second
//! cooldown) and emails it; `verify` counts each try atomically; the right code is consumed
//! once and marks the email verified, clearing every stored `email_verification` gate of the
//! user.

use super::email_code::{CODE_TTL, SignUpError, new_code};
use crate::mail;
use crate::store::{GateTarget, UserRecord};
use crate::{Environment, Torii};
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
        let code = new_code();
        let record = self.put_user_code(&user.id, PURPOSE, None, &code).await?;
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
        self.redeem_user_code(&user.id, PURPOSE, code).await?;
        let now = self.now();
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
