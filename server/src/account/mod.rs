//! The signed-in user's own account: their sessions (list, revoke one, revoke the others),
//! display name, password and email address, and the re-authentication the sensitive changes
//! ask for.
//!
//! **Recent sign-in.** Every session records when the user last proved who they are on it
//! (`authenticated_at`: the sign-in, or a later re-authentication with the password
//! ([`Torii::reauthenticate`]), a passkey ([`Torii::reauthenticate_with_passkey`]) or a
//! linked provider (an OAuth round trip, see [`crate::methods::oauth`])). Changing the email
//! or setting a password without knowing a current one needs that to be within the
//! environment's window (`session.recent_sign_in`, default [`REAUTH_WINDOW`]), judged by
//! [`is_recent_sign_in`] on the injected clock; otherwise the answer is
//! [`AccountError::ReauthenticationRequired`]. Changing a password with the current one needs
//! nothing more: the right current password is itself a re-authentication, and is recorded as
//! one.
//!
//! **Step-up.** For a user with second factors (see [`crate::methods::mfa::policy`]) a
//! recent sign-in is not enough: the session must also have verified a second factor within
//! the same window (`second_factor_at`: the second step of the sign-in, a passkey sign-in,
//! or a re-authentication with an authenticator or backup code or a passkey), else the answer
//! is [`AccountError::SecondFactorRequired`]. A stale first factor is reported first.
//!
//! **Email change**: see [`email_change`].

pub mod email_change;

use crate::guard::Guarded;
use crate::mail::{self, MailError};
use crate::methods::email_code::SignUpError;
use crate::methods::passkey::PasskeyError;
use crate::methods::password::HashError;
use crate::rate_limit::{AttemptBucket, IpKey, LimitError, RateBucket, account_key};
use crate::session::SessionToken;
use crate::session::device::Device;
use crate::store::StoreError;
use crate::validate::{self, FieldErrors};
use crate::{AuthenticatedSession, ClientInfo, Environment, Torii};
use time::{Duration, OffsetDateTime};
use torii_shared::{
    AccountMethods, ChangePasswordRequest, PASSWORD_MAX_CHARS, Secret, SessionKind, SessionSummary,
};

/// How long after a sign-in (or re-authentication) the sensitive changes are allowed, unless
/// the environment sets its own window (`[environments.session] recent_sign_in_secs`).
pub const REAUTH_WINDOW: Duration = Duration::minutes(10);

/// Whether a session authenticated at `authenticated_at` counts as recently signed in at
/// `now`: within `window` (normally [`REAUTH_WINDOW`]), its end included.
#[must_use]
pub fn is_recent_sign_in(
    authenticated_at: OffsetDateTime,
    now: OffsetDateTime,
    window: Duration,
) -> bool {
    now - authenticated_at <= window
}

/// Why an account change failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// Some fields are invalid (or a password given to prove who the user is was wrong).
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// The change needs a sign-in within [`REAUTH_WINDOW`].
    #[error("reauthentication required")]
    ReauthenticationRequired,
    /// The account has second factors and the change needs one verified within the window.
    #[error("second factor required")]
    SecondFactorRequired,
    /// The account has no password to re-authenticate with.
    #[error("no password")]
    NoPassword,
    /// The session making the request no longer exists (a JWT session signed out elsewhere).
    #[error("session gone")]
    SessionGone,
    /// The user has no session with this id.
    #[error("session not found")]
    SessionNotFound,
    /// The new address belongs to another account.
    #[error("email taken")]
    EmailTaken,
    /// A code step failed (none sent, wrong, expired, used up, cooldown).
    #[error(transparent)]
    Code(SignUpError),
    /// The email could not be sent.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// A re-authentication with a passkey failed.
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    /// The new password appears in known breaches, or the check could not be made (and the
    /// server refuses meanwhile).
    #[error(transparent)]
    Breached(#[from] crate::breached::BreachError),
}

fn field(name: &str, message: impl Into<String>) -> AccountError {
    AccountError::Validation(FieldErrors::from([(name.to_owned(), message.into())]))
}

impl Torii {
    /// How long a sign-in counts as recent in the session's environment.
    fn recent_sign_in_window(&self, found: &AuthenticatedSession) -> Duration {
        self.environments()
            .iter()
            .find(|env| env.id == found.session.environment_id)
            .map_or(REAUTH_WINDOW, |env| env.session.recent_sign_in)
    }

    /// When the session last proved who its user is. A JWT session's time is read from its
    /// row in the store, where re-authentication records it.
    async fn authenticated_at(
        &self,
        found: &AuthenticatedSession,
    ) -> Result<OffsetDateTime, AccountError> {
        Ok(match found.kind {
            SessionKind::Database => found.session.authenticated_at,
            SessionKind::Jwt => {
                self.store()
                    .get_session(&found.session.id)
                    .await?
                    .ok_or(AccountError::SessionGone)?
                    .authenticated_at
            }
        })
    }

    /// Refuses with [`AccountError::ReauthenticationRequired`] unless the session was signed
    /// in (or re-authenticated) within its environment's window (default
    /// [`REAUTH_WINDOW`]).
    ///
    /// # Errors
    /// Not recent; the session's row is gone; a store failure.
    pub async fn require_recent_sign_in(
        &self,
        found: &AuthenticatedSession,
    ) -> Result<(), AccountError> {
        let authenticated_at = self.authenticated_at(found).await?;
        if !is_recent_sign_in(
            authenticated_at,
            self.now(),
            self.recent_sign_in_window(found),
        ) {
            return Err(AccountError::ReauthenticationRequired);
        }
        self.require_recent_second_factor(found).await
    }

    /// Refuses with [`AccountError::SecondFactorRequired`] when the user has second factors
    /// and the session verified none within its environment's window.
    ///
    /// # Errors
    /// No recent second factor; the session's row is gone; a store failure.
    pub async fn require_recent_second_factor(
        &self,
        found: &AuthenticatedSession,
    ) -> Result<(), AccountError> {
        let Some(env) = self
            .environments()
            .iter()
            .find(|env| env.id == found.session.environment_id)
        else {
            return Ok(());
        };
        if !self.has_second_factors(env, &found.user.id).await? {
            return Ok(());
        }
        let verified_at = self
            .store()
            .session_second_factor(&found.session.id)
            .await?
            .ok_or(AccountError::SessionGone)?;
        match verified_at {
            Some(at) if is_recent_sign_in(at, self.now(), env.session.recent_sign_in) => Ok(()),
            _ => Err(AccountError::SecondFactorRequired),
        }
    }

    /// How the user can sign in (and so re-authenticate), and until when the session's last
    /// proof counts as recent.
    ///
    /// # Errors
    /// The session's row is gone; a store failure.
    pub async fn account_methods(
        &self,
        found: &AuthenticatedSession,
    ) -> Result<AccountMethods, AccountError> {
        let user_id = &found.user.id;
        let password = self.store().password_hash(user_id).await?.is_some();
        let passkeys =
            u32::try_from(self.store().count_passkeys(user_id).await?).unwrap_or(u32::MAX);
        let mut oauth_providers: Vec<String> = self
            .store()
            .list_oauth_identities(user_id)
            .await?
            .into_iter()
            .map(|identity| identity.provider)
            .collect();
        oauth_providers.sort();
        oauth_providers.dedup();
        let recent_sign_in_until =
            self.authenticated_at(found).await? + self.recent_sign_in_window(found);
        Ok(AccountMethods {
            password,
            passkeys,
            oauth_providers,
            recent_sign_in_until,
        })
    }

    /// Refuses a session that was revoked: a JWT session still verifies after its row is
    /// gone, but it may not manage the account (list or end sessions, change anything).
    /// A database session is only ever found while its row exists.
    ///
    /// # Errors
    /// [`AccountError::SessionGone`]; a store failure.
    pub async fn require_live_session(
        &self,
        found: &AuthenticatedSession,
    ) -> Result<(), AccountError> {
        if found.kind == SessionKind::Jwt
            && self.store().get_session(&found.session.id).await?.is_none()
        {
            return Err(AccountError::SessionGone);
        }
        Ok(())
    }

    /// Checks the user's password again and records the session as freshly signed in.
    ///
    /// # Errors
    /// A wrong password (as a `password` field error); no password on the account; the
    /// session is gone; a store or hashing failure.
    /// Limited like a password sign-in (per client address, and the account's growing
    /// delay): a stolen session must not become a way to guess the password faster.
    pub async fn reauthenticate(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<SessionToken, Guarded<AccountError>> {
        self.limit_password_checks(env, client).await?;
        let check = async {
            self.check_current_password(found, password, "password")
                .await?;
            self.renew_session(&found.session.id).await
        };
        let account = account_key(&found.user.email);
        self.password_attempt(env, AttemptBucket::PasswordAccount(&account), check)
            .await
    }

    /// Password checks of a signed-in user count against the per-address sign-in limit.
    async fn limit_password_checks(
        &self,
        env: &Environment,
        client: &ClientInfo,
    ) -> Result<(), LimitError> {
        self.rate_limit(env, RateBucket::SignInIp(IpKey::of(client)))
            .await
    }

    /// Starts adding a passkey to the signed-in user of `found`. Adding a way to sign in needs
    /// a recent sign-in, as every sensitive change does; then the call is limited per client
    /// address (ceremonies started).
    ///
    /// # Errors
    /// No recent sign-in; the session is gone; a rate limit; passkeys not enabled; a store
    /// failure.
    pub async fn start_passkey_registration(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        client: &ClientInfo,
    ) -> Result<torii_shared::PasskeyOptions, Guarded<AccountError>> {
        self.require_recent_sign_in(found)
            .await
            .map_err(Guarded::Failed)?;
        let buckets = [RateBucket::CeremonyIp(IpKey::of(client))];
        let work = async {
            self.passkey_registration_options(env, &found.user)
                .await
                .map_err(AccountError::Passkey)
        };
        self.guarded(env, None, &buckets, work).await
    }

    /// Checks an assertion of one of the user's own passkeys (see
    /// [`Torii::start_passkey_reauthentication`]) and records the session as freshly signed
    /// in.
    ///
    /// Limited per client address, like a sign-in.
    ///
    /// # Errors
    /// A rate limit; a ceremony that is unknown, used, expired or another session's; a
    /// passkey that is another user's or does not verify; the session is gone; a store
    /// failure.
    pub async fn reauthenticate_with_passkey(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        ceremony_id: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<SessionToken, Guarded<AccountError>> {
        self.limit_password_checks(env, client).await?;
        let work = async {
            self.verify_passkey_reauthentication(
                env,
                &found.user.id,
                &found.session.id,
                ceremony_id,
                credential,
            )
            .await?;
            // A passkey with user verification is both factors.
            self.store()
                .set_session_second_factor(&found.session.id, self.now())
                .await?;
            self.renew_session(&found.session.id).await
        };
        work.await.map_err(Guarded::Failed)
    }

    /// After a re-authentication: the session gets a new token (the old one stops working at
    /// once, so a token copied before cannot ride on the fresh proof) and a recent sign-in.
    /// Returns the new token.
    ///
    /// # Errors
    /// The session is gone; a store failure.
    pub async fn renew_session(&self, session_id: &str) -> Result<SessionToken, AccountError> {
        let token = SessionToken::generate();
        if self
            .store()
            .reauthenticate_session(session_id, self.now(), &token.hash())
            .await?
        {
            Ok(token)
        } else {
            Err(AccountError::SessionGone)
        }
    }

    /// Records that the session's user just proved who they are.
    ///
    /// # Errors
    /// The session is gone; a store failure.
    pub(crate) async fn mark_reauthenticated(&self, session_id: &str) -> Result<(), AccountError> {
        if self
            .store()
            .set_session_authenticated(session_id, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AccountError::SessionGone)
        }
    }

    /// Verifies `password` against the user's; a wrong one is reported on `field_name`.
    async fn check_current_password(
        &self,
        found: &AuthenticatedSession,
        password: &Secret,
        field_name: &str,
    ) -> Result<(), AccountError> {
        let Some(stored) = self.store().password_hash(&found.user.id).await? else {
            return Err(AccountError::NoPassword);
        };
        let too_long = password.expose().chars().count() > PASSWORD_MAX_CHARS;
        let matched = self
            .hasher()
            .verify(password, (!too_long).then_some(stored.as_str()))
            .await?;
        if !matched {
            return Err(field(field_name, "That password is not right."));
        }
        Ok(())
    }

    /// The user's sessions that are still valid in this environment, most recently active
    /// first, the requesting one marked `current`.
    ///
    /// # Errors
    /// A store failure.
    pub async fn list_sessions(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let now = self.now();
        let mut sessions = self.store().list_user_sessions(&found.user.id).await?;
        for s in &mut sessions {
            if s.id == found.session.id {
                // The request's own session was just found active; its "last active" write
                // may still be on its way to the row.
                s.last_active_at = s.last_active_at.max(found.session.last_active_at);
            }
        }
        // Most recently active first (stable: the store's order among equals).
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_active_at));
        Ok(sessions
            .into_iter()
            .filter(|s| {
                s.environment_id == env.id
                    && s.expires_at > now
                    // In a JWT environment too: the row is the refresh session, which ends
                    // when idle like a database session.
                    && s.last_active_at + env.session.idle_timeout > now
            })
            .map(|s| {
                let device = Device::from_user_agent(s.user_agent.as_deref());
                SessionSummary {
                    current: s.id == found.session.id,
                    device: device.label(),
                    browser: device.browser,
                    os: device.os,
                    id: s.id,
                    ip: s.ip,
                    created_at: s.created_at,
                    last_active_at: s.last_active_at,
                }
            })
            .collect())
    }

    /// Revokes one of the user's sessions (the current one too: that is signing out).
    ///
    /// # Errors
    /// [`AccountError::SessionNotFound`] when the user has no session with this id, whoever
    /// else might; a store failure.
    pub async fn revoke_session(
        &self,
        found: &AuthenticatedSession,
        session_id: &str,
    ) -> Result<(), AccountError> {
        if self
            .store()
            .delete_user_session(&found.user.id, session_id)
            .await?
        {
            Ok(())
        } else {
            Err(AccountError::SessionNotFound)
        }
    }

    /// Revokes every session of the user but the requesting one; returns how many.
    ///
    /// # Errors
    /// A store failure.
    pub async fn revoke_other_sessions(
        &self,
        found: &AuthenticatedSession,
    ) -> Result<u64, StoreError> {
        self.store()
            .delete_other_sessions(&found.user.id, &found.session.id)
            .await
    }

    /// Sets or (blank) removes the user's display name.
    ///
    /// # Errors
    /// A name too long or with control characters; a store failure.
    pub async fn update_name(
        &self,
        found: &AuthenticatedSession,
        name: Option<&str>,
    ) -> Result<(), AccountError> {
        let name = validate::name(name).map_err(|m| field("name", m))?;
        self.store()
            .set_user_name(&found.user.id, name.as_deref(), self.now())
            .await?;
        Ok(())
    }

    /// Changes the user's password. With a password already set, the current one is
    /// required (and counts as a re-authentication); without one, a recent sign-in is.
    /// Optionally ends every other session; returns how many were ended.
    ///
    /// A check of the current password is limited like a password sign-in.
    ///
    /// # Errors
    /// A rate limit; field errors (`newPassword`, `currentPassword`); re-authentication
    /// required; store or hashing failures.
    pub async fn change_password(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        request: &ChangePasswordRequest,
        client: &ClientInfo,
    ) -> Result<u64, Guarded<AccountError>> {
        let work = self.set_password(found, request);
        if request.current_password.is_none() {
            return work.await.map_err(Guarded::Failed);
        }
        // Checked before the password, so that a missing second factor does not count as a
        // wrong password.
        self.require_recent_second_factor(found)
            .await
            .map_err(Guarded::Failed)?;
        self.limit_password_checks(env, client).await?;
        let account = account_key(&found.user.email);
        self.password_attempt(env, AttemptBucket::PasswordAccount(&account), work)
            .await
    }

    async fn set_password(
        &self,
        found: &AuthenticatedSession,
        request: &ChangePasswordRequest,
    ) -> Result<u64, AccountError> {
        validate::new_password(request.new_password.expose())
            .map_err(|m| field("newPassword", m.to_string()))?;
        let has_password = self.store().password_hash(&found.user.id).await?.is_some();
        if has_password {
            let current = request
                .current_password
                .as_ref()
                .filter(|p| !p.expose().is_empty())
                .ok_or_else(|| field("currentPassword", "Enter your current password."))?;
            self.check_current_password(found, current, "currentPassword")
                .await?;
            self.mark_reauthenticated(&found.session.id).await?;
        } else {
            self.require_recent_sign_in(found).await?;
        }
        self.check_password_not_breached(&request.new_password)
            .await?;
        let hash = self.hasher().hash(&request.new_password).await?;
        self.store()
            .set_password(&found.user.id, &hash, self.now())
            .await?;
        let revoked = if request.sign_out_other_sessions {
            self.revoke_other_sessions(found).await?
        } else {
            0
        };
        tracing::info!(user = %found.user.id, revoked, "password changed");
        let env_id = &found.session.environment_id;
        let app = self.app_name(env_id);
        self.notify(
            env_id,
            &found.user.email,
            &mail::Notice::password_changed(&app),
        );
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_is_recent_for_the_window() {
        let at = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let window = REAUTH_WINDOW;
        assert_eq!(window, Duration::minutes(10));
        assert!(is_recent_sign_in(at, at, window));
        assert!(is_recent_sign_in(at, at + Duration::minutes(10), window));
        assert!(!is_recent_sign_in(
            at,
            at + Duration::minutes(10) + Duration::milliseconds(1),
            window
        ));
        assert!(!is_recent_sign_in(at, at + Duration::hours(3), window));
        let short = Duration::seconds(5);
        assert!(is_recent_sign_in(at, at + Duration::seconds(5), short));
        assert!(!is_recent_sign_in(at, at + Duration::seconds(6), short));
    }
}
