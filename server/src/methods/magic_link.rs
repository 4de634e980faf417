//! Sign-in links sent by email.
//!
//! Transitions: `request` → when the address has an account, a link carrying 256 random bits is
//! emailed (only its hash is stored; 10 minutes; a newer link replaces older ones); for an
//! unknown address nothing is sent and the answer is the same. Opening the link shows a page
//! that consumes nothing (mail scanners fetch links); its button POSTs the token, which is
//! consumed atomically once, marks the email verified and creates a session.

use crate::guard::Guarded;
use crate::mail::{self, MailError};
use crate::rate_limit::{RateBucket, account_key};
use crate::session::{SessionToken, new_id, random_url_token};
use crate::store::{MagicLinkRecord, StoreError};
use crate::validate::{self, FieldErrors};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Environment, Torii};
use time::Duration;
use torii_shared::SignInMethod;

/// How long a link works.
pub const LINK_TTL: Duration = Duration::minutes(10);

/// Why a sign-in link step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MagicLinkError {
    /// The email or redirect URL is not acceptable.
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// The link was used, replaced, expired, or never existed.
    #[error("link used or expired")]
    Expired,
    /// The email could not be sent.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing the user in failed in a way that is not only the store's (a JWT that could
    /// not be signed).
    #[error(transparent)]
    Session(crate::session::SessionError),
}

impl From<crate::session::SessionError> for MagicLinkError {
    fn from(error: crate::session::SessionError) -> Self {
        match error {
            crate::session::SessionError::Store(e) => Self::Store(e),
            other => Self::Session(other),
        }
    }
}

impl Torii {
    /// Emails a sign-in link when the address has an account; answers the same either way.
    /// Needs sign-in links enabled; limited per client address and per address emailed.
    ///
    /// # Errors
    /// Links disabled; a rate limit; an invalid email or redirect URL, a mail or store failure.
    pub async fn request_magic_link(
        &self,
        env: &Environment,
        email: &str,
        redirect_url: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), Guarded<MagicLinkError>> {
        let address = account_key(email);
        let buckets = RateBucket::email(client, &address);
        let work = self.send_magic_link(env, email, redirect_url);
        self.guarded(env, Some(SignInMethod::MagicLink), &buckets, work)
            .await
    }

    async fn send_magic_link(
        &self,
        env: &Environment,
        email: &str,
        redirect_url: Option<&str>,
    ) -> Result<(), MagicLinkError> {
        let mut fields = FieldErrors::new();
        let address = validate::email(email)
            .map_err(|m| fields.insert("email".to_owned(), m.to_owned()))
            .ok();
        if let Some(target) = redirect_url
            && !env.allows_redirect(target)
        {
            fields.insert(
                "redirectUrl".to_owned(),
                "This redirect URL is not allowed for this application.".to_owned(),
            );
        }
        let Some(address) = address.filter(|_| fields.is_empty()) else {
            return Err(MagicLinkError::Validation(fields));
        };
        let Some(user) = self
            .store()
            .find_user_by_email(&env.id, &address.canonical)
            .await?
        else {
            return Ok(());
        };
        let token = random_url_token(32);
        let now = self.now();
        let link = MagicLinkRecord {
            id: new_id("mlk"),
            environment_id: env.id.clone(),
            user_id: user.id.clone(),
            token_hash: SessionToken::from_client(&token).hash(),
            redirect_url: redirect_url.map(str::to_owned),
            expires_at: now + LINK_TTL,
            created_at: now,
        };
        self.store().insert_magic_link(&link).await?;
        let mut url = self.public_url().clone();
        url.set_path("/v1/magic-links/verify");
        url.query_pairs_mut()
            .clear()
            .append_pair("token", &token)
            .append_pair(torii_shared::PUBLISHABLE_KEY_QUERY, &env.publishable_key);
        let email = mail::magic_link(
            &env.name,
            &user.email,
            url.as_str(),
            LINK_TTL.whole_minutes(),
        )?;
        self.deliver_in_background(email, "sign-in link");
        Ok(())
    }

    /// Whether a link's token is live (unused, unreplaced, unexpired, of this environment),
    /// without consuming it.
    ///
    /// # Errors
    /// A store failure.
    pub async fn magic_link_is_live(
        &self,
        env: &Environment,
        token: &str,
    ) -> Result<bool, StoreError> {
        if token.is_empty() || token.len() > 256 {
            return Ok(false);
        }
        let now = self.now();
        Ok(self
            .store()
            .find_magic_link(&SessionToken::from_client(token).hash())
            .await?
            .is_some_and(|link| link.environment_id == env.id && link.expires_at > now))
    }

    /// Consumes a link's token and signs its user in; also answers where to go next.
    ///
    /// Unlike the other sign-in calls this one does not guard itself: the HTTP handler must
    /// count the attempt before it reads the body, so it calls [`Torii::guard`] first (sign-in
    /// links enabled, [`RateBucket::VerifyIp`]). An embedder should do the same.
    ///
    /// # Errors
    /// A used, replaced, expired or unknown link; a store failure.
    pub async fn verify_magic_link(
        &self,
        env: &Environment,
        token: &str,
        client: &ClientInfo,
    ) -> Result<(AuthenticatedSessionWithToken, Option<String>), MagicLinkError> {
        if token.is_empty() || token.len() > 256 {
            return Err(MagicLinkError::Expired);
        }
        let now = self.now();
        let link = self
            .store()
            .consume_magic_link(&SessionToken::from_client(token).hash(), now)
            .await?
            .filter(|link| link.environment_id == env.id)
            .ok_or(MagicLinkError::Expired)?;
        let user = self
            .store()
            .get_user(&link.user_id)
            .await?
            .ok_or(MagicLinkError::Expired)?;
        // Opening the link proved control of the mailbox.
        let user = self.address_proven(env, user).await?;
        let done = self
            .sign_in_user(env, user, client, crate::FirstFactor::MagicLink)
            .await?;
        Ok((done, link.redirect_url))
    }
}
