//! Checking a second factor: an authenticator code (accepted once per time step, atomically),
//! a backup code (used once, atomically) or a passkey of the user's. Given on a session pending
//! on `second_factor` it clears that gate; given to re-authenticate it makes the session's
//! second factor recent for the changes that need one. Every try counts against the
//! second-factor limits (per client address, per session, per account) before it is judged.

use super::{MfaError, backup_codes, field, totp};
use crate::guard::Guarded;
use crate::mail::Notice;
use crate::rate_limit::{IpKey, RateBucket};
use crate::session::SessionToken;
use crate::store::{GateTarget, UserRecord};
use crate::{AuthenticatedSession, ClientInfo, Environment, Torii};
use torii_shared::{GateKey, PasskeyOptions, SecondFactorMethod};

impl Torii {
    /// Checks a code of the user's (see the module documentation), consuming it. Using a
    /// backup code is told to the owner.
    async fn check_second_factor_code(
        &self,
        env: &Environment,
        user: &UserRecord,
        method: SecondFactorMethod,
        code: &str,
    ) -> Result<(), MfaError> {
        let user_id = &user.id;
        match method {
            SecondFactorMethod::Totp => {
                let code = totp::normalize(code)
                    .ok_or_else(|| field("code", "Enter the 6-digit code from your app."))?;
                let record = self
                    .store()
                    .totp(user_id)
                    .await?
                    .filter(|r| r.confirmed_at.is_some())
                    .ok_or(MfaError::NotEnrolled)?;
                let secret = totp::open(self.server_keys(), user_id, &record.sealed_secret)?;
                match totp::match_code(&secret, &code, self.now())? {
                    totp::CodeMatch::Step(step) => {
                        // A later step's code used already makes this one stale too.
                        if step <= record.last_step
                            || !self.store().use_totp_step(user_id, step).await?
                        {
                            return Err(MfaError::CodeReused);
                        }
                        Ok(())
                    }
                    totp::CodeMatch::Expired => Err(MfaError::CodeExpired),
                    totp::CodeMatch::Wrong => Err(MfaError::InvalidCode),
                }
            }
            SecondFactorMethod::BackupCode => {
                let code = backup_codes::normalize(code).ok_or_else(|| {
                    field("code", "Enter one of your backup codes (xxxxx-xxxxx).")
                })?;
                let macs = backup_codes::candidate_macs(self.server_keys(), user_id, &code);
                if self
                    .store()
                    .use_backup_code(user_id, &macs, self.now())
                    .await?
                {
                    tracing::info!(user = %user_id, "backup code used");
                    let left = self.store().count_backup_codes(user_id).await?;
                    self.notify(
                        &env.id,
                        &user.email,
                        &Notice::backup_code_used(&env.name, left),
                    );
                    Ok(())
                } else {
                    Err(MfaError::InvalidCode)
                }
            }
        }
    }

    /// Refuses a session that is pending on something else than its second factor.
    fn second_factor_session(found: &AuthenticatedSession) -> Result<(), MfaError> {
        match &found.info.current_gate {
            None => Ok(()),
            Some(gate) if gate.key == GateKey::SecondFactor => Ok(()),
            Some(gate) => Err(MfaError::Pending(gate.clone())),
        }
    }

    /// After a verified second factor: the gate is cleared on this session, and the second
    /// factor counts as recent on it.
    async fn second_factor_given(&self, session_id: &str) -> Result<(), MfaError> {
        let store = self.store();
        store
            .clear_gate(
                GateTarget::Session(session_id),
                GateKey::SecondFactor.as_str(),
            )
            .await?;
        if !store
            .set_session_second_factor(session_id, self.now())
            .await?
        {
            return Err(crate::account::AccountError::SessionGone.into());
        }
        Ok(())
    }

    /// Verifies an authenticator or backup code on a session (the second step of a
    /// sign-in): clears its `second_factor` gate, records the second factor as recent, and
    /// gives the session a new token (the one handed out before the second step stops
    /// working), which it returns.
    ///
    /// # Errors
    /// A rate limit; a malformed, wrong, expired or reused code; no authenticator; a store
    /// failure.
    pub async fn verify_second_factor(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        method: SecondFactorMethod,
        code: &str,
        client: &ClientInfo,
    ) -> Result<SessionToken, Guarded<MfaError>> {
        let buckets = RateBucket::second_factor_tries(client, &found.session.id, &found.user.id);
        let work = async {
            Self::second_factor_session(found)?;
            self.check_second_factor_code(env, &found.user, method, code)
                .await?;
            self.second_factor_given(&found.session.id).await?;
            Ok(self.renew_session(&found.session.id).await?)
        };
        self.guarded(env, None, &buckets, work).await
    }

    /// Re-authenticates with an authenticator or backup code: the session's second factor
    /// becomes recent (its first factor does not).
    ///
    /// # Errors
    /// As [`Torii::verify_second_factor`].
    pub async fn reauthenticate_with_second_factor(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        method: SecondFactorMethod,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), Guarded<MfaError>> {
        let buckets = RateBucket::second_factor_tries(client, &found.session.id, &found.user.id);
        let work = async {
            self.check_second_factor_code(env, &found.user, method, code)
                .await?;
            self.second_factor_given(&found.session.id).await
        };
        self.guarded(env, None, &buckets, work).await
    }

    /// Starts a passkey as the second factor of a session: a challenge only the user's own
    /// passkeys answer, bound to this session.
    ///
    /// # Errors
    /// A rate limit; passkeys not enabled; the user has none; a store failure.
    pub async fn start_second_factor_passkey(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        client: &ClientInfo,
    ) -> Result<PasskeyOptions, Guarded<MfaError>> {
        Self::second_factor_session(found).map_err(Guarded::Failed)?;
        self.start_passkey_reauthentication(env, &found.user.id, &found.session.id, client)
            .await
            .map_err(|error| match error {
                Guarded::Refused(refused) => Guarded::Refused(refused),
                Guarded::Failed(error) => Guarded::Failed(error.into()),
            })
    }

    /// Finishes a passkey given as the second factor: the assertion must answer this
    /// session's challenge with one of the user's passkeys, verifying the user. Clears the
    /// `second_factor` gate and renews the token like a code does. Limited per client
    /// address, like a sign-in.
    ///
    /// # Errors
    /// A rate limit; a ceremony that is unknown, used, expired or another session's; a
    /// passkey that is another user's or does not verify; a store failure.
    pub async fn finish_second_factor_passkey(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        ceremony_id: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<SessionToken, Guarded<MfaError>> {
        let buckets = [RateBucket::SignInIp(IpKey::of(client))];
        let work = async {
            Self::second_factor_session(found)?;
            self.verify_passkey_reauthentication(
                env,
                &found.user.id,
                &found.session.id,
                ceremony_id,
                credential,
            )
            .await?;
            self.second_factor_given(&found.session.id).await?;
            Ok(self.renew_session(&found.session.id).await?)
        };
        self.guarded(env, None, &buckets, work).await
    }
}
