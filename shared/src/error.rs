//! The error body every failed request answers with:
//! `{"error": {"code": "<stable_snake_case>", "message": "<human text>", "fields": {..}?}}`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Stable, machine-readable error codes. Clients match on these, never on messages.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the body is not valid JSON (or is nested too deeply), or a path parameter or the
    /// query string cannot be read.
    MalformedRequest,
    /// 422: one or more fields are invalid; see `fields`.
    ValidationFailed,
    /// 422: the environment has Terms/Privacy and they were not accepted.
    ConsentRequired,
    /// 401: the email and password do not match an account.
    InvalidCredentials,
    /// 401: the request carries no valid session.
    Unauthenticated,
    /// 422: the code is wrong; `triesLeft` says how many remain.
    InvalidCode,
    /// 422: the code expired or was already used; request a new one.
    CodeExpired,
    /// 410: too many wrong codes were tried in this ceremony (across every resend): it is
    /// over. Start a new one (a new sign-up; a new reset or change once the ceremony's hour
    /// has passed).
    CodeAttemptsExhausted,
    /// 410/422: the sign-in link was used, replaced by a newer one, or expired.
    LinkExpired,
    /// 409: an account with this email already exists.
    EmailTaken,
    /// 404: the addressed resource does not exist.
    NotFound,
    /// 403: the request's Origin is not allowed for this environment.
    ForbiddenOrigin,
    /// 403: the publishable key names no environment on this server.
    InvalidPublishableKey,
    /// 401: the secret key is missing or wrong.
    InvalidSecretKey,
    /// 403: a publishable key was sent where the secret key is required.
    SecretKeyRequired,
    /// 403: the environment does not enable this sign-in method.
    MethodDisabled,
    /// 403: the session is pending on a gate; `currentGate` names it.
    SessionPending,
    /// 403: the change needs a recent sign-in (within 10 minutes unless the environment says
    /// otherwise): re-authenticate with `POST /v1/session/reauthenticate`, then try again.
    ReauthenticationRequired,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 413: the body is larger than the server accepts.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 429: too many requests; see `Retry-After`.
    RateLimited,
    /// 422: the passkey ceremony is unknown, was already used or expired; start again.
    CeremonyExpired,
    /// 422: the browser's passkey answer did not verify (wrong origin or site, bad
    /// signature, user not verified, a counter that went backwards).
    PasskeyInvalid,
    /// 401: the passkey is not registered here (deleted, or of another site).
    UnknownPasskey,
    /// 409: this passkey is already registered.
    PasskeyTaken,
    /// 503: sending email failed; nothing was changed.
    MailUnavailable,
    /// 503: the store cannot be reached; see `Retry-After`.
    StoreUnavailable,
    /// 500: an unexpected failure; details are in the server log only.
    Internal,
    /// OAuth redirect back: the user cancelled at the provider (or it refused to sign them in).
    OauthCancelled,
    /// OAuth redirect back: the `state` does not belong to the sign-in this browser started.
    OauthStateMismatch,
    /// OAuth redirect back: the provider's answer failed a check, or it could not be reached.
    OauthFailed,
    /// OAuth redirect back: an account with the provider's email exists and cannot be linked
    /// safely (an email unverified at either end); sign in with the existing method first,
    /// then link the provider from the profile.
    OauthAccountExists,
    /// OAuth redirect back: the provider gave no email address, which an account needs.
    OauthEmailMissing,
    /// The provider has not verified the account's email, and the environment does not let
    /// such accounts sign up: anyone can claim an unverified address at some providers.
    OauthEmailUnverified,
    /// OAuth redirect back: that provider account is linked to another user.
    OauthAlreadyLinked,
    /// OAuth redirect back: a re-authentication came back with a provider account that is
    /// not one linked to the signed-in user.
    OauthWrongAccount,
    /// 409: removing this would leave the account with no way to sign in.
    LastSignInMethod,
    /// 422: the new password appears in known data breaches (`fields` names the field);
    /// choose another.
    PasswordBreached,
    /// 503: the breached-password service could not be asked and the server is set to refuse
    /// new passwords meanwhile; nothing was changed.
    PasswordCheckUnavailable,
    /// 503: the server is at capacity (its password-hashing queue is full); see
    /// `Retry-After`.
    ServerBusy,
    /// 408: the request took longer than the server allows (a slow upload, or a slow
    /// answer); nothing may be assumed about whether it took effect.
    RequestTimeout,
    /// 422: the authenticator code's time step was already used to sign in (a code works
    /// once); wait for the next code.
    CodeReused,
    /// 404: the account has no authenticator to confirm or remove (enrol one first).
    MfaNotEnrolled,
    /// 409: the account already has a confirmed authenticator; remove it before enrolling
    /// another.
    MfaAlreadyEnrolled,
    /// 409: the environment requires a second factor and this is the account's last one.
    MfaRequired,
    /// 403: the change needs a recent second factor: re-authenticate with an authenticator
    /// or backup code (`POST /v1/session/reauthenticate` `{"method", "code"}`) or a passkey,
    /// then try again.
    SecondFactorRequired,
    /// 503, from `/readyz` only: the server is shutting down and wants no new traffic; it
    /// still answers requests sent to it until its listener closes.
    ShuttingDown,
    /// A code this client version does not know.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The wire form of the code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed_request",
            Self::ValidationFailed => "validation_failed",
            Self::ConsentRequired => "consent_required",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCode => "invalid_code",
            Self::CodeExpired => "code_expired",
            Self::CodeAttemptsExhausted => "code_attempts_exhausted",
            Self::LinkExpired => "link_expired",
            Self::EmailTaken => "email_taken",
            Self::NotFound => "not_found",
            Self::ForbiddenOrigin => "forbidden_origin",
            Self::InvalidPublishableKey => "invalid_publishable_key",
            Self::InvalidSecretKey => "invalid_secret_key",
            Self::SecretKeyRequired => "secret_key_required",
            Self::MethodDisabled => "method_disabled",
            Self::SessionPending => "session_pending",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::CeremonyExpired => "ceremony_expired",
            Self::PasskeyInvalid => "passkey_invalid",
            Self::UnknownPasskey => "unknown_passkey",
            Self::PasskeyTaken => "passkey_taken",
            Self::MailUnavailable => "mail_unavailable",
            Self::StoreUnavailable => "store_unavailable",
            Self::Internal => "internal",
            Self::OauthCancelled => "oauth_cancelled",
            Self::OauthStateMismatch => "oauth_state_mismatch",
            Self::OauthFailed => "oauth_failed",
            Self::OauthAccountExists => "oauth_account_exists",
            Self::OauthEmailMissing => "oauth_email_missing",
            Self::OauthEmailUnverified => "oauth_email_unverified",
            Self::OauthAlreadyLinked => "oauth_already_linked",
            Self::OauthWrongAccount => "oauth_wrong_account",
            Self::LastSignInMethod => "last_sign_in_method",
            Self::PasswordBreached => "password_breached",
            Self::PasswordCheckUnavailable => "password_check_unavailable",
            Self::ServerBusy => "server_busy",
            Self::RequestTimeout => "request_timeout",
            Self::CodeReused => "code_reused",
            Self::MfaNotEnrolled => "mfa_not_enrolled",
            Self::MfaAlreadyEnrolled => "mfa_already_enrolled",
            Self::MfaRequired => "mfa_required",
            Self::SecondFactorRequired => "second_factor_required",
            Self::ShuttingDown => "shutting_down",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The top-level error body.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong, for machines (`code`, `fields`) and people (`message`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable machine code.
    pub code: ErrorCode,
    /// Human-readable message, safe to show to the user.
    pub message: String,
    /// Per-field messages for validation errors, keyed by the request's field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// Remaining tries for a code, on `invalid_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
    /// Seconds until a retry may succeed, on `rate_limited`, `server_busy` and
    /// `store_unavailable` (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// The gate to clear, on `session_pending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_gate: Option<crate::Gate>,
}

impl ErrorBody {
    /// An error with a code and message only.
    #[must_use]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                fields: None,
                tries_left: None,
                retry_after_secs: None,
                current_gate: None,
            },
        }
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error.code, self.error.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_body_shape_is_stable() {
        let mut body = ErrorBody::new(ErrorCode::ValidationFailed, "Check the highlighted fields.");
        body.error.fields = Some(BTreeMap::from([(
            "email".to_owned(),
            "Enter a valid email address.".to_owned(),
        )]));
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": {
                "code": "validation_failed",
                "message": "Check the highlighted fields.",
                "fields": {"email": "Enter a valid email address."}
            }})
        );
    }

    #[test]
    fn unknown_codes_deserialise() {
        let body: ErrorBody =
            serde_json::from_value(json!({"error": {"code": "brand_new", "message": "x"}}))
                .unwrap();
        assert_eq!(body.error.code, ErrorCode::Unknown);
    }

    #[test]
    fn as_str_matches_serde() {
        for code in [
            ErrorCode::MalformedRequest,
            ErrorCode::InvalidCode,
            ErrorCode::CodeExpired,
            ErrorCode::CodeAttemptsExhausted,
            ErrorCode::StoreUnavailable,
            ErrorCode::ForbiddenOrigin,
            ErrorCode::CeremonyExpired,
            ErrorCode::PasskeyInvalid,
            ErrorCode::UnknownPasskey,
            ErrorCode::PasskeyTaken,
            ErrorCode::LastSignInMethod,
            ErrorCode::ReauthenticationRequired,
            ErrorCode::OauthWrongAccount,
            ErrorCode::OauthEmailUnverified,
            ErrorCode::CodeReused,
            ErrorCode::MfaNotEnrolled,
            ErrorCode::MfaAlreadyEnrolled,
            ErrorCode::MfaRequired,
            ErrorCode::SecondFactorRequired,
            ErrorCode::ShuttingDown,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }
}
