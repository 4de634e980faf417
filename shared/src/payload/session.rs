//! Users and sessions as the API shows them.

use crate::{Gate, SessionInfo, SessionStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A user as the API shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Stable id, `usr_…`.
    pub id: String,
    /// Email address, unique per environment.
    pub email: String,
    /// Optional display name.
    pub name: Option<String>,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last update time.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// How a session is represented.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// Stored in the database, revocable at once.
    Database,
    /// Self-contained signed token, valid until it expires.
    Jwt,
}

/// A session as the API shows it: the product page's `SessionInfo` plus identity and expiry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Stable id, `ses_…`.
    pub id: String,
    /// `status`, `gates`, `currentGate`.
    #[serde(flatten)]
    pub info: SessionInfo,
    /// Database or JWT.
    pub kind: SessionKind,
    /// When the session ends at the latest (absolute expiry).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `GET /me` and every sign-in answer: both `null` when signed out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Me {
    /// The signed-in user.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub user: Option<User>,
    /// The current session.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session: Option<Session>,
    /// For a JWT session, a short-lived JWT (signed for this answer from the refresh session,
    /// or the JWT the request carried), so a page can call its own backend with
    /// `Authorization: Bearer …`. Absent for database sessions, whose token never leaves the
    /// HttpOnly cookie, except in the answer to a re-authentication that came with a bearer
    /// token: the session's new token, which replaces the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Me {
    /// The signed-out payload.
    #[must_use]
    pub fn signed_out() -> Self {
        Self::default()
    }
}

/// One of the signed-in user's sessions, as `GET /v1/sessions` lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// Stable id, `ses_…`: what `DELETE /v1/sessions/{id}` takes.
    pub id: String,
    /// A short description of the device, e.g. `Chrome on Linux`, from its user agent.
    pub device: String,
    /// The browser, when the user agent names one we know.
    pub browser: Option<String>,
    /// The operating system, when the user agent names one we know.
    pub os: Option<String>,
    /// The IP address the session was created from.
    pub ip: Option<String>,
    /// When it was created (signed in).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When a request last used it (to the minute).
    #[serde(with = "time::serde::rfc3339")]
    pub last_active_at: OffsetDateTime,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// `GET /v1/sessions`: the signed-in user's sessions, most recently active first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    /// The sessions, the current one included.
    pub sessions: Vec<SessionSummary>,
}

/// `DELETE /v1/sessions`: how many other sessions were ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsRevoked {
    /// Sessions ended (never the current one).
    pub revoked: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Gate, GateKey};
    use serde_json::json;
    use time::macros::datetime;

    fn sample_me() -> Me {
        Me {
            user: Some(User {
                id: "usr_1".into(),
                email: "ada@example.com".into(),
                name: Some("Ada".into()),
                email_verified: true,
                created_at: datetime!(2026-01-02 03:04:05 UTC),
                updated_at: datetime!(2026-01-02 03:04:05 UTC),
            }),
            session: Some(Session {
                id: "ses_1".into(),
                info: SessionInfo::from_gates(vec![]),
                kind: SessionKind::Database,
                expires_at: datetime!(2026-02-01 00:00:00 UTC),
            }),
            token: None,
        }
    }

    #[test]
    fn me_payload_shape_is_pinned() {
        assert_eq!(
            serde_json::to_value(sample_me()).unwrap(),
            json!({
                "user": {
                    "id": "usr_1", "email": "ada@example.com", "name": "Ada",
                    "emailVerified": true,
                    "createdAt": "2026-01-02T03:04:05Z", "updatedAt": "2026-01-02T03:04:05Z"
                },
                "session": {
                    "id": "ses_1", "status": "active", "gates": [], "currentGate": null,
                    "kind": "database", "expiresAt": "2026-02-01T00:00:00Z"
                }
            })
        );
    }

    #[test]
    fn signed_out_me_is_two_nulls() {
        assert_eq!(
            serde_json::to_value(Me::signed_out()).unwrap(),
            json!({"user": null, "session": null})
        );
    }

    #[test]
    fn pending_session_round_trips() {
        let mut me = sample_me();
        if let Some(session) = me.session.as_mut() {
            session.info = SessionInfo::from_gates(vec![Gate {
                key: GateKey::EmailVerification,
            }]);
        }
        let text = serde_json::to_string(&me).unwrap();
        assert_eq!(serde_json::from_str::<Me>(&text).unwrap(), me);
    }
}

/// The claims of a JWT session token, as the server signs them and anyone holding the
/// server's JWKS (`GET /.well-known/jwks.json`) can verify them offline. Times are Unix
/// seconds; `status` and `gates` are the session's state when the token was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The issuer: the Torii server's public URL's origin.
    pub iss: String,
    /// The audience: the environment id.
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// Session status when issued.
    pub status: SessionStatus,
    /// Outstanding gates when issued.
    pub gates: Vec<Gate>,
    /// The user's email.
    pub email: String,
    /// Whether it was verified.
    pub email_verified: bool,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// User created.
    pub user_created_at: i64,
    /// User updated.
    pub user_updated_at: i64,
    /// Session created.
    pub session_created_at: i64,
}

impl SessionClaims {
    /// The user these claims describe.
    #[must_use]
    pub fn user(&self) -> User {
        User {
            id: self.sub.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            email_verified: self.email_verified,
            created_at: unix_time(self.user_created_at),
            updated_at: unix_time(self.user_updated_at),
        }
    }

    /// The session these claims describe, its status following its gates.
    #[must_use]
    pub fn session(&self) -> Session {
        Session {
            id: self.sid.clone(),
            info: SessionInfo::from_gates(self.gates.clone()),
            kind: SessionKind::Jwt,
            expires_at: unix_time(self.exp),
        }
    }
}

/// A time in Unix seconds; out of range reads as the epoch (never for a token the server
/// signed).
fn unix_time(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
