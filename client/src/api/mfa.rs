//! The second-factor routes: the signed-in user's factors, authenticator enrolment, backup
//! codes, and clearing the `second_factor` gate of a pending session.

#[cfg(feature = "profile")]
use super::expect_success;
use super::{ApiClient, ApiError, expect_json, send};
// Not every route is compiled in every build: see the features.
#[allow(unused_imports)]
use torii_shared::{
    BackupCodes, Me, PasskeyOptions, PasskeySignInRequest, SecondFactorRequest, SecondFactors,
    TotpConfirmRequest, TotpConfirmed, TotpEnrollment,
};

impl ApiClient {
    #[cfg(feature = "profile")]
    /// `GET /v1/me/mfa`: which second factors the user has.
    pub(crate) async fn second_factors(&self) -> Result<SecondFactors, ApiError> {
        expect_json(send(self.get("/v1/me/mfa")?).await?).await
    }

    /// `POST /v1/me/mfa/totp`: a new authenticator, unconfirmed until its first code.
    pub(crate) async fn enroll_totp(&self) -> Result<TotpEnrollment, ApiError> {
        expect_json(send(self.post_empty("/v1/me/mfa/totp")?).await?).await
    }

    /// `POST /v1/me/mfa/totp/confirm`: the app's first code; the first factor also brings
    /// backup codes, shown once.
    pub(crate) async fn confirm_totp(
        &self,
        request: &TotpConfirmRequest,
    ) -> Result<TotpConfirmed, ApiError> {
        expect_json(send(self.post_json("/v1/me/mfa/totp/confirm", request)?).await?).await
    }

    #[cfg(feature = "profile")]
    /// `DELETE /v1/me/mfa/totp`: removes the authenticator (needs a recent second factor).
    pub(crate) async fn remove_totp(&self) -> Result<(), ApiError> {
        expect_success(send(self.delete("/v1/me/mfa/totp")?).await?).await
    }

    #[cfg(feature = "profile")]
    /// `POST /v1/me/mfa/backup-codes`: ten new backup codes; the old ones stop working.
    pub(crate) async fn regenerate_backup_codes(&self) -> Result<BackupCodes, ApiError> {
        expect_json(send(self.post_empty("/v1/me/mfa/backup-codes")?).await?).await
    }

    /// `POST /v1/session/second-factor`: an authenticator or backup code clears the session's
    /// `second_factor` gate.
    pub(crate) async fn verify_second_factor(
        &self,
        request: &SecondFactorRequest,
    ) -> Result<Me, ApiError> {
        expect_json(send(self.post_json("/v1/session/second-factor", request)?).await?).await
    }

    #[cfg(feature = "passkeys")]
    /// `POST /v1/session/second-factor/passkey/options`: a challenge only the user's own
    /// passkeys answer.
    pub(crate) async fn second_factor_passkey_options(&self) -> Result<PasskeyOptions, ApiError> {
        let path = "/v1/session/second-factor/passkey/options";
        expect_json(send(self.post_empty(path)?).await?).await
    }

    #[cfg(feature = "passkeys")]
    /// `POST /v1/session/second-factor/passkey`: a passkey assertion as the second factor.
    pub(crate) async fn second_factor_passkey(
        &self,
        request: &PasskeySignInRequest,
    ) -> Result<Me, ApiError> {
        let path = "/v1/session/second-factor/passkey";
        expect_json(send(self.post_json(path, request)?).await?).await
    }
}
