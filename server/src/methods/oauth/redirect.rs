//! The redirect: `start` sends the browser to the provider with a stored ceremony as its
//! `state`; `callback` takes the ceremony back and hands the provider's account to the
//! linking rules.

use super::provider::github_client;
use super::{
    AppUrls, BoundState, CEREMONY_KIND, CEREMONY_TTL, CallbackOutcome, CallbackParams, Ceremony,
    OAuthError, Purpose, Started, failed, provider_failure,
};
use crate::ceremony::CeremonyError;
use crate::environment::{Environment, OAuthProviderConfig};
use crate::guard::Guarded;
use crate::rate_limit::{IpKey, RateBucket};
use crate::{AuthenticatedSession, ClientInfo, Torii};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    ClientId, ClientSecret, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope,
};
use std::sync::Arc;
use torii_shared::{EnvironmentMode, ErrorCode, SignInMethod};

impl Torii {
    /// Starts a sign-in with a provider. Limited per client address (ceremonies started).
    ///
    /// # Errors
    /// A rate limit; an unknown provider, a redirect URL off the allow-list, an unreachable
    /// provider, a store failure.
    pub async fn start_oauth(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        client: &ClientInfo,
    ) -> Result<Started, Guarded<OAuthError>> {
        let purpose = Purpose {
            link_user_id: None,
            reauth_session_id: None,
        };
        let buckets = [RateBucket::CeremonyIp(IpKey::of(client))];
        let work = self.start_oauth_for(env, provider_id, urls, purpose);
        self.guarded(env, None, &buckets, work).await
    }

    /// Starts linking a provider to the signed-in user of `found`. In this order: OAuth must
    /// be enabled, the session must have signed in recently, and the call is limited per
    /// client address (ceremonies started).
    ///
    /// # Errors
    /// OAuth not enabled; [`OAuthError::Account`] without a recent sign-in; a rate limit; an
    /// unknown provider, a redirect URL off the allow-list, an unreachable provider, a store
    /// failure.
    pub async fn start_oauth_link(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        found: &AuthenticatedSession,
        client: &ClientInfo,
    ) -> Result<Started, Guarded<OAuthError>> {
        self.guard(env, Some(SignInMethod::Oauth), &[]).await?;
        self.require_recent_sign_in(found)
            .await
            .map_err(|e| Guarded::Failed(OAuthError::Account(Box::new(e))))?;
        let purpose = Purpose {
            link_user_id: Some(&found.user.id),
            reauth_session_id: None,
        };
        let buckets = [RateBucket::CeremonyIp(IpKey::of(client))];
        let work = self.start_oauth_for(env, provider_id, urls, purpose);
        self.guarded(env, None, &buckets, work).await
    }

    /// Starts a re-authentication of `session_id` (of `user_id`) with a provider linked to
    /// the user. Needs OAuth enabled; limited per client address (ceremonies started).
    ///
    /// # Errors
    /// OAuth not enabled; a rate limit; an unknown provider, or one the user has not linked;
    /// a redirect URL off the allow-list; an unreachable provider; a store failure.
    pub async fn start_oauth_reauthentication(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        user_id: &str,
        session_id: &str,
        client: &ClientInfo,
    ) -> Result<Started, Guarded<OAuthError>> {
        let buckets = [RateBucket::CeremonyIp(IpKey::of(client))];
        let work = self.oauth_reauthentication(env, provider_id, urls, user_id, session_id);
        self.guarded(env, Some(SignInMethod::Oauth), &buckets, work)
            .await
    }

    async fn oauth_reauthentication(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        user_id: &str,
        session_id: &str,
    ) -> Result<Started, OAuthError> {
        self.oauth_provider(env, provider_id)
            .ok_or(OAuthError::UnknownProvider)?;
        let linked = self
            .store()
            .list_oauth_identities(user_id)
            .await?
            .iter()
            .any(|identity| identity.provider == provider_id);
        if !linked {
            return Err(OAuthError::NotLinked);
        }
        let purpose = Purpose {
            link_user_id: Some(user_id),
            reauth_session_id: Some(session_id),
        };
        self.start_oauth_for(env, provider_id, urls, purpose).await
    }

    async fn start_oauth_for(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        purpose: Purpose<'_>,
    ) -> Result<Started, OAuthError> {
        let provider = self
            .oauth_provider(env, provider_id)
            .ok_or(OAuthError::UnknownProvider)?;
        let sign_up_url = urls
            .sign_up_url
            .clone()
            .unwrap_or_else(|| urls.redirect_url.clone());
        if !env.allows_redirect(&urls.redirect_url) || !env.allows_redirect(&sign_up_url) {
            return Err(OAuthError::RedirectNotAllowed);
        }
        let redirect_uri = RedirectUrl::new(self.oauth_redirect_uri(&provider.id))
            .map_err(|e| OAuthError::Provider(e.to_string()))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = provider.scopes().into_iter().map(Scope::new);
        let (url, state) = match provider.issuer_url() {
            Some(issuer) => {
                let metadata = self
                    .provider_metadata(issuer, false)
                    .await
                    .map_err(|e| OAuthError::Provider(e.to_string()))?;
                let nonce = Nonce::new_random();
                let state = self
                    .store_oauth_ceremony(env, provider, &verifier, Some(&nonce), urls, purpose)
                    .await?;
                let client = CoreClient::from_provider_metadata(
                    (*metadata).clone(),
                    ClientId::new(provider.client_id.clone()),
                    Some(ClientSecret::new(
                        provider.client_secret.expose().to_owned(),
                    )),
                )
                .set_redirect_uri(redirect_uri);
                let returned_state = state.clone();
                let (url, _, _) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || CsrfToken::new(returned_state),
                        move || nonce,
                    )
                    .add_scopes(scopes)
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state)
            }
            None => {
                let state = self
                    .store_oauth_ceremony(env, provider, &verifier, None, urls, purpose)
                    .await?;
                let client = github_client(provider)
                    .map_err(|e| OAuthError::Provider(e.to_string()))?
                    .set_redirect_uri(redirect_uri);
                let returned_state = state.clone();
                let (url, _) = client
                    .authorize_url(move || CsrfToken::new(returned_state))
                    .add_scopes(scopes)
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state)
            }
        };
        Ok(Started { url, state })
    }

    async fn store_oauth_ceremony(
        &self,
        env: &Environment,
        provider: &OAuthProviderConfig,
        verifier: &PkceCodeVerifier,
        nonce: Option<&Nonce>,
        urls: &AppUrls,
        purpose: Purpose<'_>,
    ) -> Result<String, CeremonyError> {
        let ceremony = Ceremony {
            provider: provider.id.clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.map(|n| n.secret().clone()),
            redirect_url: urls.redirect_url.clone(),
            sign_up_url: urls
                .sign_up_url
                .clone()
                .unwrap_or_else(|| urls.redirect_url.clone()),
            link_user_id: purpose.link_user_id.map(str::to_owned),
            reauth_session_id: purpose.reauth_session_id.map(str::to_owned),
        };
        self.start_ceremony(CEREMONY_KIND, &env.id, &ceremony, CEREMONY_TTL)
            .await
    }

    /// Finishes the provider's redirect back. `bound_state` is the state this browser's
    /// cookie holds: a `state` that is not it is refused (and the browser's own ceremony,
    /// when it has one, ends with `oauth_state_mismatch`).
    ///
    /// # Errors
    /// [`OAuthError::UnknownState`] when no ceremony of this browser can be found (the app's
    /// URL is then unknown); a store failure.
    pub async fn finish_oauth(
        &self,
        provider_id: &str,
        params: &CallbackParams,
        bound_state: Option<BoundState<'_>>,
        client: &ClientInfo,
    ) -> Result<CallbackOutcome, OAuthError> {
        let Some(BoundState {
            state: bound,
            host_only,
        }) = bound_state
        else {
            return Err(OAuthError::UnknownState);
        };
        let matches = params.state.as_deref().is_some_and(|state| {
            use subtle::ConstantTimeEq as _;
            state.len() == bound.len() && bool::from(state.as_bytes().ct_eq(bound.as_bytes()))
        });
        // The ceremony may be in any environment offering this provider; the take is bound
        // to the environment, so at most one can match.
        let mut found = None;
        for env in self.environments() {
            if self.oauth_provider(env, provider_id).is_none() {
                continue;
            }
            match self
                .take_ceremony::<Ceremony>(CEREMONY_KIND, &env.id, bound)
                .await
            {
                Ok(ceremony) => {
                    found = Some((Arc::clone(env), ceremony));
                    break;
                }
                Err(CeremonyError::Gone) => {}
                Err(CeremonyError::Store(e)) => return Err(e.into()),
                Err(CeremonyError::Internal(e)) => return Err(e.into()),
            }
        }
        let Some((env, ceremony)) = found else {
            return Err(OAuthError::UnknownState);
        };
        // A live environment sets its state cookie with the `__Host-` prefix, which a sibling
        // domain cannot plant; a cookie without it is not this browser's proof.
        let planted = env.mode == EnvironmentMode::Live && !host_only;
        if !matches || planted || ceremony.provider != provider_id {
            return Ok(failed(ErrorCode::OauthStateMismatch, &ceremony));
        }
        let Some(provider) = self.oauth_provider(&env, provider_id) else {
            return Ok(failed(ErrorCode::OauthFailed, &ceremony));
        };
        if let Some(error) = &params.error {
            let code = if error == "access_denied" {
                ErrorCode::OauthCancelled
            } else {
                provider_failure(provider_id, "authorization", error)
            };
            return Ok(failed(code, &ceremony));
        }
        let Some(code) = params.code.clone().filter(|c| !c.is_empty()) else {
            return Ok(failed(ErrorCode::OauthFailed, &ceremony));
        };
        let account = match provider.issuer_url() {
            Some(issuer) => {
                self.oidc_account(provider, issuer, &ceremony, code, params.iss.as_deref())
                    .await
            }
            None if params.iss.is_some() => Err(provider_failure(
                provider_id,
                "iss",
                &"an issuer parameter from a provider without one",
            )),
            None => self.github_account(provider, &ceremony, code).await,
        };
        let account = match account {
            Ok(account) => account,
            Err(code) => return Ok(failed(code, &ceremony)),
        };
        self.oauth_account_signed_in(&env, provider, &ceremony, account, client)
            .await
    }
}
