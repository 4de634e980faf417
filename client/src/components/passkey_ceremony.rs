//! Every passkey ceremony the components run, and how one that did not finish is told: signing
//! in (a dialog, or the email field's autofill), adding a passkey, the second sign-in step and
//! re-authentication. Each asks the server for options, hands them to the browser
//! ([`crate::webauthn`]), then sends the browser's answer back.

use super::FormErrors;
use crate::api::{ApiClient, ApiError};
use crate::webauthn::{self, Abort, PasskeyFailure};
#[cfg(feature = "profile")]
use torii_shared::ReauthenticateRequest;
use torii_shared::{Me, PasskeyInfo, PasskeyRegistrationRequest, PasskeySignInRequest};

/// A passkey ceremony that did not finish: the server said no, or the browser gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PasskeyError {
    /// The server's answer.
    Api(ApiError),
    /// The browser's.
    Browser(PasskeyFailure),
}

impl PasskeyError {
    /// What the card shows.
    pub(crate) fn errors(&self) -> FormErrors {
        match self {
            Self::Api(err) => FormErrors::from_api(err),
            Self::Browser(failure) => FormErrors::message(failure.message()),
        }
    }
}

impl From<PasskeyError> for FormErrors {
    fn from(err: PasskeyError) -> Self {
        err.errors()
    }
}

impl From<ApiError> for PasskeyError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<PasskeyFailure> for PasskeyError {
    fn from(failure: PasskeyFailure) -> Self {
        Self::Browser(failure)
    }
}

/// Signs in with a discoverable passkey: options, the browser (a dialog, or the email
/// field's autofill when `conditional`), then the server. The answer is the new state.
pub(crate) async fn sign_in_with_passkey(
    api: &ApiClient,
    conditional: bool,
    abort: Option<&Abort>,
) -> Result<Me, PasskeyError> {
    let options = api.passkey_sign_in_options().await?;
    let credential = webauthn::get_assertion(&options.public_key, conditional, abort).await?;
    let request = PasskeySignInRequest {
        ceremony_id: options.ceremony_id,
        credential,
    };
    Ok(api.passkey_sign_in(&request).await?)
}

/// Creates a passkey for the signed-in user and stores it.
pub(crate) async fn add_passkey(api: &ApiClient) -> Result<PasskeyInfo, PasskeyError> {
    let options = api.passkey_registration_options().await?;
    let credential = webauthn::create(&options.public_key).await?;
    let request = PasskeyRegistrationRequest {
        ceremony_id: options.ceremony_id,
        credential,
        name: None,
    };
    Ok(api.register_passkey(&request).await?)
}

/// Proves the signed-in user's second factor with one of their passkeys.
#[cfg(feature = "mfa")]
pub(crate) async fn second_factor_with_passkey(api: &ApiClient) -> Result<Me, PasskeyError> {
    let options = api.second_factor_passkey_options().await?;
    let credential = webauthn::get_assertion(&options.public_key, false, None).await?;
    let request = PasskeySignInRequest {
        ceremony_id: options.ceremony_id,
        credential,
    };
    Ok(api.second_factor_passkey(&request).await?)
}

/// Proves who the signed-in user is again with one of their passkeys.
#[cfg(feature = "profile")]
pub(crate) async fn reauthenticate_with_passkey(api: &ApiClient) -> Result<(), PasskeyError> {
    let options = api.reauthenticate_passkey_options().await?;
    let credential = webauthn::get_assertion(&options.public_key, false, None).await?;
    let request = ReauthenticateRequest::Passkey {
        ceremony_id: options.ceremony_id,
        credential,
    };
    api.reauthenticate(&request).await?;
    Ok(())
}
