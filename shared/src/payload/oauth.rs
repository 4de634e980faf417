//! OAuth provider accounts linked to a user.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An OAuth provider account linked to the signed-in user (`GET /v1/oauth/identities`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthIdentity {
    /// Stable id, `oid_…`, to unlink it with `DELETE /v1/oauth/identities/{id}`.
    pub id: String,
    /// The provider's id, e.g. `google`.
    pub provider: String,
    /// The email the provider gave when it was linked.
    pub email: Option<String>,
    /// When it was linked.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `POST /v1/oauth/{provider}/link`: a signed-in user links another provider.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthLinkRequest {
    /// Where the browser comes back to (with `oauthError` on failure); must be on the
    /// environment's allow-list.
    pub redirect_url: String,
}

/// The answer to [`OAuthLinkRequest`]: the provider's page to send the browser to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthLinkStarted {
    /// The provider's authorization URL.
    pub url: String,
}
