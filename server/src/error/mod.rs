//! One error type for the HTTP layer: a status, a stable code from `torii-shared` and a human
//! message. Server-side failures answer with an opaque body; their cause goes to the log.
//!
//! [`InternalError`] (in [`internal`], which depends on nothing, so that every module can
//! return it) is the library's error for failures that are nobody's input and not the store's
//! either: it answers the same opaque 500 as any other internal failure, and its log line names
//! the [`InternalSource`] it came from.

pub mod internal;

pub use internal::{InternalError, InternalSource};

use crate::methods::email_code::SignUpError;
use crate::methods::password::{HashError, SignInError};
use crate::session::SessionError;
use crate::store::StoreError;
use crate::validate::FieldErrors;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use torii_shared::{ErrorBody, ErrorCode};

/// The `Retry-After` of `503 store_unavailable`: about the time a database takes to restart or
/// fail over, and longer than a pooled connection is waited for, so that retries do not pile
/// onto a database that is coming back.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;

/// An error as the API answers it.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// An error with a status, code and message.
    #[must_use]
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::new(code, message),
        }
    }

    /// 422 with per-field messages.
    #[must_use]
    pub fn validation(fields: FieldErrors) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "Check the highlighted fields.",
        );
        error.body.error.fields = Some(fields);
        error
    }

    /// 400 for a body that is not the expected JSON.
    #[must_use]
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedRequest,
            message,
        )
    }

    /// 401 for a request without a valid session.
    #[must_use]
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "Sign in to continue.",
        )
    }

    /// 403 while a gate is outstanding.
    #[must_use]
    pub fn session_pending(gate: torii_shared::Gate) -> Self {
        let mut error = Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::SessionPending,
            format!("Finish the `{}` step to continue.", gate.key),
        );
        error.body.error.current_gate = Some(gate);
        error
    }

    /// 503 when an email the user waits for could not be sent; the cause goes to the log.
    #[must_use]
    pub fn mail_unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %crate::log::escaped(cause), "mail delivery failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::MailUnavailable,
            "We could not send the email right now. Try again shortly.",
        )
    }

    /// 503 `store_unavailable` with `Retry-After`: the database cannot be reached now, and the
    /// same request may succeed once it is back.
    #[must_use]
    pub fn store_unavailable(message: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StoreUnavailable,
            message,
        );
        error.body.error.retry_after_secs = Some(STORE_RETRY_AFTER_SECS);
        error
    }

    /// 404.
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 429 with `Retry-After`.
    #[must_use]
    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            message,
        );
        error.body.error.retry_after_secs = Some(retry_after_secs);
        error
    }

    /// 500 with an opaque body; `cause` goes to the log only.
    #[must_use]
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %crate::log::escaped(cause), "internal error");
        Self::opaque_internal()
    }

    /// The body of every 500: nothing of the cause.
    fn opaque_internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Something went wrong on our side. Try again.",
        )
    }

    /// A new password refused by the breached-password check: 422 `password_breached` naming
    /// `field`, or 503 `password_check_unavailable`.
    #[must_use]
    pub fn breached_password(field: &str, error: &crate::breached::BreachError) -> Self {
        match error {
            crate::breached::BreachError::Breached => {
                let mut api = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::PasswordBreached,
                    "Check the highlighted fields.",
                );
                api.body.error.fields = Some(FieldErrors::from([(
                    field.to_owned(),
                    "This password has appeared in a data breach, so attackers try it first; \
                     choose another."
                        .to_owned(),
                )]));
                api
            }
            _ => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::PasswordCheckUnavailable,
                "We cannot check new passwords right now. Try again shortly.",
            ),
        }
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.body.error.retry_after_secs;
        let code = self.body.error.code;
        let mut response = (self.status, axum::Json(self.body)).into_response();
        // For the metrics layer: the result of a sign-in or sign-up step is its code.
        response.extensions_mut().insert(code);
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<InternalError> for ApiError {
    fn from(error: InternalError) -> Self {
        tracing::error!(
            source = error.kind().as_str(),
            cause = %crate::log::escaped(error.message()),
            "internal error"
        );
        Self::opaque_internal()
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Store(e) => e.into(),
            SessionError::Internal(e) => e.into(),
            SessionError::KeyReload(e @ StoreError::Unavailable(_)) => e.into(),
            SessionError::KeyReload(e) => {
                tracing::error!(
                    cause = %crate::log::escaped(&e),
                    "the store failed while the JWT key set was read again"
                );
                Self::opaque_internal()
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::error!(cause = %crate::log::escaped(cause), "store unavailable");
                Self::store_unavailable(
                    "The service is temporarily unavailable. Try again shortly.",
                )
            }
            other => Self::internal(&other),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => {
                tracing::warn!("password-hashing queue full: answered 503");
                let mut busy = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ServerBusy,
                    "The server is busy. Try again in a moment.",
                );
                busy.body.error.retry_after_secs = Some(1);
                busy
            }
            other => Self::internal(&other),
        }
    }
}

impl From<crate::rate_limit::LimitError> for ApiError {
    fn from(error: crate::rate_limit::LimitError) -> Self {
        match error {
            crate::rate_limit::LimitError::Limited { retry_after_secs } => Self::rate_limited(
                format!("Too many attempts. Try again in {retry_after_secs} seconds."),
                retry_after_secs,
            ),
            crate::rate_limit::LimitError::Store(e) => e.into(),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidCredentials,
                "The email or password is not right.",
            ),
            SignInError::Store(e) => e.into(),
            SignInError::Hash(e) => e.into(),
            SignInError::Session(e) => e.into(),
        }
    }
}

impl From<crate::methods::magic_link::MagicLinkError> for ApiError {
    fn from(error: crate::methods::magic_link::MagicLinkError) -> Self {
        use crate::methods::magic_link::MagicLinkError;
        match error {
            MagicLinkError::Validation(fields) => Self::validation(fields),
            MagicLinkError::Expired => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::LinkExpired,
                "This sign-in link was already used or has expired. Request a new one.",
            ),
            MagicLinkError::Mail(cause) => Self::mail_unavailable(&cause),
            MagicLinkError::Store(e) => e.into(),
            MagicLinkError::Session(e) => e.into(),
        }
    }
}

impl From<crate::methods::password_reset::PasswordResetError> for ApiError {
    fn from(error: crate::methods::password_reset::PasswordResetError) -> Self {
        use crate::methods::password_reset::PasswordResetError;
        match error {
            PasswordResetError::Validation(fields) => Self::validation(fields),
            PasswordResetError::InvalidCode => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidCode,
                "That code is not right, or it has expired. Check the email or request a new code.",
            ),
            PasswordResetError::AttemptsExhausted => Self::new(
                StatusCode::GONE,
                ErrorCode::CodeAttemptsExhausted,
                "Too many wrong codes were tried for this address. Request a new code in an hour.",
            ),
            PasswordResetError::Mail(cause) => Self::mail_unavailable(&cause),
            PasswordResetError::Store(e) => e.into(),
            PasswordResetError::Hash(e) => e.into(),
            PasswordResetError::Breached(e) => Self::breached_password("password", &e),
            PasswordResetError::Session(e) => e.into(),
            unexpected @ PasswordResetError::UnexpectedCode(_) => Self::internal(&unexpected),
        }
    }
}

impl From<SignUpError> for ApiError {
    fn from(error: SignUpError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match error {
            SignUpError::Validation(fields) => Self::validation(fields),
            SignUpError::ConsentRequired => {
                let mut error = Self::new(
                    unprocessable,
                    ErrorCode::ConsentRequired,
                    "Accept the Terms of Service and Privacy Policy to continue.",
                );
                error.body.error.fields = Some(FieldErrors::from([(
                    "legalAccepted".to_owned(),
                    "Accept the Terms of Service and Privacy Policy to continue.".to_owned(),
                )]));
                error
            }
            SignUpError::NoCodeSent => {
                Self::not_found("No code is waiting for this address. Send a new code.")
            }
            SignUpError::NotFound => {
                Self::not_found("This sign-up was not found or has expired. Start again.")
            }
            SignUpError::InvalidCode { tries_left } => {
                let message = match tries_left {
                    0 => "That code is not right. No tries left: request a new code.".to_owned(),
                    1 => "That code is not right. 1 try left.".to_owned(),
                    n => format!("That code is not right. {n} tries left."),
                };
                let mut error = Self::new(unprocessable, ErrorCode::InvalidCode, message);
                error.body.error.tries_left = Some(tries_left);
                error
            }
            SignUpError::CodeExpired => Self::new(
                unprocessable,
                ErrorCode::CodeExpired,
                "This code has expired. Request a new one.",
            ),
            SignUpError::TooManyAttempts => Self::new(
                StatusCode::GONE,
                ErrorCode::CodeAttemptsExhausted,
                "Too many wrong codes were tried. Start again.",
            ),
            SignUpError::AlreadyUsed => Self::new(
                unprocessable,
                ErrorCode::CodeExpired,
                "This code was already used.",
            ),
            SignUpError::ResendCooldown { retry_after_secs } => Self::rate_limited(
                format!("Wait {retry_after_secs} seconds before requesting another code."),
                retry_after_secs,
            ),
            SignUpError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::EmailTaken,
                "An account with this email already exists. Sign in instead.",
            ),
            SignUpError::Mail(cause) => Self::mail_unavailable(&cause),
            SignUpError::Store(e) => e.into(),
            SignUpError::Hash(e) => e.into(),
            SignUpError::Breached(e) => Self::breached_password("password", &e),
            SignUpError::Session(e) => e.into(),
        }
    }
}

impl From<crate::methods::passkey::PasskeyError> for ApiError {
    fn from(error: crate::methods::passkey::PasskeyError) -> Self {
        use crate::methods::passkey::PasskeyError;
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match error {
            PasskeyError::NotEnabled => Self::new(
                StatusCode::FORBIDDEN,
                ErrorCode::MethodDisabled,
                "Passkeys are not enabled for this application.",
            ),
            PasskeyError::CeremonyGone => Self::new(
                unprocessable,
                ErrorCode::CeremonyExpired,
                "This passkey request expired or was already used. Try again.",
            ),
            PasskeyError::Malformed(cause) => {
                tracing::info!(cause = %crate::log::escaped(cause), "malformed passkey credential");
                Self::new(
                    unprocessable,
                    ErrorCode::PasskeyInvalid,
                    "The browser's passkey answer could not be read. Try again.",
                )
            }
            PasskeyError::Invalid(cause) => {
                tracing::info!(cause = %crate::log::escaped(cause), "passkey did not verify");
                Self::new(
                    unprocessable,
                    ErrorCode::PasskeyInvalid,
                    "The passkey could not be verified. Try again.",
                )
            }
            PasskeyError::CounterRegressed => {
                tracing::warn!("passkey counter went backwards: possibly a cloned authenticator");
                Self::new(
                    unprocessable,
                    ErrorCode::PasskeyInvalid,
                    "This passkey could not be verified. Sign in another way.",
                )
            }
            PasskeyError::Unknown => Self::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::UnknownPasskey,
                "This passkey is not registered here. Sign in another way.",
            ),
            PasskeyError::Taken => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::PasskeyTaken,
                "This passkey is already registered.",
            ),
            PasskeyError::NotFound => Self::not_found("No such passkey."),
            PasskeyError::NoPasskeys => {
                Self::not_found("This account has no passkey. Confirm it is you another way.")
            }
            PasskeyError::NotYours => Self::new(
                unprocessable,
                ErrorCode::PasskeyInvalid,
                "This passkey belongs to another account. Use one of yours.",
            ),
            PasskeyError::LastMethod => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::LastSignInMethod,
                "This is your only way to sign in. Add another before removing it.",
            ),
            PasskeyError::Validation(fields) => Self::validation(fields),
            PasskeyError::Store(e) => e.into(),
            PasskeyError::Internal(e) => e.into(),
            PasskeyError::Session(e) => e.into(),
        }
    }
}

impl From<crate::account::AccountError> for ApiError {
    fn from(error: crate::account::AccountError) -> Self {
        use crate::account::AccountError;
        match error {
            AccountError::Validation(fields) => Self::validation(fields),
            AccountError::ReauthenticationRequired => Self::new(
                StatusCode::FORBIDDEN,
                ErrorCode::ReauthenticationRequired,
                "For your security, confirm it is you first: with your password, a passkey \
                 or a linked account.",
            ),
            AccountError::SecondFactorRequired => Self::new(
                StatusCode::FORBIDDEN,
                ErrorCode::SecondFactorRequired,
                "For your security, confirm it is you with your second factor first: an \
                 authenticator code, a backup code or a passkey.",
            ),
            AccountError::NoPassword => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                "This account has no password. Confirm it is you with a passkey or a linked \
                 account instead.",
            ),
            AccountError::Passkey(e) => e.into(),
            AccountError::SessionGone => Self::unauthenticated(),
            AccountError::SessionNotFound => Self::not_found("You have no session with this id."),
            AccountError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::EmailTaken,
                "Another account uses this email address.",
            ),
            AccountError::Code(e) => e.into(),
            AccountError::Mail(cause) => Self::mail_unavailable(&cause),
            AccountError::Store(e) => e.into(),
            AccountError::Breached(e) => Self::breached_password("newPassword", &e),
            AccountError::Hash(e) => e.into(),
        }
    }
}

impl From<crate::methods::mfa::MfaError> for ApiError {
    fn from(error: crate::methods::mfa::MfaError) -> Self {
        use crate::methods::mfa::MfaError;
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match error {
            MfaError::Disabled => Self::new(
                StatusCode::FORBIDDEN,
                ErrorCode::MethodDisabled,
                "Two-step verification is not enabled for this application.",
            ),
            MfaError::Validation(fields) => Self::validation(fields),
            MfaError::InvalidCode => Self::new(
                unprocessable,
                ErrorCode::InvalidCode,
                "That code is not right. Check it and try again.",
            ),
            MfaError::CodeExpired => Self::new(
                unprocessable,
                ErrorCode::CodeExpired,
                "That code has expired. Enter the one your app shows now.",
            ),
            MfaError::CodeReused => Self::new(
                unprocessable,
                ErrorCode::CodeReused,
                "That code was already used. Wait for your app to show the next one.",
            ),
            MfaError::NotEnrolled => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::MfaNotEnrolled,
                "There is no authenticator to use here. Add one first.",
            ),
            MfaError::AlreadyEnrolled => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::MfaAlreadyEnrolled,
                "An authenticator is already set up. Remove it before adding another.",
            ),
            MfaError::Required => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::MfaRequired,
                "This application requires two-step verification: add another second factor \
                 before removing this one.",
            ),
            MfaError::Pending(gate) => Self::session_pending(gate),
            MfaError::UserNotFound => Self::not_found("No such user."),
            MfaError::Account(e) => e.into(),
            MfaError::Passkey(e) => e.into(),
            MfaError::Store(e) => e.into(),
            MfaError::Internal(e) => e.into(),
        }
    }
}
