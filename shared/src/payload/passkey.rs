//! Passkeys: the WebAuthn ceremonies and the user's list.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `POST /v1/passkeys/registration/options` and `POST /v1/passkeys/sign-in/options`: a
/// WebAuthn ceremony the browser carries out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyOptions {
    /// Names the ceremony when it is finished; works once, for 5 minutes.
    pub ceremony_id: String,
    /// The `publicKey` member of `navigator.credentials.create()` / `get()` options, in the
    /// JSON form `PublicKeyCredential.parseCreationOptionsFromJSON()` /
    /// `parseRequestOptionsFromJSON()` read (binary fields base64url).
    pub public_key: serde_json::Value,
}

/// `POST /v1/passkeys`: finishes a registration.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyRegistrationRequest {
    /// From [`PasskeyOptions`].
    pub ceremony_id: String,
    /// The new credential, as `PublicKeyCredential.toJSON()` gives it.
    pub credential: serde_json::Value,
    /// What to call the passkey (default "Passkey").
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /v1/passkeys/sign-in`: finishes a sign-in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeySignInRequest {
    /// From [`PasskeyOptions`].
    pub ceremony_id: String,
    /// The assertion, as `PublicKeyCredential.toJSON()` gives it.
    pub credential: serde_json::Value,
}

/// `PATCH /v1/passkeys/{id}`: renames a passkey.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenamePasskeyRequest {
    /// The new name.
    pub name: String,
}

/// A passkey of the signed-in user, as `GET /v1/passkeys` lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyInfo {
    /// Stable id, `pky_…`.
    pub id: String,
    /// What the user calls it.
    pub name: String,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last signed in, if ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}
