//! Verifying a signed-in user's email address, and accepting the current Terms: the actions
//! that clear the `email_verification` and `legal_acceptance` gates.
//!
//! Transitions of an email-verification code (see [`crate::codes`] for the ceremony and its
//! bound on tries): `send` stores the code's MAC (10 minutes, replaced only after a 30-second
//! cooldown) and emails it; `verify` counts each try atomically; the right code is consumed
//! once and marks the email verified, clearing every stored `email_verification` gate of the
//! user.

use super::email_code::SignUpError;
use crate::codes::{self, CodePurpose, new_code};
use crate::guard::{Guarded, Refused};
use crate::mail;
use crate::rate_limit::RateBucket;
use crate::store::{GateTarget, UserRecord};
use crate::{AuthenticatedSession, ClientInfo, Environment, Torii};
use torii_shared::{GateKey, ResendAccepted, Secret};

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

    /// Emails a code that verifies the address of a signed-in user (as it is now in the
    /// store). Limited per client address and per address emailed.
    ///
    /// # Errors
    /// The user is gone; a rate limit; the resend cooldown; a mail or store failure.
    pub async fn send_email_verification(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        client: &ClientInfo,
    ) -> Result<ResendAccepted, Guarded<SignUpError>> {
        let user = self
            .store()
            .get_user(&found.user.id)
            .await
            .map_err(|e| Guarded::Failed(SignUpError::from(e)))?
            .ok_or(Refused::SignedOut)?;
        let buckets = RateBucket::email(client, &user.email_canonical);
        let work = self.send_verification_code(env, &user);
        self.guarded(env, None, &buckets, work).await
    }

    async fn send_verification_code(
        &self,
        env: &Environment,
        user: &UserRecord,
    ) -> Result<ResendAccepted, SignUpError> {
        let purpose = CodePurpose::EmailVerification;
        let code = new_code();
        let record = self.issue_code(&user.id, purpose, None, &code).await?;
        let email = purpose.email(&env.name, &user.email, &code)?;
        self.mailer().send(&email).await?;
        Ok(codes::accepted(&record))
    }

    /// Checks an email-verification code; the right one marks the email verified. Limited
    /// per client address and per account ([`RateBucket::code_tries`]).
    ///
    /// # Errors
    /// A rate limit; no code sent, a wrong, expired or exhausted code, a store failure.
    pub async fn verify_email(
        &self,
        env: &Environment,
        user: &UserRecord,
        code: &Secret,
        client: &ClientInfo,
    ) -> Result<(), Guarded<SignUpError>> {
        let buckets = RateBucket::code_tries(client, &user.id);
        let work = self.mark_email_verified(user, code);
        self.guarded(env, None, &buckets, work).await
    }

    async fn mark_email_verified(
        &self,
        user: &UserRecord,
        code: &Secret,
    ) -> Result<(), SignUpError> {
        self.redeem_code(&user.id, CodePurpose::EmailVerification, code)
            .await?;
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
