//! The signed-in user's account: sessions, re-authentication, linked providers, profile,
//! password and email changes.

use super::{ApiClient, ApiError, encode_path_segment, expect_json, expect_success, send};
use torii_shared::{
    AccountMethods, ChangeEmailRequest, ChangePasswordRequest, Me, OAuthIdentity, OAuthLinkRequest,
    OAuthLinkStarted, PasskeyOptions, PasswordChanged, ReauthenticateRequest, ResendAccepted,
    SessionList, SessionsRevoked, UpdateProfileRequest, VerifyCodeRequest,
};

impl ApiClient {
    /// `GET /v1/sessions`: the signed-in user's sessions, most recently active first.
    pub(crate) async fn sessions(&self) -> Result<SessionList, ApiError> {
        expect_json(send(self.get("/v1/sessions")?).await?).await
    }

    /// `DELETE /v1/sessions/{id}`: ends one of the user's sessions (404 for any other id).
    pub(crate) async fn revoke_session(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("/v1/sessions/{}", encode_path_segment(id));
        expect_success(send(self.delete(&path)?).await?).await
    }

    /// `DELETE /v1/sessions`: ends every session of the user but this one.
    pub(crate) async fn revoke_other_sessions(&self) -> Result<SessionsRevoked, ApiError> {
        expect_json(send(self.delete("/v1/sessions")?).await?).await
    }

    /// `POST /v1/session/reauthenticate`: the password or a passkey assertion again, for the
    /// changes that need a recent sign-in. Answers the session's state.
    pub(crate) async fn reauthenticate(
        &self,
        request: &ReauthenticateRequest,
    ) -> Result<Me, ApiError> {
        expect_json(send(self.post_json("/v1/session/reauthenticate", request)?).await?).await
    }

    /// `POST /v1/session/reauthenticate/passkey/options`: a challenge only the user's own
    /// passkeys answer (404 when they have none).
    pub(crate) async fn reauthenticate_passkey_options(&self) -> Result<PasskeyOptions, ApiError> {
        let path = "/v1/session/reauthenticate/passkey/options";
        expect_json(send(self.post_empty(path)?).await?).await
    }

    /// `POST /v1/oauth/{provider}/reauthenticate`: the provider page to prove who the user
    /// is with a provider linked to them; coming back to `redirect_url` renews the sign-in.
    pub(crate) async fn reauthenticate_with_provider(
        &self,
        provider: &str,
        request: &OAuthLinkRequest,
    ) -> Result<OAuthLinkStarted, ApiError> {
        let path = format!("/v1/oauth/{}/reauthenticate", encode_path_segment(provider));
        expect_json(send(self.post_json(&path, request)?).await?).await
    }

    /// `GET /v1/me/sign-in-methods`: password, passkeys and linked providers of the user, and
    /// until when the sign-in counts as recent.
    pub(crate) async fn account_methods(&self) -> Result<AccountMethods, ApiError> {
        expect_json(send(self.get("/v1/me/sign-in-methods")?).await?).await
    }

    /// `GET /v1/oauth/identities`: the provider accounts linked to the user.
    pub(crate) async fn oauth_identities(&self) -> Result<Vec<OAuthIdentity>, ApiError> {
        expect_json(send(self.get("/v1/oauth/identities")?).await?).await
    }

    /// `POST /v1/oauth/{provider}/link`: the provider page to navigate to, to link it.
    pub(crate) async fn link_provider(
        &self,
        provider: &str,
        request: &OAuthLinkRequest,
    ) -> Result<OAuthLinkStarted, ApiError> {
        let path = format!("/v1/oauth/{}/link", encode_path_segment(provider));
        expect_json(send(self.post_json(&path, request)?).await?).await
    }

    /// `DELETE /v1/oauth/identities/{id}`: unlinks a provider account (409 when it is the
    /// last way to sign in).
    pub(crate) async fn unlink_provider(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("/v1/oauth/identities/{}", encode_path_segment(id));
        expect_success(send(self.delete(&path)?).await?).await
    }

    /// `PATCH /v1/me`: changes the display name. Answers the new state.
    pub(crate) async fn update_profile(
        &self,
        request: &UpdateProfileRequest,
    ) -> Result<Me, ApiError> {
        expect_json(send(self.patch_json("/v1/me", request)?).await?).await
    }

    /// `POST /v1/me/password`.
    pub(crate) async fn change_password(
        &self,
        request: &ChangePasswordRequest,
    ) -> Result<PasswordChanged, ApiError> {
        expect_json(send(self.post_json("/v1/me/password", request)?).await?).await
    }

    /// `POST /v1/me/email`: emails a code to the new address (403
    /// `reauthentication_required` without a recent sign-in; 429 during the cooldown).
    pub(crate) async fn start_email_change(
        &self,
        request: &ChangeEmailRequest,
    ) -> Result<ResendAccepted, ApiError> {
        expect_json(send(self.post_json("/v1/me/email", request)?).await?).await
    }

    /// `POST /v1/me/email/verify`: the code from the new address makes it the account's.
    pub(crate) async fn verify_email_change(
        &self,
        request: &VerifyCodeRequest,
    ) -> Result<Me, ApiError> {
        expect_json(send(self.post_json("/v1/me/email/verify", request)?).await?).await
    }
}
