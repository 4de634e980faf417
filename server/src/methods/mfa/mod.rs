//! Second factors: authenticator apps (TOTP), backup codes, and passkeys counted as a second
//! factor. [`policy`] decides who is asked and when; this module manages a user's own factors
//! and the administrator's view of them; [`verify`] checks a factor (the `second_factor` gate,
//! re-authentication).
//!
//! **Authenticator lifecycle.** `enrol` stores a new secret (sealed under the server key)
//! unconfirmed, replacing an older unconfirmed one; with a confirmed one in place it is
//! refused. `confirm` takes the app's first code, confirms the authenticator (that code's
//! step counts as used), creates ten backup codes when the user has none left (shown this
//! once), and clears `setup_mfa`. `remove` deletes it with the backup codes, after a recent
//! sign-in and second factor, and never the last factor where second factors are required.

pub mod backup_codes;
pub mod policy;
pub mod totp;
pub mod verify;

use crate::account::AccountError;
use crate::error::internal::InternalError;
use crate::guard::Guarded;
use crate::mail::Notice;
use crate::methods::passkey::PasskeyError;
use crate::rate_limit::RateBucket;
use crate::store::{GateTarget, StoreError, TotpConfirmation, TotpRecord, UserRecord};
use crate::validate::FieldErrors;
use crate::{AuthenticatedSession, ClientInfo, Environment, Torii};
use torii_shared::{BackupCodes, GateKey, MfaPolicy, SecondFactors, TotpConfirmed, TotpEnrollment};

/// Why a second-factor operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MfaError {
    /// The environment turns second factors off.
    #[error("second factors are off")]
    Disabled,
    /// The code is not the shape of its kind (6 digits; `xxxxx-xxxxx`); see the field.
    #[error("malformed code")]
    Validation(FieldErrors),
    /// The code is not right.
    #[error("invalid code")]
    InvalidCode,
    /// The authenticator code is of an older time step, past the allowed skew.
    #[error("code expired")]
    CodeExpired,
    /// The authenticator code's time step was already used.
    #[error("code reused")]
    CodeReused,
    /// No authenticator (or, for a confirmation, no unconfirmed one) to act on; or no
    /// second factor at all.
    #[error("not enrolled")]
    NotEnrolled,
    /// A confirmed authenticator exists already.
    #[error("already enrolled")]
    AlreadyEnrolled,
    /// Second factors are required and this is the user's last.
    #[error("second factor required by the environment")]
    Required,
    /// The session is pending on another gate, which must be cleared first.
    #[error("session pending")]
    Pending(torii_shared::Gate),
    /// No such user in this environment (administration).
    #[error("user not found")]
    UserNotFound,
    /// A recent sign-in or second factor is needed first, or the session is gone.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A passkey given as the second factor failed.
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A sealed secret could not be opened, or the TOTP or QR library refused.
    #[error(transparent)]
    Internal(#[from] InternalError),
}

fn field(name: &str, message: &str) -> MfaError {
    MfaError::Validation(FieldErrors::from([(name.to_owned(), message.to_owned())]))
}

fn require_enabled(env: &Environment) -> Result<(), MfaError> {
    if env.mfa.policy == MfaPolicy::Off {
        Err(MfaError::Disabled)
    } else {
        Ok(())
    }
}

impl Torii {
    /// The user's second factors: a confirmed authenticator, backup codes left, passkeys.
    ///
    /// # Errors
    /// A store failure.
    pub async fn second_factors(&self, user_id: &str) -> Result<SecondFactors, StoreError> {
        let totp = self
            .store()
            .totp(user_id)
            .await?
            .is_some_and(|t| t.confirmed_at.is_some());
        let backup_codes_left = self.store().count_backup_codes(user_id).await?;
        let passkeys =
            u32::try_from(self.store().count_passkeys(user_id).await?).unwrap_or(u32::MAX);
        Ok(SecondFactors {
            totp,
            backup_codes_left,
            passkeys,
        })
    }

    /// Starts adding an authenticator app: a new secret, unconfirmed until
    /// [`Torii::confirm_totp`]. Needs a recent sign-in, except on a session pending on
    /// `setup_mfa` (which has just signed in, and can do nothing else).
    ///
    /// # Errors
    /// Second factors off; a confirmed authenticator exists; no recent sign-in; a store
    /// failure.
    pub async fn enroll_totp(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
    ) -> Result<TotpEnrollment, MfaError> {
        require_enabled(env)?;
        let user = &found.user;
        if self
            .store()
            .totp(&user.id)
            .await?
            .is_some_and(|t| t.confirmed_at.is_some())
        {
            return Err(MfaError::AlreadyEnrolled);
        }
        let setting_up = found
            .info
            .current_gate
            .as_ref()
            .is_some_and(|gate| gate.key == GateKey::SetupMfa);
        if !setting_up {
            self.require_recent_sign_in(found).await?;
        }
        let secret = totp::new_secret();
        let record = TotpRecord {
            user_id: user.id.clone(),
            sealed_secret: totp::seal(self.server_keys(), &user.id, &secret),
            created_at: self.now(),
            confirmed_at: None,
            last_step: 0,
        };
        if !self.store().enroll_totp(&record).await? {
            return Err(MfaError::AlreadyEnrolled);
        }
        let (secret, otpauth_uri, qr_svg) = totp::provisioning(&secret, &env.name, &user.email)?;
        tracing::info!(user = %user.id, "authenticator enrolment started");
        Ok(TotpEnrollment {
            secret,
            otpauth_uri,
            qr_svg,
        })
    }

    /// Confirms the unconfirmed authenticator with its first code; returns the user's
    /// factors and, when the user had no backup codes left, a new set (shown this once).
    /// Clears `setup_mfa` and counts as a second factor verified on this session.
    /// Limited like every second-factor check.
    ///
    /// # Errors
    /// A rate limit; second factors off; a malformed, wrong or expired code; nothing to
    /// confirm; a store failure.
    pub async fn confirm_totp(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        code: &str,
        client: &ClientInfo,
    ) -> Result<TotpConfirmed, Guarded<MfaError>> {
        let user_id = &found.user.id;
        let buckets = RateBucket::second_factor_tries(client, &found.session.id, user_id);
        let work = async {
            require_enabled(env)?;
            let code = totp::normalize(code)
                .ok_or_else(|| field("code", "Enter the 6-digit code from your app."))?;
            let record = match self.store().totp(user_id).await? {
                Some(record) if record.confirmed_at.is_some() => {
                    return Err(MfaError::AlreadyEnrolled);
                }
                Some(record) => record,
                None => return Err(MfaError::NotEnrolled),
            };
            let secret = totp::open(self.server_keys(), user_id, &record.sealed_secret)?;
            let step = match totp::match_code(&secret, &code, self.now())? {
                totp::CodeMatch::Step(step) => step,
                totp::CodeMatch::Expired => return Err(MfaError::CodeExpired),
                totp::CodeMatch::Wrong => return Err(MfaError::InvalidCode),
            };
            let codes = backup_codes::generate();
            let macs: Vec<String> = codes
                .iter()
                .filter_map(|c| backup_codes::normalize(c))
                .map(|c| backup_codes::mac(self.server_keys(), user_id, &c))
                .collect();
            let now = self.now();
            let shown = match self.store().confirm_totp(user_id, step, now, &macs).await? {
                TotpConfirmation::NotPending => return Err(MfaError::NotEnrolled),
                TotpConfirmation::ConfirmedWithCodes => Some(codes),
                TotpConfirmation::Confirmed => None,
            };
            let store = self.store();
            let setup = GateKey::SetupMfa.as_str();
            store.clear_gate(GateTarget::User(user_id), setup).await?;
            store
                .clear_gate(GateTarget::Session(&found.session.id), setup)
                .await?;
            store
                .set_session_second_factor(&found.session.id, now)
                .await?;
            tracing::info!(user = %user_id, "authenticator confirmed");
            self.notify(
                &env.id,
                &found.user.email,
                &Notice::second_factor_added(&env.name),
            );
            Ok(TotpConfirmed {
                factors: self.second_factors(user_id).await?,
                backup_codes: shown,
            })
        };
        self.guarded(env, None, &buckets, work).await
    }

    /// Removes the user's authenticator and backup codes. A confirmed one needs a recent
    /// sign-in and second factor, and is refused where second factors are required and it is
    /// the user's last (no passkey).
    ///
    /// # Errors
    /// None to remove; no recent sign-in or second factor; the last factor; a store failure.
    pub async fn remove_totp(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
    ) -> Result<(), MfaError> {
        let user_id = &found.user.id;
        let record = self
            .store()
            .totp(user_id)
            .await?
            .ok_or(MfaError::NotEnrolled)?;
        if record.confirmed_at.is_some() {
            self.require_recent_sign_in(found).await?;
            if env.mfa.policy == MfaPolicy::Required
                && self.store().count_passkeys(user_id).await? == 0
            {
                return Err(MfaError::Required);
            }
        }
        if !self.store().delete_totp(user_id).await? {
            return Err(MfaError::NotEnrolled);
        }
        tracing::info!(user = %user_id, "authenticator removed");
        if record.confirmed_at.is_some() {
            self.notify(
                &env.id,
                &found.user.email,
                &Notice::second_factor_removed(&env.name, false),
            );
        }
        Ok(())
    }

    /// Replaces the user's backup codes with ten new ones (the old ones stop working), shown
    /// this once. Needs a second factor to back up, a recent sign-in and a recent second
    /// factor.
    ///
    /// # Errors
    /// Second factors off; no second factor; no recent sign-in or second factor; a store
    /// failure.
    pub async fn regenerate_backup_codes(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
    ) -> Result<BackupCodes, MfaError> {
        require_enabled(env)?;
        let user_id = &found.user.id;
        let factors = self.second_factors(user_id).await?;
        if !factors.totp && factors.passkeys == 0 {
            return Err(MfaError::NotEnrolled);
        }
        self.require_recent_sign_in(found).await?;
        let codes = backup_codes::generate();
        let macs: Vec<String> = codes
            .iter()
            .filter_map(|c| backup_codes::normalize(c))
            .map(|c| backup_codes::mac(self.server_keys(), user_id, &c))
            .collect();
        self.store()
            .replace_backup_codes(user_id, &macs, self.now())
            .await?;
        tracing::info!(user = %user_id, "backup codes regenerated");
        self.notify(
            &env.id,
            &found.user.email,
            &Notice::backup_codes_regenerated(&env.name),
        );
        Ok(BackupCodes { codes })
    }

    /// Removes one of the user's passkeys after a recent sign-in (and second factor), unless
    /// it is their last way to sign in, or (where second factors are required) their last
    /// second factor.
    ///
    /// # Errors
    /// No recent sign-in or second factor; the last second factor; no such passkey; the last
    /// way to sign in; a store failure.
    pub async fn remove_passkey(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        id: &str,
    ) -> Result<(), MfaError> {
        self.require_recent_sign_in(found).await?;
        let user_id = &found.user.id;
        if env.mfa.policy == MfaPolicy::Required {
            let factors = self.second_factors(user_id).await?;
            let owned = self
                .store()
                .list_passkeys(user_id)
                .await?
                .iter()
                .any(|p| p.id == id);
            if owned && !factors.totp && factors.passkeys <= 1 {
                return Err(MfaError::Required);
            }
        }
        Ok(self.delete_passkey(user_id, id).await?)
    }

    /// During a server-key rotation (a previous key configured): seals every authenticator
    /// secret that opens only with the previous key again under the current one, so that
    /// nothing depends on the previous key once it is removed. Returns how many were sealed
    /// again; a secret neither key opens is left as it is, and logged.
    ///
    /// # Errors
    /// A store failure.
    pub async fn reseal_totp_secrets(&self) -> Result<u64, StoreError> {
        let keys = self.server_keys();
        if keys.previous.is_none() {
            return Ok(0);
        }
        let mut resealed = 0;
        for (user_id, sealed) in self.store().totp_secrets().await? {
            match totp::resealed(keys, &user_id, &sealed) {
                Ok(Some(new)) => {
                    if self
                        .store()
                        .reseal_totp_secret(&user_id, &sealed, &new)
                        .await?
                    {
                        resealed += 1;
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(user = %user_id, %error, "an authenticator secret opens with neither server key");
                }
            }
        }
        if resealed > 0 {
            tracing::info!(
                resealed,
                "authenticator secrets sealed under the new server key"
            );
        }
        Ok(resealed)
    }

    async fn user_in(&self, env: &Environment, user_id: &str) -> Result<UserRecord, MfaError> {
        match self.store().get_user(user_id).await? {
            Some(user) if user.environment_id == env.id => Ok(user),
            _ => Err(MfaError::UserNotFound),
        }
    }

    /// A user's second factors, for the secret-key API.
    ///
    /// # Errors
    /// No such user in the environment; a store failure.
    pub async fn admin_second_factors(
        &self,
        env: &Environment,
        user_id: &str,
    ) -> Result<SecondFactors, MfaError> {
        self.user_in(env, user_id).await?;
        Ok(self.second_factors(user_id).await?)
    }

    /// Removes a user's authenticator and backup codes (a user who lost them), for the
    /// secret-key API. Where second factors are required and the user has no passkey, every
    /// session of theirs becomes pending on `setup_mfa`.
    ///
    /// # Errors
    /// No such user in the environment; a store failure.
    pub async fn admin_reset_second_factors(
        &self,
        env: &Environment,
        user_id: &str,
    ) -> Result<(), MfaError> {
        let user = self.user_in(env, user_id).await?;
        let removed = self.store().reset_second_factors(user_id).await?;
        if env.mfa.policy == MfaPolicy::Required && self.store().count_passkeys(user_id).await? == 0
        {
            self.store()
                .require_gate(
                    GateTarget::User(user_id),
                    GateKey::SetupMfa.as_str(),
                    self.now(),
                )
                .await?;
        }
        if removed {
            tracing::info!(user = %user_id, "second factors reset by the application");
            self.notify(
                &env.id,
                &user.email,
                &Notice::second_factor_removed(&env.name, true),
            );
        }
        Ok(())
    }
}
