//! Moving an account to another address. `start` (recent sign-in required) → a code for the
//! new address is issued by [`crate::codes`] (10 minutes, 10 tries per ceremony, replaced only
//! after a 30-second cooldown), kept with the address, and emailed to it after the answer; the
//! account keeps its old address meanwhile. `verify` counts each try atomically; the right
//! code replaces the address (verified, since the code proved the mailbox) and tells the old
//! address. When the new address already belongs to another account, `start` answers exactly
//! the same but emails nothing and keeps a code nobody knows, so the change is silently never
//! verified and nobody learns which addresses have accounts; an address taken between
//! `start` and `verify` is reported at `verify` (its owner is then the one who holds the
//! code).

use super::{AccountError, field};
use crate::codes::{self, CodePurpose, new_code};
use crate::guard::Guarded;
use crate::mail;
use crate::methods::email_code::SignUpError;
use crate::rate_limit::{RateBucket, account_key};
use crate::store::{GateTarget, StoreError};
use crate::validate;
use crate::{AuthenticatedSession, ClientInfo, Environment, Torii};
use torii_shared::{GateKey, ResendAccepted, Secret};

const EMAIL_CHANGE: CodePurpose = CodePurpose::EmailChange;

impl Torii {
    /// Starts moving the account to `email`: emails a code to it (see the module docs).
    /// Limited per client address and per address emailed.
    ///
    /// # Errors
    /// A rate limit; re-authentication required; an invalid or unchanged address; the resend
    /// cooldown; a mail or store failure.
    pub async fn start_email_change(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        email: &str,
        client: &ClientInfo,
    ) -> Result<ResendAccepted, Guarded<AccountError>> {
        let address = account_key(email);
        let buckets = RateBucket::email(client, &address);
        let work = self.send_email_change_code(env, found, email);
        self.guarded(env, None, &buckets, work).await
    }

    async fn send_email_change_code(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        email: &str,
    ) -> Result<ResendAccepted, AccountError> {
        self.require_recent_sign_in(found).await?;
        let address = validate::email(email).map_err(|m| field("email", m))?;
        let user = self
            .store()
            .get_user(&found.user.id)
            .await?
            .ok_or(AccountError::SessionGone)?;
        if address.canonical == user.email_canonical {
            return Err(field("email", "This is already your email address."));
        }
        let taken = self
            .store()
            .find_user_by_email(&env.id, &address.canonical)
            .await?
            .is_some();
        let code = new_code();
        // For a taken address, the stored MAC is of a code that is never sent.
        let stored_code = if taken { new_code() } else { code.clone() };
        let record = self
            .issue_code(
                &user.id,
                EMAIL_CHANGE,
                Some(address.display.clone()),
                &stored_code,
            )
            .await
            .map_err(AccountError::Code)?;
        if !taken {
            let message = EMAIL_CHANGE.email(&env.name, &address.display, &code)?;
            // After the answer, so that its time cannot tell a taken address from a free one.
            self.deliver_in_background(message, "new email code");
        }
        Ok(codes::accepted(&record))
    }

    /// Finishes an email change with the code sent to the new address: the account moves to
    /// it, and the old address is told.
    ///
    /// Limited per client address and per account ([`RateBucket::code_tries`]).
    ///
    /// # Errors
    /// A rate limit; no change started; a wrong, expired or used-up code; the address was
    /// taken meanwhile; a mail or store failure.
    pub async fn verify_email_change(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        code: &Secret,
        client: &ClientInfo,
    ) -> Result<(), Guarded<AccountError>> {
        let buckets = RateBucket::code_tries(client, &found.user.id);
        let work = self.change_email(env, found, code);
        self.guarded(env, None, &buckets, work).await
    }

    async fn change_email(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        code: &Secret,
    ) -> Result<(), AccountError> {
        let user_id = &found.user.id;
        let record = self
            .redeem_code(user_id, EMAIL_CHANGE, code)
            .await
            .map_err(AccountError::Code)?;
        let now = self.now();
        let target = record
            .target
            .as_deref()
            .ok_or(AccountError::Code(SignUpError::NoCodeSent))?;
        let address = validate::email(target).map_err(|m| field("email", m))?;
        let old = self
            .store()
            .get_user(user_id)
            .await?
            .ok_or(AccountError::SessionGone)?;
        match self
            .store()
            .set_user_email(user_id, &address.display, &address.canonical, now)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(AccountError::EmailTaken),
            Err(other) => return Err(other.into()),
        }
        // The code proved the new mailbox: nothing is left to verify.
        self.store()
            .clear_gate(
                GateTarget::User(user_id),
                GateKey::EmailVerification.as_str(),
            )
            .await?;
        tracing::info!(user = %user_id, "email changed");
        // The change is made; a failure to tell the old address is logged, not answered.
        let notice = mail::email_changing(&env.name, &old.email, &address.display)?;
        self.deliver_in_background(notice, "email change notice");
        self.notify(
            &env.id,
            &address.display,
            &mail::Notice::email_changed_to_here(&env.name, &old.email),
        );
        Ok(())
    }
}
