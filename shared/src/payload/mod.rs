//! Request and response bodies of the HTTP API. Field names are camelCase on the wire.
//! One module per concept; every type is re-exported at the crate root.

mod account;
mod environment;
mod mfa;
mod oauth;
mod passkey;
mod session;
mod sign_in;
mod sign_up;

pub use account::*;
pub use environment::*;
pub use mfa::*;
pub use oauth::*;
pub use passkey::*;
pub use session::*;
pub use sign_in::*;
pub use sign_up::*;

use serde::{Deserialize, Serialize};
use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
