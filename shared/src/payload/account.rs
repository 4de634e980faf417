//! The signed-in user's account: profile, password, email, re-authentication, methods.

use super::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

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
/// need a recent sign-in. On the wire it is one of `{"password": …}`,
/// `{"ceremonyId": …, "credential": …}`, or a second factor `{"method": …, "code": …}`.
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
    /// An authenticator or backup code: the recent second factor that sensitive changes of
    /// an account with second factors need (a password alone is not enough there).
    SecondFactor {
        /// `totp` or `backup_code`.
        method: crate::SecondFactorMethod,
        /// The code.
        #[cfg_attr(
            feature = "openapi",
            schema(value_type = String, format = Password, example = "123456")
        )]
        code: Secret,
    },
}

impl fmt::Debug for ReauthenticateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { .. } => {
                f.write_str("ReauthenticateRequest::Password { password: [redacted] }")
            }
            Self::Passkey { .. } => f.write_str("ReauthenticateRequest::Passkey { .. }"),
            Self::SecondFactor { method, .. } => write!(
                f,
                "ReauthenticateRequest::SecondFactor {{ method: {method:?}, code: [redacted] }}"
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let second: ReauthenticateRequest =
            serde_json::from_value(json!({"method": "totp", "code": "123456"})).unwrap();
        assert!(matches!(
            second,
            ReauthenticateRequest::SecondFactor { method: crate::SecondFactorMethod::Totp, ref code }
                if code.expose() == "123456"
        ));
        assert!(!format!("{second:?}").contains("123456"));
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
