//! Wire types of Torii's HTTP API, compiled by both the server and the browser SDK so the
//! two never disagree about a payload. Serde only: no HTTP, database or browser code here.

#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod error;
mod gate;
mod payload;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use gate::{Gate, GateKey, SessionInfo, SessionStatus};
pub use payload::*;

/// Header a frontend uses to name its environment by publishable key.
pub const PUBLISHABLE_KEY_HEADER: &str = "Torii-Publishable-Key";
/// Query parameter equivalent of [`PUBLISHABLE_KEY_HEADER`] for browser navigations.
pub const PUBLISHABLE_KEY_QUERY: &str = "pk";
/// Query parameter the server adds to the app's URL when an OAuth sign-in fails; its value is
/// an [`ErrorCode`] (`oauth_cancelled`, `oauth_state_mismatch`, …).
pub const OAUTH_ERROR_QUERY: &str = "oauthError";
/// Query parameter carrying a pending OAuth sign-up's id to the app's sign-up route, where
/// `<SignUp>` shows the consent (continue) step.
pub const OAUTH_SIGN_UP_QUERY: &str = "oauthSignUp";
/// Minimum password length, in Unicode code points.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Maximum password length, in Unicode code points. Longer passwords are refused, never truncated.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Maximum email length, in bytes (RFC 5321 path limit).
pub const EMAIL_MAX_LEN: usize = 254;
/// Maximum display-name length, in Unicode code points.
pub const NAME_MAX_CHARS: usize = 100;
/// Number of digits in an emailed verification code.
pub const CODE_DIGITS: usize = 6;
