//! The environment as the frontend sees it, and the health answer.

use serde::{Deserialize, Serialize};

/// Test-mode environments permit `http://localhost`; live mode requires HTTPS.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentMode {
    /// Development and CI: http origins on localhost allowed, cookies not Secure.
    Test,
    /// Production: HTTPS origins, Secure `__Host-` cookies.
    Live,
}

/// A way to sign in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Email and password.
    Password,
    /// OAuth / OpenID Connect providers.
    Oauth,
    /// WebAuthn passkeys.
    Passkey,
    /// Emailed sign-in links.
    MagicLink,
}

/// An OAuth provider the environment offers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthProviderInfo {
    /// Route segment, e.g. `google`.
    pub id: String,
    /// Display name, e.g. `Google`.
    pub name: String,
}

/// Terms and Privacy settings; when either URL is set, sign-up requires consent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegalInfo {
    /// Terms of service URL.
    pub terms_url: Option<String>,
    /// Privacy policy URL.
    pub privacy_url: Option<String>,
    /// Whether sign-up requires ticking the consent checkbox.
    pub required: bool,
    /// The current Terms version, when the environment versions its Terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `GET /v1/environment`: what the frontend needs to render the sign-in and sign-up cards.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentInfo {
    /// Display name of the application.
    pub name: String,
    /// Test or live.
    pub mode: EnvironmentMode,
    /// Enabled sign-in methods.
    pub methods: Vec<SignInMethod>,
    /// Enabled OAuth providers.
    pub oauth_providers: Vec<OAuthProviderInfo>,
    /// Terms and Privacy.
    pub legal: LegalInfo,
    /// Whether second factors are off, optional or required.
    #[serde(default)]
    pub mfa: crate::MfaPolicy,
}

/// `GET /healthz` and `GET /readyz`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or what is wrong.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn environment_shape_is_pinned() {
        let env = EnvironmentInfo {
            name: "Demo".into(),
            mode: EnvironmentMode::Test,
            methods: vec![SignInMethod::Password],
            oauth_providers: vec![],
            legal: LegalInfo {
                terms_url: Some("https://example.com/terms".into()),
                privacy_url: None,
                required: true,
                version: None,
            },
            mfa: crate::MfaPolicy::Optional,
        };
        assert_eq!(
            serde_json::to_value(env).unwrap(),
            json!({
                "name": "Demo", "mode": "test", "methods": ["password"], "oauthProviders": [],
                "legal": {"termsUrl": "https://example.com/terms", "privacyUrl": null, "required": true},
                "mfa": "optional"
            })
        );
    }
}
