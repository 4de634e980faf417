//! Who is asked for a second factor, and when: the gates a sign-in produces, and whether an
//! account's sensitive changes need a recent second factor. Used by signing in
//! ([`crate::session`]) and by the account's step-up ([`crate::account`]), so it depends on
//! neither.
//!
//! A user *has second factors* when the environment does not turn them off and they have a
//! confirmed authenticator app, or (where second factors are required) a passkey. Such a user
//! who signs in with a first factor the environment lists gets the session gate
//! `second_factor`; a passkey sign-in proves both factors and gets none. Where second factors
//! are required, a user with none gets the user gate `setup_mfa` (on every session) until an
//! authenticator is confirmed.

use crate::FirstFactor;
use crate::store::{GateTarget, StoreError, UserRecord};
use crate::{Environment, Torii};
use torii_shared::{GateKey, MfaPolicy};

impl Torii {
    /// Whether the user has second factors that the environment asks for (see the module
    /// documentation).
    ///
    /// # Errors
    /// A store failure.
    pub async fn has_second_factors(
        &self,
        env: &Environment,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        if env.mfa.policy == MfaPolicy::Off {
            return Ok(false);
        }
        let totp = self
            .store()
            .totp(user_id)
            .await?
            .is_some_and(|t| t.confirmed_at.is_some());
        if totp {
            return Ok(true);
        }
        Ok(
            env.mfa.policy == MfaPolicy::Required
                && self.store().count_passkeys(user_id).await? > 0,
        )
    }

    /// After a first factor created a session: requires `second_factor` on it when the user
    /// has second factors and the environment asks after this first factor, `setup_mfa` on
    /// the user when second factors are required and they have none; a passkey records the
    /// second factor as verified.
    ///
    /// # Errors
    /// A store failure.
    pub(crate) async fn apply_sign_in_factors(
        &self,
        env: &Environment,
        user: &UserRecord,
        session_id: &str,
        first: FirstFactor,
    ) -> Result<(), StoreError> {
        if env.mfa.policy == MfaPolicy::Off {
            return Ok(());
        }
        let now = self.now();
        if first == FirstFactor::Passkey {
            self.store()
                .set_session_second_factor(session_id, now)
                .await?;
            return Ok(());
        }
        let has = self.has_second_factors(env, &user.id).await?;
        if has && env.mfa.asks_after(first) {
            self.store()
                .require_gate(
                    GateTarget::Session(session_id),
                    GateKey::SecondFactor.as_str(),
                    now,
                )
                .await?;
        }
        if !has && env.mfa.policy == MfaPolicy::Required {
            self.store()
                .require_gate(GateTarget::User(&user.id), GateKey::SetupMfa.as_str(), now)
                .await?;
        }
        Ok(())
    }
}
