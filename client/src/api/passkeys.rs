//! Passkeys: signing in with one, and the signed-in user's list.

use super::{ApiClient, ApiError, expect_json, send};
#[cfg(feature = "profile")]
use super::{encode_path_segment, expect_success};
#[cfg(feature = "profile")]
use gloo_net::http::Request;
// Not every route is compiled in every build: see the features.
#[allow(unused_imports)]
use torii_shared::{
    Me, PasskeyInfo, PasskeyOptions, PasskeyRegistrationRequest, PasskeySignInRequest,
    RenamePasskeyRequest,
};

impl ApiClient {
    /// `POST /v1/passkeys/sign-in/options`: a challenge for a passkey sign-in (no email).
    pub(crate) async fn passkey_sign_in_options(&self) -> Result<PasskeyOptions, ApiError> {
        expect_json(send(self.post_empty("/v1/passkeys/sign-in/options")?).await?).await
    }

    /// `POST /v1/passkeys/sign-in`: signs in with the browser's assertion.
    pub(crate) async fn passkey_sign_in(
        &self,
        request: &PasskeySignInRequest,
    ) -> Result<Me, ApiError> {
        expect_json(send(self.post_json("/v1/passkeys/sign-in", request)?).await?).await
    }

    #[cfg(any(feature = "profile", feature = "email-code"))]
    /// `POST /v1/passkeys/registration/options`: a challenge to add a passkey (signed in).
    pub(crate) async fn passkey_registration_options(&self) -> Result<PasskeyOptions, ApiError> {
        expect_json(send(self.post_empty("/v1/passkeys/registration/options")?).await?).await
    }

    #[cfg(any(feature = "profile", feature = "email-code"))]
    /// `POST /v1/passkeys`: stores the new passkey.
    pub(crate) async fn register_passkey(
        &self,
        request: &PasskeyRegistrationRequest,
    ) -> Result<PasskeyInfo, ApiError> {
        expect_json(send(self.post_json("/v1/passkeys", request)?).await?).await
    }

    #[cfg(feature = "profile")]
    /// `GET /v1/passkeys`: the signed-in user's passkeys.
    pub(crate) async fn list_passkeys(&self) -> Result<Vec<PasskeyInfo>, ApiError> {
        expect_json(send(self.get("/v1/passkeys")?).await?).await
    }

    #[cfg(feature = "profile")]
    /// `PATCH /v1/passkeys/{id}`: renames a passkey.
    pub(crate) async fn rename_passkey(
        &self,
        id: &str,
        request: &RenamePasskeyRequest,
    ) -> Result<PasskeyInfo, ApiError> {
        let path = format!("/v1/passkeys/{}", encode_path_segment(id));
        let request = self
            .prepare(Request::patch(&self.url(&path)))
            .json(request)
            .map_err(|_| ApiError::Network)?;
        expect_json(send(request).await?).await
    }

    #[cfg(feature = "profile")]
    /// `DELETE /v1/passkeys/{id}`: removes a passkey (409 when it is the last way to sign in).
    pub(crate) async fn delete_passkey(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("/v1/passkeys/{}", encode_path_segment(id));
        let request = self
            .prepare(Request::delete(&self.url(&path)))
            .build()
            .map_err(|_| ApiError::Network)?;
        expect_success(send(request).await?).await
    }
}
