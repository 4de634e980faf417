//! Request and response bodies of the HTTP API. Field names are camelCase on the wire.

use crate::SessionInfo;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// A secret string (password, code, token). `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(format = Password))]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call sites are easy to audit with a search for `expose`.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// Test-mode environments permit `http://localhost`; live mode requires HTTPS.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentMode {
    /// Development and CI: http origins on localhost allowed, cookies not Secure.
    Test,
    /// Production: HTTPS origins, Secure `__Host-` cookies.
    Live,
}

/// A way to sign in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Email and password.
    Password,
    /// OAuth / OpenID Connect providers.
    Oauth,
    /// WebAuthn passkeys.
    Passkey,
    /// Emailed sign-in links.
    MagicLink,
}

/// An OAuth provider the environment offers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthProviderInfo {
    /// Route segment, e.g. `google`.
    pub id: String,
    /// Display name, e.g. `Google`.
    pub name: String,
}

/// Terms and Privacy settings; when either URL is set, sign-up requires consent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegalInfo {
    /// Terms of service URL.
    pub terms_url: Option<String>,
    /// Privacy policy URL.
    pub privacy_url: Option<String>,
    /// Whether sign-up requires ticking the consent checkbox.
    pub required: bool,
    /// The current Terms version, when the environment versions its Terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `GET /v1/environment`: what the frontend needs to render the sign-in and sign-up cards.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentInfo {
    /// Display name of the application.
    pub name: String,
    /// Test or live.
    pub mode: EnvironmentMode,
    /// Enabled sign-in methods.
    pub methods: Vec<SignInMethod>,
    /// Enabled OAuth providers.
    pub oauth_providers: Vec<OAuthProviderInfo>,
    /// Terms and Privacy.
    pub legal: LegalInfo,
}

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
    /// For a JWT session, the token itself, so a page can call its own backend with
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

/// `POST /v1/sign-ups`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignUpRequest {
    /// The email to verify.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", max_length = 254, example = "ada@example.com")
    )]
    pub email: String,
    /// The password to set (8–256 code points).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<String>,
            format = Password,
            min_length = 8,
            max_length = 256,
            example = "correct horse battery staple"
        )
    )]
    pub password: Option<Secret>,
    /// Optional display name.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, example = "Ada"))]
    pub name: Option<String>,
    /// Whether the Terms/Privacy consent checkbox was ticked.
    #[serde(default)]
    pub legal_accepted: Option<bool>,
    /// The user will create a passkey instead of setting a password (right after the emailed
    /// code is verified); `password` may then be left out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub passkey: bool,
}

impl fmt::Debug for SignUpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignUpRequest")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("name", &self.name)
            .field("legal_accepted", &self.legal_accepted)
            .field("passkey", &self.passkey)
            .finish()
    }
}

/// Where a sign-up stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUpStatus {
    /// Waiting for the emailed code.
    NeedsVerification,
    /// Waiting for the consent (continue) step.
    NeedsConsent,
    /// Finished: the user and session exist.
    Complete,
}

/// `201` answer to `POST /v1/sign-ups`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignUpCreated {
    /// Id to verify, resend or continue with.
    pub sign_up_id: String,
    /// Where the sign-up stands.
    pub status: SignUpStatus,
    /// When the emailed code stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub code_expires_at: OffsetDateTime,
    /// Earliest time a resend is accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_available_at: OffsetDateTime,
}

/// `202` answer to `POST /v1/sign-ups/{id}/resend`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendAccepted {
    /// When the new code stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub code_expires_at: OffsetDateTime,
    /// Earliest time the next resend is accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_available_at: OffsetDateTime,
}

/// `POST /v1/sign-ups/{id}/verify`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCodeRequest {
    /// The 6-digit code from the email.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "123456"))]
    pub code: Secret,
}

impl fmt::Debug for VerifyCodeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyCodeRequest")
            .field("code", &"[redacted]")
            .finish()
    }
}

/// `POST /v1/sign-ups/{id}/continue`: the OAuth consent step.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinueSignUpRequest {
    /// Whether the Terms/Privacy consent checkbox was ticked.
    pub legal_accepted: bool,
}

/// An OAuth provider account linked to the signed-in user (`GET /v1/oauth/identities`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthIdentity {
    /// Stable id, `oid_…`, to unlink it with `DELETE /v1/oauth/identities/{id}`.
    pub id: String,
    /// The provider's id, e.g. `google`.
    pub provider: String,
    /// The email the provider gave when it was linked.
    pub email: Option<String>,
    /// When it was linked.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `POST /v1/oauth/{provider}/link`: a signed-in user links another provider.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthLinkRequest {
    /// Where the browser comes back to (with `oauthError` on failure); must be on the
    /// environment's allow-list.
    pub redirect_url: String,
}

/// The answer to [`OAuthLinkRequest`]: the provider's page to send the browser to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthLinkStarted {
    /// The provider's authorization URL.
    pub url: String,
}

/// `POST /v1/sign-in/password`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordSignInRequest {
    /// Account email.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", max_length = 254, example = "ada@example.com")
    )]
    pub email: String,
    /// Account password.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, format = Password, example = "correct horse battery staple")
    )]
    pub password: Secret,
}

impl fmt::Debug for PasswordSignInRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordSignInRequest")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// `POST /v1/magic-links`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MagicLinkRequest {
    /// Where to send the link.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", max_length = 254, example = "ada@example.com")
    )]
    pub email: String,
    /// Where the browser goes after signing in; must be on the environment's allow-list.
    #[serde(default)]
    pub redirect_url: Option<String>,
}

/// `POST /v1/magic-links/verify` (JSON form).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MagicLinkVerifyRequest {
    /// The token from the link.
    pub token: Secret,
}

impl fmt::Debug for MagicLinkVerifyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MagicLinkVerifyRequest { token: [redacted] }")
    }
}

/// `POST /v1/password-resets`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetRequest {
    /// The account's email.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", max_length = 254, example = "ada@example.com")
    )]
    pub email: String,
}

/// `POST /v1/password-resets/complete`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetComplete {
    /// The account's email.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", max_length = 254, example = "ada@example.com")
    )]
    pub email: String,
    /// The 6-digit code from the email.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "123456"))]
    pub code: Secret,
    /// The new password.
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            format = Password,
            min_length = 8,
            max_length = 256,
            example = "correct horse battery staple"
        )
    )]
    pub password: Secret,
}

impl fmt::Debug for PasswordResetComplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordResetComplete")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The `202` answer of requests that send an email, identical whether or not the address
/// has an account.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAccepted {
    /// Always `accepted`.
    pub status: String,
}

/// `POST /v1/passkeys/registration/options` and `POST /v1/passkeys/sign-in/options`: a
/// WebAuthn ceremony the browser carries out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyOptions {
    /// Names the ceremony when it is finished; works once, for 5 minutes.
    pub ceremony_id: String,
    /// The `publicKey` member of `navigator.credentials.create()` / `get()` options, in the
    /// JSON form `PublicKeyCredential.parseCreationOptionsFromJSON()` /
    /// `parseRequestOptionsFromJSON()` read (binary fields base64url).
    pub public_key: serde_json::Value,
}

/// `POST /v1/passkeys`: finishes a registration.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyRegistrationRequest {
    /// From [`PasskeyOptions`].
    pub ceremony_id: String,
    /// The new credential, as `PublicKeyCredential.toJSON()` gives it.
    pub credential: serde_json::Value,
    /// What to call the passkey (default "Passkey").
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /v1/passkeys/sign-in`: finishes a sign-in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeySignInRequest {
    /// From [`PasskeyOptions`].
    pub ceremony_id: String,
    /// The assertion, as `PublicKeyCredential.toJSON()` gives it.
    pub credential: serde_json::Value,
}

/// `PATCH /v1/passkeys/{id}`: renames a passkey.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenamePasskeyRequest {
    /// The new name.
    pub name: String,
}

/// A passkey of the signed-in user, as `GET /v1/passkeys` lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyInfo {
    /// Stable id, `pky_…`.
    pub id: String,
    /// What the user calls it.
    pub name: String,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last signed in, if ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
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

/// `PATCH /v1/me`: the fields to change; an absent field is left as it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProfileRequest {
    /// The new display name; empty (or only spaces) removes it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, example = "Ada"))]
    pub name: Option<String>,
}

/// `POST /v1/me/password`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    /// The current password; required when the account has one (a right one also counts as
    /// a fresh sign-in).
    #[serde(default)]
    pub current_password: Option<Secret>,
    /// The new password (8–256 code points).
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            format = Password,
            min_length = 8,
            max_length = 256,
            example = "correct horse battery staple"
        )
    )]
    pub new_password: Secret,
    /// Whether to end every other session of the user.
    #[serde(default)]
    pub sign_out_other_sessions: bool,
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangePasswordRequest")
            .field("sign_out_other_sessions", &self.sign_out_other_sessions)
            .finish_non_exhaustive()
    }
}

/// `200` answer to `POST /v1/me/password`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    /// Other sessions ended with the change (0 unless asked).
    pub revoked_sessions: u64,
}

/// `POST /v1/me/email`: the address to move to; a 6-digit code goes to it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEmailRequest {
    /// The new address.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", max_length = 254, example = "ada@example.com")
    )]
    pub email: String,
}

/// `POST /v1/session/reauthenticate`: proves who the user is again, for the changes that
/// need a recent sign-in. On the wire it is one of `{"password": …}` or
/// `{"ceremonyId": …, "credential": …}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReauthenticateRequest {
    /// The account's password.
    Password {
        /// The password.
        #[cfg_attr(
            feature = "openapi",
            schema(value_type = String, format = Password, example = "correct horse battery staple")
        )]
        password: Secret,
    },
    /// One of the user's passkeys, answering the challenge of
    /// `POST /v1/session/reauthenticate/passkey/options`.
    Passkey {
        /// From [`PasskeyOptions`].
        #[serde(rename = "ceremonyId")]
        ceremony_id: String,
        /// The assertion, as `PublicKeyCredential.toJSON()` gives it.
        credential: serde_json::Value,
    },
}

impl fmt::Debug for ReauthenticateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { .. } => {
                f.write_str("ReauthenticateRequest::Password { password: [redacted] }")
            }
            Self::Passkey { .. } => f.write_str("ReauthenticateRequest::Passkey { .. }"),
        }
    }
}

/// `GET /v1/me/sign-in-methods`: how the signed-in user can sign in, and so how they can
/// re-authenticate, and how long their last proof counts as recent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountMethods {
    /// Whether the account has a password.
    pub password: bool,
    /// How many passkeys the account has.
    pub passkeys: u32,
    /// The ids of the providers linked to the account (each once), e.g. `["google"]`.
    pub oauth_providers: Vec<String>,
    /// Until when the session's sign-in counts as recent: the changes that need one are
    /// allowed without re-authenticating until then.
    #[serde(with = "time::serde::rfc3339")]
    pub recent_sign_in_until: OffsetDateTime,
}

/// `GET /healthz` and `GET /readyz`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or what is wrong.
    pub status: String,
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

    #[test]
    fn environment_shape_is_pinned() {
        let env = EnvironmentInfo {
            name: "Demo".into(),
            mode: EnvironmentMode::Test,
            methods: vec![SignInMethod::Password],
            oauth_providers: vec![],
            legal: LegalInfo {
                terms_url: Some("https://example.com/terms".into()),
                privacy_url: None,
                required: true,
                version: None,
            },
        };
        assert_eq!(
            serde_json::to_value(env).unwrap(),
            json!({
                "name": "Demo", "mode": "test", "methods": ["password"], "oauthProviders": [],
                "legal": {"termsUrl": "https://example.com/terms", "privacyUrl": null, "required": true}
            })
        );
    }

    #[test]
    fn sign_up_request_uses_camel_case_and_optional_fields() {
        let req: SignUpRequest =
            serde_json::from_value(json!({"email": "a@b.co", "legalAccepted": true})).unwrap();
        assert_eq!(req.legal_accepted, Some(true));
        assert!(req.password.is_none());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let req = PasswordSignInRequest {
            email: "a@b.co".into(),
            password: Secret::new("hunter22hunter22"),
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
        let sign_up = SignUpRequest {
            password: Some(Secret::new("hunter22hunter22")),
            ..SignUpRequest::default()
        };
        assert!(!format!("{sign_up:?}").contains("hunter22"));
        assert!(!format!("{:?}", Secret::new("abc123")).contains("abc123"));
        let change = ChangePasswordRequest {
            current_password: Some(Secret::new("hunter22hunter22")),
            new_password: Secret::new("swordfish-swordfish"),
            sign_out_other_sessions: true,
        };
        let shown = format!("{change:?}");
        assert!(
            !shown.contains("hunter22") && !shown.contains("swordfish"),
            "{shown}"
        );
        let reauth = ReauthenticateRequest::Password {
            password: Secret::new("hunter22hunter22"),
        };
        assert!(!format!("{reauth:?}").contains("hunter22"));
    }

    #[test]
    fn reauthenticate_request_is_a_password_or_a_passkey_assertion() {
        let password: ReauthenticateRequest =
            serde_json::from_value(json!({"password": "hunter22hunter22"})).unwrap();
        assert!(matches!(
            password,
            ReauthenticateRequest::Password { ref password } if password.expose() == "hunter22hunter22"
        ));
        let passkey: ReauthenticateRequest = serde_json::from_value(
            json!({"ceremonyId": "c1", "credential": {"id": "abc", "type": "public-key"}}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&passkey).unwrap(),
            json!({"ceremonyId": "c1", "credential": {"id": "abc", "type": "public-key"}})
        );
        assert!(serde_json::from_value::<ReauthenticateRequest>(json!({})).is_err());
        assert!(
            serde_json::from_value::<ReauthenticateRequest>(json!({"ceremonyId": "c1"})).is_err()
        );
    }

    #[test]
    fn change_password_request_is_camel_case() {
        let req: ChangePasswordRequest = serde_json::from_value(json!({
            "currentPassword": "old password 1", "newPassword": "new password 2",
            "signOutOtherSessions": true
        }))
        .unwrap();
        assert!(req.sign_out_other_sessions);
        assert_eq!(req.new_password.expose(), "new password 2");
    }
}
