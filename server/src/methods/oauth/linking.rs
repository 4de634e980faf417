//! The linking rules: a provider account signs in its linked user, links to a signed-in user,
//! re-authenticates one, or signs up a new user (after the consent step when the environment
//! has Terms); and unlinking, never of the last way to sign in.

use super::{
    CallbackOutcome, Ceremony, OAuthError, PendingSignUp, ProviderAccount, RenewedSession,
    SIGN_UP_CEREMONY_KIND, SIGN_UP_TTL, failed,
};
use crate::ceremony::CeremonyError;
use crate::environment::{Environment, OAuthProviderConfig};
use crate::guard::Guarded;
use crate::rate_limit::{IpKey, RateBucket};
use crate::session::{SessionToken, new_id};
use crate::store::{
    CreateOAuthUser, GateTarget, MethodRemoval, OAuthIdentityRecord, SignInMethodRef, StoreError,
    UserRecord,
};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Torii, validate};
use torii_shared::{ErrorCode, GateKey, SignInMethod};

impl Torii {
    /// Signs in, links or signs up the provider's account, by the linking rules.
    pub(super) async fn oauth_account_signed_in(
        &self,
        env: &Environment,
        provider: &OAuthProviderConfig,
        ceremony: &Ceremony,
        account: ProviderAccount,
        client: &ClientInfo,
    ) -> Result<CallbackOutcome, OAuthError> {
        let now = self.now();
        let existing = self
            .store()
            .find_oauth_identity(&env.id, &provider.id, &account.subject)
            .await?;
        let identity_for = |user_id: &str| OAuthIdentityRecord {
            id: new_id("oid"),
            user_id: user_id.to_owned(),
            environment_id: env.id.clone(),
            provider: provider.id.clone(),
            subject: account.subject.clone(),
            email: account.email.clone(),
            created_at: now,
        };
        if let Some(session_id) = &ceremony.reauth_session_id {
            let is_the_users = matches!(
                (&existing, &ceremony.link_user_id),
                (Some(identity), Some(user_id)) if &identity.user_id == user_id
            );
            if !is_the_users {
                return Ok(failed(ErrorCode::OauthWrongAccount, ceremony));
            }
            // The session gets a new token; it may have ended meanwhile (signed out,
            // revoked): then there is nothing to renew.
            let token = SessionToken::generate();
            let renewed = self
                .store()
                .reauthenticate_session(session_id, now, &token.hash())
                .await?;
            let session = if renewed {
                self.store().get_session(session_id).await?
            } else {
                None
            };
            let Some(session) = session else {
                return Ok(failed(ErrorCode::OauthFailed, ceremony));
            };
            return Ok(CallbackOutcome::Reauthenticated {
                redirect_url: ceremony.redirect_url.clone(),
                // A JWT environment's cookie holds a JWT, which the client refreshes.
                renewed: (env.session.kind == torii_shared::SessionKind::Database).then_some(
                    RenewedSession {
                        token,
                        mode: env.mode,
                        expires_at: session.expires_at,
                    },
                ),
            });
        }
        if let Some(user_id) = &ceremony.link_user_id {
            return Ok(match existing {
                Some(identity) if &identity.user_id == user_id => CallbackOutcome::Linked {
                    redirect_url: ceremony.redirect_url.clone(),
                },
                Some(_) => failed(ErrorCode::OauthAlreadyLinked, ceremony),
                None => match self
                    .store()
                    .insert_oauth_identity(&identity_for(user_id))
                    .await
                {
                    Ok(()) => {
                        if let Some(user) = self.store().get_user(user_id).await? {
                            let notice = crate::mail::Notice::provider_linked(
                                &env.name,
                                &provider.display_name(),
                                account.email.as_deref(),
                            );
                            self.notify(&env.id, &user.email, &notice);
                        }
                        CallbackOutcome::Linked {
                            redirect_url: ceremony.redirect_url.clone(),
                        }
                    }
                    Err(StoreError::Conflict(_)) => failed(ErrorCode::OauthAlreadyLinked, ceremony),
                    Err(other) => return Err(other.into()),
                },
            });
        }
        if let Some(identity) = existing {
            let Some(user) = self.store().get_user(&identity.user_id).await? else {
                return Ok(failed(ErrorCode::OauthFailed, ceremony));
            };
            return self.oauth_signed_in(env, user, ceremony, client).await;
        }
        let Some(email) = account
            .email
            .as_deref()
            .and_then(|e| validate::email(e).ok())
        else {
            return Ok(failed(ErrorCode::OauthEmailMissing, ceremony));
        };
        if let Some(user) = self
            .store()
            .find_user_by_email(&env.id, &email.canonical)
            .await?
        {
            // Linking on an email alone is only safe when both ends proved they own it.
            if !(account.email_verified && user.email_verified) {
                return Ok(failed(ErrorCode::OauthAccountExists, ceremony));
            }
            match self
                .store()
                .insert_oauth_identity(&identity_for(&user.id))
                .await
            {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
            return self.oauth_signed_in(env, user, ceremony, client).await;
        }
        // An address the provider has not verified is anyone's claim: a user made from it
        // would be waiting for the address's real owner (see `crate::account::prove_email`).
        if !account.email_verified && !env.oauth_allow_unverified_emails {
            return Ok(failed(ErrorCode::OauthEmailUnverified, ceremony));
        }
        let pending = PendingSignUp {
            provider: provider.id.clone(),
            subject: account.subject.clone(),
            email: email.display,
            email_verified: account.email_verified,
            name: account.name.clone(),
        };
        if env.legal_required() {
            let (sign_up_id, browser_binding) = self
                .start_bound_ceremony(SIGN_UP_CEREMONY_KIND, &env.id, &pending, SIGN_UP_TTL)
                .await?;
            return Ok(CallbackOutcome::NeedsConsent {
                sign_up_id,
                browser_binding,
                mode: env.mode,
                sign_up_url: ceremony.sign_up_url.clone(),
            });
        }
        Ok(match self.create_oauth_user(env, pending, client).await {
            Ok(done) => CallbackOutcome::SignedIn {
                done: Box::new(done),
                redirect_url: ceremony.redirect_url.clone(),
            },
            Err(OAuthError::EmailTaken) => failed(ErrorCode::OauthAccountExists, ceremony),
            Err(OAuthError::Store(e)) => return Err(e.into()),
            Err(OAuthError::Internal(e)) => return Err(e.into()),
            Err(OAuthError::Session(e)) => return Err(e.into()),
            Err(_) => failed(ErrorCode::OauthFailed, ceremony),
        })
    }

    async fn oauth_signed_in(
        &self,
        env: &Environment,
        user: UserRecord,
        ceremony: &Ceremony,
        client: &ClientInfo,
    ) -> Result<CallbackOutcome, OAuthError> {
        let done = self
            .sign_in_user(env, user, client, crate::FirstFactor::Oauth)
            .await?;
        Ok(CallbackOutcome::SignedIn {
            done: Box::new(done),
            redirect_url: ceremony.redirect_url.clone(),
        })
    }

    async fn create_oauth_user(
        &self,
        env: &Environment,
        pending: PendingSignUp,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, OAuthError> {
        let now = self.now();
        let email = validate::email(&pending.email).map_err(|_| OAuthError::NotFound)?;
        let user = UserRecord {
            id: new_id("usr"),
            environment_id: env.id.clone(),
            email: email.display,
            email_canonical: email.canonical,
            name: pending
                .name
                .as_deref()
                .and_then(|n| validate::name(Some(n)).ok().flatten()),
            email_verified: pending.email_verified,
            legal_version: env
                .legal_required()
                .then(|| env.terms_version.clone())
                .flatten(),
            created_at: now,
            updated_at: now,
        };
        let identity = OAuthIdentityRecord {
            id: new_id("oid"),
            user_id: user.id.clone(),
            environment_id: env.id.clone(),
            provider: pending.provider,
            subject: pending.subject,
            email: Some(pending.email),
            created_at: now,
        };
        let (session, token) = self.new_session_record(env, &user.id, client);
        match self
            .store()
            .create_oauth_user(&user, &identity, &session)
            .await?
        {
            CreateOAuthUser::Created => {
                if !user.email_verified {
                    // Until the address's owner proves it, the account is theirs to claim.
                    self.store()
                        .require_gate(
                            GateTarget::User(&user.id),
                            GateKey::EmailVerification.as_str(),
                            now,
                        )
                        .await?;
                }
                self.apply_sign_in_factors(env, &user, &session.id, crate::FirstFactor::Oauth)
                    .await?;
                let info = self.session_gates(env, &user, &session.id).await?;
                Ok(self.finish_sign_in(env, session, user, info, token)?)
            }
            CreateOAuthUser::EmailTaken => Err(OAuthError::EmailTaken),
            CreateOAuthUser::IdentityTaken => Err(OAuthError::NotFound),
        }
    }

    /// The consent step of a new OAuth user: with the Terms accepted, creates the user, links
    /// the provider and signs in. The pending sign-up works once, and only from the browser
    /// holding its binding cookie. Needs OAuth enabled; limited per client address
    /// (verifications).
    ///
    /// # Errors
    /// OAuth not enabled; a rate limit; consent not given, an unknown or used sign-up, the
    /// email taken meanwhile, a store failure.
    pub async fn continue_oauth_sign_up(
        &self,
        env: &Environment,
        sign_up_id: &str,
        browser_binding: Option<&str>,
        legal_accepted: bool,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, Guarded<OAuthError>> {
        let buckets = [RateBucket::VerifyIp(IpKey::of(client))];
        let work =
            self.finish_oauth_sign_up(env, sign_up_id, browser_binding, legal_accepted, client);
        self.guarded(env, Some(SignInMethod::Oauth), &buckets, work)
            .await
    }

    async fn finish_oauth_sign_up(
        &self,
        env: &Environment,
        sign_up_id: &str,
        browser_binding: Option<&str>,
        legal_accepted: bool,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, OAuthError> {
        if env.legal_required() && !legal_accepted {
            return Err(OAuthError::ConsentRequired);
        }
        // Another browser (one that only saw the id in a URL) finds nothing, consumes nothing.
        let Some(binding) = browser_binding.filter(|b| !b.is_empty() && !sign_up_id.contains('.'))
        else {
            return Err(OAuthError::NotFound);
        };
        let pending: PendingSignUp = self
            .take_ceremony(
                SIGN_UP_CEREMONY_KIND,
                &env.id,
                &crate::ceremony::bound_ceremony_key(sign_up_id, binding),
            )
            .await
            .map_err(|e| match e {
                CeremonyError::Gone => OAuthError::NotFound,
                CeremonyError::Store(e) => OAuthError::Store(e),
                CeremonyError::Internal(e) => OAuthError::Internal(e),
            })?;
        self.create_oauth_user(env, pending, client).await
    }

    /// The signed-in user's linked provider accounts.
    ///
    /// # Errors
    /// A store failure.
    pub async fn oauth_identities(
        &self,
        user_id: &str,
    ) -> Result<Vec<OAuthIdentityRecord>, StoreError> {
        self.store().list_oauth_identities(user_id).await
    }

    /// Unlinks one of the user's provider accounts, unless it is their last way to sign in.
    ///
    /// # Errors
    /// [`OAuthError::NotFound`], [`OAuthError::LastSignInMethod`], a store failure.
    pub async fn unlink_oauth_identity(
        &self,
        user_id: &str,
        identity_id: &str,
    ) -> Result<(), OAuthError> {
        match self
            .store()
            .remove_sign_in_method(user_id, SignInMethodRef::OAuthIdentity(identity_id))
            .await?
        {
            MethodRemoval::Removed => Ok(()),
            MethodRemoval::NotFound => Err(OAuthError::NotFound),
            MethodRemoval::LastMethod => Err(OAuthError::LastSignInMethod),
        }
    }
}
