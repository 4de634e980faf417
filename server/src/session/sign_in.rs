//! Signing a user in: the session row, the token handed out, and the answers that carry them.
//! In a JWT environment the token is that of a revocable *refresh session* (a session row, as
//! in a database environment), and the answers also carry a short-lived JWT signed from it
//! (`sign_jwt`).

use crate::FirstFactor;
use crate::error::internal::{InternalError, InternalSource};
use crate::session::SessionError;
use crate::session::{SessionToken, new_id};
use crate::store::{SessionRecord, StoreError, UserRecord};
use crate::{ClientInfo, Environment, Torii};
use torii_shared::{Me, Session, SessionInfo, SessionKind, User};

/// A valid session with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedSession {
    /// The session.
    pub session: SessionRecord,
    /// Its user.
    pub user: UserRecord,
    /// Outstanding gates.
    pub info: SessionInfo,
    /// Database or JWT.
    pub kind: SessionKind,
}

impl AuthenticatedSession {
    /// The `/me` payload for this session.
    #[must_use]
    pub fn me(&self) -> Me {
        Me {
            user: Some(user_payload(&self.user)),
            session: Some(Session {
                id: self.session.id.clone(),
                info: self.info.clone(),
                kind: self.kind,
                expires_at: self.session.expires_at,
            }),
            token: None,
        }
    }
}

/// A session just created, with its token (shown to the client once).
#[derive(Clone)]
pub struct AuthenticatedSessionWithToken {
    /// The session and user.
    pub session: AuthenticatedSession,
    /// The secret token for the cookie or bearer header: in a JWT environment, that of the
    /// refresh session.
    pub token: SessionToken,
    /// In a JWT environment, a short-lived JWT freshly signed from the session.
    pub jwt: Option<String>,
}

impl std::fmt::Debug for AuthenticatedSessionWithToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticatedSessionWithToken")
            .field("session", &self.session)
            .field("token", &self.token)
            .field("jwt", &self.jwt.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl AuthenticatedSessionWithToken {
    /// The `Me` payload; a JWT session's carries its short-lived JWT.
    #[must_use]
    pub fn me(&self) -> Me {
        let mut me = self.session.me();
        me.token.clone_from(&self.jwt);
        me
    }
}

/// The API form of a user row.
#[must_use]
pub fn user_payload(user: &UserRecord) -> User {
    User {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        email_verified: user.email_verified,
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

impl Torii {
    /// Creates a session for a user and returns its token (shown once).
    ///
    /// # Errors
    /// A store failure.
    pub async fn create_session(
        &self,
        env: &Environment,
        user: &UserRecord,
        client: &ClientInfo,
    ) -> Result<(SessionRecord, SessionToken), StoreError> {
        let (record, token) = self.new_session_record(env, &user.id, client);
        self.store().insert_session(&record).await?;
        Ok((record, token))
    }

    pub(crate) fn new_session_record(
        &self,
        env: &Environment,
        user_id: &str,
        client: &ClientInfo,
    ) -> (SessionRecord, SessionToken) {
        let now = self.now();
        let token = SessionToken::generate();
        let record = SessionRecord {
            id: new_id("ses"),
            environment_id: env.id.clone(),
            user_id: user_id.to_owned(),
            token_hash: token.hash(),
            created_at: now,
            expires_at: now + env.session.absolute_timeout,
            last_active_at: now,
            authenticated_at: now,
            user_agent: client.user_agent.clone(),
            ip: client.ip.clone(),
        };
        (record, token)
    }

    /// Creates a session for a user who just proved who they are with `first`, with its
    /// gates (`second_factor` when the user has one to give, see
    /// [`crate::methods::mfa::policy`]), and the token to hand out (a signed JWT in a JWT
    /// environment).
    ///
    /// # Errors
    /// A store failure, or a JWT that could not be signed.
    pub async fn sign_in_user(
        &self,
        env: &Environment,
        user: UserRecord,
        client: &ClientInfo,
        first: FirstFactor,
    ) -> Result<AuthenticatedSessionWithToken, SessionError> {
        let (session, token) = self.create_session(env, &user, client).await?;
        self.apply_sign_in_factors(env, &user, &session.id, first)
            .await?;
        let info = self.session_gates(env, &user, &session.id).await?;
        self.finish_sign_in(env, session, user, info, token)
    }

    /// Wraps a stored session into the answer of a sign-in: in a JWT environment the answer
    /// also carries a short-lived JWT with the session's state (the token stays the refresh
    /// session's).
    ///
    /// # Errors
    /// [`SessionError::Internal`] when no key is loaded or the JWT cannot be signed.
    pub fn finish_sign_in(
        &self,
        env: &Environment,
        session: SessionRecord,
        user: UserRecord,
        info: SessionInfo,
        token: SessionToken,
    ) -> Result<AuthenticatedSessionWithToken, SessionError> {
        let kind = env.session.kind;
        let jwt = match kind {
            SessionKind::Database => None,
            SessionKind::Jwt => Some(self.sign_jwt(env, &session, &user, &info)?),
        };
        Ok(AuthenticatedSessionWithToken {
            session: AuthenticatedSession {
                session,
                user,
                info,
                kind,
            },
            token,
            jwt,
        })
    }

    pub(super) fn issuer(&self) -> String {
        self.inner.public_url.origin().ascii_serialization()
    }

    /// A JWT carrying the session's state, living the environment's `jwt_lifetime` (never
    /// past the session's own expiry).
    pub(super) fn sign_jwt(
        &self,
        env: &Environment,
        session: &SessionRecord,
        user: &UserRecord,
        info: &SessionInfo,
    ) -> Result<String, InternalError> {
        let keys = self
            .inner
            .jwt
            .as_ref()
            .ok_or_else(|| InternalError::new(InternalSource::Jwt, "JWT keys not loaded"))?;
        let now = self.now().unix_timestamp();
        let claims = super::jwt::Claims {
            sub: user.id.clone(),
            sid: session.id.clone(),
            iss: self.issuer(),
            aud: env.id.clone(),
            iat: now,
            nbf: now,
            exp: (now + env.session.jwt_lifetime.whole_seconds())
                .min(session.expires_at.unix_timestamp()),
            status: info.status,
            gates: info.gates.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            name: user.name.clone(),
            user_created_at: user.created_at.unix_timestamp(),
            user_updated_at: user.updated_at.unix_timestamp(),
            session_created_at: session.created_at.unix_timestamp(),
        };
        keys.sign(&claims)
            .map_err(|e| InternalError::new(InternalSource::Jwt, e))
    }
}
