//! Second factors: the environment's policy, the signed-in user's factors, authenticator-app
//! (TOTP) enrolment, backup codes, and verifying a factor.

use super::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether the environment asks for a second factor (`mfa` in `GET /v1/environment`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// No second factors: nobody is asked for one, and none can be enrolled.
    Off,
    /// Users may enrol a second factor; those who have one are asked for it after signing in.
    #[default]
    Optional,
    /// Every user must have a second factor: one without gets the `setup_mfa` gate.
    Required,
}

/// `GET /v1/me/mfa` and `GET /v1/admin/users/{id}/mfa`: the user's second factors.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondFactors {
    /// Whether a confirmed authenticator app is enrolled.
    pub totp: bool,
    /// How many unused backup codes remain.
    pub backup_codes_left: u32,
    /// How many passkeys the account has (each counts as a second factor after a password).
    pub passkeys: u32,
}

/// `201` answer to `POST /v1/me/mfa/totp`: an authenticator to add to an app, unconfirmed
/// until `POST /v1/me/mfa/totp/confirm` receives its first code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpEnrollment {
    /// The shared secret, base32 without padding, for typing into the app by hand.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    )]
    pub secret: String,
    /// The `otpauth://totp/…` URI the QR code encodes.
    pub otpauth_uri: String,
    /// The QR code of `otpauthUri`, as an SVG document.
    pub qr_svg: String,
}

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpEnrollment { [redacted] }")
    }
}

/// `POST /v1/me/mfa/totp/confirm`: the first code the app shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpConfirmRequest {
    /// Six digits.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, format = Password, example = "123456")
    )]
    pub code: Secret,
}

/// Backup codes, shown once when created: `201` answer to `POST /v1/me/mfa/backup-codes`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCodes {
    /// Ten single-use codes (`xxxxx-xxxxx`, lowercase letters and digits).
    pub codes: Vec<String>,
}

impl fmt::Debug for BackupCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BackupCodes {{ {} [redacted] }}", self.codes.len())
    }
}

/// `200` answer to `POST /v1/me/mfa/totp/confirm`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpConfirmed {
    /// The user's factors after the confirmation.
    pub factors: SecondFactors,
    /// Backup codes created with the account's first second factor, shown this once; `null`
    /// when the account already had backup codes.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub backup_codes: Option<Vec<String>>,
}

impl fmt::Debug for TotpConfirmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpConfirmed")
            .field("factors", &self.factors)
            .field(
                "backup_codes",
                &self.backup_codes.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Which kind of code a [`SecondFactorRequest`] carries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// Six digits from the authenticator app.
    Totp,
    /// One of the backup codes.
    BackupCode,
}

/// `POST /v1/session/second-factor` (and, in the same shape, `POST /v1/session/reauthenticate`):
/// a code proving the second factor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorRequest {
    /// `totp` or `backup_code`.
    pub method: SecondFactorMethod,
    /// Six digits for `totp`; `xxxxx-xxxxx` for `backup_code` (case, spaces and the dash are
    /// ignored).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, format = Password, example = "123456")
    )]
    pub code: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mfa_payloads_are_camel_case() {
        assert_eq!(
            serde_json::to_value(SecondFactors {
                totp: true,
                backup_codes_left: 9,
                passkeys: 1
            })
            .unwrap(),
            json!({"totp": true, "backupCodesLeft": 9, "passkeys": 1})
        );
        let enrollment = TotpEnrollment {
            secret: "ABC".into(),
            otpauth_uri: "otpauth://totp/x".into(),
            qr_svg: "<svg/>".into(),
        };
        assert_eq!(
            serde_json::to_value(&enrollment).unwrap(),
            json!({"secret": "ABC", "otpauthUri": "otpauth://totp/x", "qrSvg": "<svg/>"})
        );
        assert!(!format!("{enrollment:?}").contains("ABC"));
        let confirmed = TotpConfirmed {
            factors: SecondFactors::default(),
            backup_codes: Some(vec!["abcde-12345".into()]),
        };
        assert_eq!(
            serde_json::to_value(&confirmed).unwrap()["backupCodes"],
            json!(["abcde-12345"])
        );
        assert!(!format!("{confirmed:?}").contains("abcde"));
        assert_eq!(
            serde_json::to_value(MfaPolicy::Required).unwrap(),
            json!("required")
        );
    }

    #[test]
    fn second_factor_request_names_its_method() {
        let req: SecondFactorRequest =
            serde_json::from_value(json!({"method": "backup_code", "code": "abcde-12345"}))
                .unwrap();
        assert_eq!(req.method, SecondFactorMethod::BackupCode);
        assert_eq!(req.code.expose(), "abcde-12345");
        assert!(!format!("{req:?}").contains("abcde"));
        assert!(
            serde_json::from_value::<SecondFactorRequest>(json!({"method": "sms", "code": "1"}))
                .is_err()
        );
    }
}
