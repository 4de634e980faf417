//! [`ApiError`]: why a request to the Torii server failed.

use super::NETWORK_ERROR_MESSAGE;
use std::fmt;
use torii_shared::{ErrorBody, ErrorCode, ErrorDetail};

/// Why a request to the Torii server failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiError {
    /// The server answered with a non-2xx status and a well-formed error body.
    Server {
        /// The HTTP status.
        status: u16,
        /// The body's `error` object: code, message, field messages, tries left.
        detail: ErrorDetail,
    },
    /// The server could not be reached, or its answer could not be understood.
    Network,
}

impl ApiError {
    /// A message safe to show to the user: the server's own message, or
    /// [`NETWORK_ERROR_MESSAGE`].
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Server { detail, .. } => &detail.message,
            Self::Network => NETWORK_ERROR_MESSAGE,
        }
    }

    /// The server's stable error code, if the server answered.
    #[must_use]
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Server { detail, .. } => Some(detail.code),
            Self::Network => None,
        }
    }

    /// Whether the server asked the user to prove who they are again before this change:
    /// `reauthentication_required` (a recent sign-in) or `second_factor_required` (a recent
    /// second factor, for an account that has one).
    #[must_use]
    pub fn needs_reauthentication(&self) -> bool {
        matches!(
            self.code(),
            Some(ErrorCode::ReauthenticationRequired | ErrorCode::SecondFactorRequired)
        )
    }

    /// For `rate_limited`, how many seconds to wait before trying again.
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Server { detail, .. } => detail.retry_after_secs,
            Self::Network => None,
        }
    }

    /// The message for one request field (`email`, `password`, `name`, `code`, ...), if any.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        match self {
            Self::Server { detail, .. } => detail
                .fields
                .as_ref()
                .and_then(|fields| fields.get(name))
                .map(String::as_str),
            Self::Network => None,
        }
    }

    /// Decodes a non-2xx answer. A body that is not an [`ErrorBody`] (a proxy's HTML page,
    /// an empty 502) counts as [`ApiError::Network`]: there is nothing better to tell the user.
    pub(crate) fn from_status_and_body(status: u16, body: &str) -> Self {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(body) => Self::Server {
                status,
                detail: body.error,
            },
            Err(_) => Self::Network,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ApiError {}
