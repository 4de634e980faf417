//! Sign-up: the request, its status and the code that verifies it.

use super::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_up_request_uses_camel_case_and_optional_fields() {
        let req: SignUpRequest =
            serde_json::from_value(json!({"email": "a@b.co", "legalAccepted": true})).unwrap();
        assert_eq!(req.legal_accepted, Some(true));
        assert!(req.password.is_none());
    }
}
