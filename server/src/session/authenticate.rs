//! Authenticating a request's session token, re-issuing it, and signing out. A session token
//! (a database session, or in a JWT environment the refresh session) is answered from this
//! node's cache (see [`super::cache`]) or looked up (coalesced under load), and marked active
//! at most once a minute, off the request path (see [`super::touch`]); a JWT is verified
//! without the store, and is never a way to get another: only the refresh session is.

use super::cache::Cached;
use super::jwt::JwtError;
use super::sign_in::{AuthenticatedSession, AuthenticatedSessionWithToken};
use crate::error::internal::{InternalError, InternalSource};
use crate::session::{SessionError, SessionToken};
use crate::store::{SessionRecord, UserRecord};
use crate::{Environment, Torii};
use time::{Duration, OffsetDateTime};
use torii_shared::{SessionInfo, SessionKind};

/// Whether a token a client presented is a JWT (three dot-separated parts) rather than a
/// session token (base64url, no dot).
#[must_use]
pub fn is_jwt(token: &SessionToken) -> bool {
    token.expose().contains('.')
}

/// How often at most "last active" is written for a session.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// Whether a database session may be used now in `env`: its own environment's, before its
/// absolute expiry, and not idle for too long.
fn live(env: &Environment, session: &SessionRecord, now: OffsetDateTime) -> bool {
    session.environment_id == env.id
        && session.expires_at > now
        && session.last_active_at + env.session.idle_timeout > now
}

impl Torii {
    /// Verifies a JWT session without the store. An unknown `kid` (a key rotated on another
    /// node) reloads the key set once.
    async fn authenticate_jwt(
        &self,
        env: &Environment,
        token: &SessionToken,
    ) -> Result<Option<AuthenticatedSession>, SessionError> {
        let Some(keys) = self.inner.jwt.as_ref() else {
            return Ok(None);
        };
        let raw = token.expose();
        let max_life = env.session.jwt_lifetime;
        let mut verified = keys.verify(raw, &self.issuer(), &env.id, self.now(), max_life);
        if matches!(verified, Err(super::jwt::JwtError::UnknownKid)) {
            // Perhaps rotated in on another node: read the key set again, once.
            keys.reload(self.store()).await.map_err(|e| match e {
                JwtError::Store(e) => SessionError::KeyReload(e),
                // Key material that does not decode or open: the server's own state.
                other => SessionError::Internal(InternalError::new(InternalSource::Jwt, other)),
            })?;
            verified = keys.verify(raw, &self.issuer(), &env.id, self.now(), max_life);
        }
        let Ok(claims) = verified else {
            return Ok(None);
        };
        let at = |secs: i64| {
            OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        let session = SessionRecord {
            id: claims.sid,
            environment_id: env.id.clone(),
            user_id: claims.sub.clone(),
            token_hash: String::new(),
            created_at: at(claims.session_created_at),
            expires_at: at(claims.exp),
            last_active_at: at(claims.iat),
            // The store's row has the re-authentication time; see `require_recent_sign_in`.
            authenticated_at: at(claims.session_created_at),
            user_agent: None,
            ip: None,
        };
        let user = UserRecord {
            id: claims.sub,
            environment_id: env.id.clone(),
            email_canonical: claims.email.to_lowercase(),
            email: claims.email,
            name: claims.name,
            email_verified: claims.email_verified,
            legal_version: None,
            created_at: at(claims.user_created_at),
            updated_at: at(claims.user_updated_at),
        };
        Ok(Some(AuthenticatedSession {
            session,
            user,
            info: SessionInfo::from_gates(claims.gates),
            kind: SessionKind::Jwt,
        }))
    }

    /// Re-issues a session's state: for a database session its current state with the same
    /// token; in a JWT environment a freshly signed short-lived JWT from the refresh session
    /// the token names. A JWT is not a refresh session: presented here it gets `None`, so a
    /// backend handed a JWT cannot make it outlive its lifetime.
    ///
    /// # Errors
    /// A store failure, or a JWT that could not be signed for want of keys.
    pub async fn refresh_session(
        &self,
        env: &Environment,
        token: &SessionToken,
    ) -> Result<Option<AuthenticatedSessionWithToken>, SessionError> {
        if is_jwt(token) {
            return Ok(None);
        }
        let Some(found) = self.authenticate(env, token).await? else {
            return Ok(None);
        };
        let jwt = self.jwt_for(env, &found, token)?;
        Ok(Some(AuthenticatedSessionWithToken {
            session: found,
            token: token.clone(),
            jwt,
        }))
    }

    /// The JWT `/me` hands out for a session found from `presented`: none outside a JWT
    /// environment; the presented JWT itself (never a longer-lived one); or, for a refresh
    /// session, a freshly signed one.
    ///
    /// # Errors
    /// A JWT that could not be signed for want of keys.
    pub fn jwt_for(
        &self,
        env: &Environment,
        found: &AuthenticatedSession,
        presented: &SessionToken,
    ) -> Result<Option<String>, SessionError> {
        if env.session.kind != SessionKind::Jwt {
            return Ok(None);
        }
        if is_jwt(presented) {
            return Ok(Some(presented.expose().to_owned()));
        }
        Ok(Some(self.sign_jwt(
            env,
            &found.session,
            &found.user,
            &found.info,
        )?))
    }

    /// The valid session a token names in an environment, or `None` (unknown, revoked, expired,
    /// idle too long, or of another environment). Marks it active at most once a minute. A JWT
    /// is verified without the store; in a JWT environment a session token is the refresh
    /// session's, looked up like a database session.
    ///
    /// # Errors
    /// A store failure, a lookup abandoned by the task carrying it, or a failure reading
    /// the JWT key set again.
    pub async fn authenticate(
        &self,
        env: &Environment,
        token: &SessionToken,
    ) -> Result<Option<AuthenticatedSession>, SessionError> {
        if env.session.kind == SessionKind::Jwt && is_jwt(token) {
            return self.authenticate_jwt(env, token).await;
        }
        let kind = env.session.kind;
        let hash = token.hash();
        let cache = &self.inner.session_cache;
        let now = self.now();
        if let Some(hit) = cache.get(&hash, std::time::Instant::now()) {
            if live(env, &hit.session, now) {
                if self.inner.toucher.touch_if_due(&hit.session, now) {
                    cache.touched(&hash, now);
                }
                return Ok(Some(AuthenticatedSession {
                    session: hit.session,
                    user: hit.user,
                    info: hit.info,
                    kind,
                }));
            }
            // Expired as far as this node knows; the store may know better (another node may
            // have marked it active since), and answers.
            cache.remove(&hash);
        }
        let ticket = cache.ticket(std::time::Instant::now());
        let Some((mut session, user, has_gates)) = self.inner.lookups.find(hash.clone()).await?
        else {
            return Ok(None);
        };
        if !live(env, &session, now) {
            return Ok(None);
        }
        if self.inner.toucher.touch_if_due(&session, now) {
            session.last_active_at = now;
        }
        let info = self
            .session_gates_if_stored(env, &user, &session.id, has_gates)
            .await?;
        let found = AuthenticatedSession {
            session,
            user,
            info,
            kind,
        };
        if let Some(ticket) = ticket {
            cache.insert(
                ticket,
                &hash,
                Cached::from_authenticated(&found),
                std::time::Instant::now(),
            );
        }
        Ok(Some(found))
    }

    /// Revokes the session a token names; true when one was revoked.
    ///
    /// # Errors
    /// A store failure, or (for a JWT session) a failure reading the JWT key set again.
    pub async fn sign_out(
        &self,
        env: &Environment,
        token: &SessionToken,
    ) -> Result<bool, SessionError> {
        if env.session.kind == SessionKind::Jwt && is_jwt(token) {
            // The JWT stays valid until it expires (its lifetime); removing the row ends the
            // refresh session it was signed from.
            return match self.authenticate_jwt(env, token).await? {
                Some(found) => Ok(self.store().delete_session(&found.session.id).await?),
                None => Ok(false),
            };
        }
        match self.store().session_by_token_hash(&token.hash()).await? {
            Some((session, _)) if session.environment_id == env.id => {
                Ok(self.store().delete_session(&session.id).await?)
            }
            _ => Ok(false),
        }
    }
}
