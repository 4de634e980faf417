//! Signing in by password or emailed link, and resetting a password.

use super::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;

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
