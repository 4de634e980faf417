//! The OAuth providers an environment offers, as configured: the kind of each, its client
//! credentials and endpoints, and the checks an entry must pass before the server starts.
//! The sign-in itself lives in [`crate::methods::oauth`].

use serde::Deserialize;
use std::fmt;
use torii_shared::Secret;
use url::Url;

/// Google's issuer.
pub(crate) const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// GitHub's authorization endpoint (github.com).
pub(crate) const GITHUB_AUTHORIZATION_URL: &str = "https://github.com/login/oauth/authorize";
/// GitHub's token endpoint (github.com).
pub(crate) const GITHUB_TOKEN_URL: &str = "https://github.com/login/oauth/access_token";
/// GitHub's REST API (github.com).
pub(crate) const GITHUB_API_URL: &str = "https://api.github.com";

/// What kind of provider an entry configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any OpenID Connect provider, found by its `issuer`.
    Oidc,
    /// Google (OpenID Connect, issuer `https://accounts.google.com`).
    Google,
    /// GitHub (OAuth 2.0; identity from `/user`, email from `/user/emails`).
    Github,
}

/// One provider of an environment, as configured (`[[environments.oauth_providers]]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthProviderConfig {
    /// Route segment and stable key of linked accounts, e.g. `google` (`a-z`, `0-9`, `-`, `_`).
    pub id: String,
    /// `oidc`, `google` or `github`.
    pub kind: ProviderKind,
    /// Button label; defaults to `Google`, `GitHub`, or the id.
    #[serde(default)]
    pub name: Option<String>,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret; never logged.
    pub client_secret: Secret,
    /// The issuer URL (`oidc`: required; `google`: fixed).
    #[serde(default)]
    pub issuer: Option<String>,
    /// Scopes to request; default `openid email profile` (OIDC) or `read:user user:email`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// GitHub Enterprise Server: its authorization endpoint.
    #[serde(default)]
    pub authorization_url: Option<String>,
    /// GitHub Enterprise Server: its token endpoint.
    #[serde(default)]
    pub token_url: Option<String>,
    /// GitHub Enterprise Server: its REST API base (`…/api/v3`).
    #[serde(default)]
    pub api_url: Option<String>,
}

impl fmt::Debug for OAuthProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProviderConfig")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl OAuthProviderConfig {
    /// The label of its button.
    #[must_use]
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| match self.kind {
            ProviderKind::Google => "Google".to_owned(),
            ProviderKind::Github => "GitHub".to_owned(),
            ProviderKind::Oidc => self.id.clone(),
        })
    }

    /// The issuer of an OpenID provider.
    #[must_use]
    pub fn issuer_url(&self) -> Option<&str> {
        match self.kind {
            ProviderKind::Google => Some(self.issuer.as_deref().unwrap_or(GOOGLE_ISSUER)),
            ProviderKind::Oidc => self.issuer.as_deref(),
            ProviderKind::Github => None,
        }
    }

    /// The scopes to request: the configured ones, or the kind's default.
    pub(crate) fn scopes(&self) -> Vec<String> {
        self.scopes.clone().unwrap_or_else(|| match self.kind {
            ProviderKind::Github => vec!["read:user".to_owned(), "user:email".to_owned()],
            ProviderKind::Google | ProviderKind::Oidc => {
                vec![
                    "openid".to_owned(),
                    "email".to_owned(),
                    "profile".to_owned(),
                ]
            }
        })
    }

    /// Whether every URL of the entry (issuer, GitHub endpoints) is https.
    #[must_use]
    pub fn uses_https(&self) -> bool {
        [
            &self.issuer,
            &self.authorization_url,
            &self.token_url,
            &self.api_url,
        ]
        .into_iter()
        .flatten()
        .all(|url| url.starts_with("https://"))
    }

    /// Checks the entry; the error says what is wrong.
    ///
    /// # Errors
    /// A malformed id, a missing or malformed URL, a setting of another kind.
    pub fn check(&self) -> Result<(), ProviderConfigError> {
        let id_ok = (1..=32).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(ProviderConfigError::Id(self.id.clone()));
        }
        if self.client_id.is_empty() {
            return Err(ProviderConfigError::MissingClientId(self.id.clone()));
        }
        let github_urls = [&self.authorization_url, &self.token_url, &self.api_url];
        match self.kind {
            ProviderKind::Oidc if self.issuer.is_none() => {
                return Err(ProviderConfigError::MissingIssuer(self.id.clone()));
            }
            ProviderKind::Oidc | ProviderKind::Google
                if github_urls.iter().any(|u| u.is_some()) =>
            {
                return Err(ProviderConfigError::GithubSettings(self.id.clone()));
            }
            ProviderKind::Github if self.issuer.is_some() => {
                return Err(ProviderConfigError::GithubIssuer(self.id.clone()));
            }
            _ => {}
        }
        for url in github_urls.into_iter().flatten().chain(self.issuer.iter()) {
            let parsed = Url::parse(url).map_err(|cause| ProviderConfigError::MalformedUrl {
                provider: self.id.clone(),
                url: url.clone(),
                cause,
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ProviderConfigError::NotHttp {
                    provider: self.id.clone(),
                    url: url.clone(),
                });
            }
        }
        Ok(())
    }
}

/// What is wrong with a provider entry; the message names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderConfigError {
    /// The id is not 1-32 characters of `a-z`, `0-9`, `-` and `_`.
    #[error("id `{0}` must be 1-32 characters of a-z, 0-9, - and _")]
    Id(String),
    /// No client id.
    #[error("{0}: client_id is required")]
    MissingClientId(String),
    /// An `oidc` entry without an issuer.
    #[error("{0}: issuer is required for kind = \"oidc\"")]
    MissingIssuer(String),
    /// GitHub endpoints on an entry of another kind.
    #[error("{0}: authorization_url, token_url and api_url are for kind = \"github\"")]
    GithubSettings(String),
    /// An issuer on a GitHub entry.
    #[error("{0}: GitHub has no issuer")]
    GithubIssuer(String),
    /// A URL that does not parse.
    #[error("{provider}: `{url}`: {cause}")]
    MalformedUrl {
        /// The entry's id.
        provider: String,
        /// The URL as configured.
        url: String,
        /// Why it does not parse.
        cause: url::ParseError,
    },
    /// A URL of another scheme than http(s).
    #[error("{provider}: `{url}` is not an http(s) URL")]
    NotHttp {
        /// The entry's id.
        provider: String,
        /// The URL as configured.
        url: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(kind: ProviderKind) -> OAuthProviderConfig {
        OAuthProviderConfig {
            id: "p".into(),
            kind,
            name: None,
            client_id: "client".into(),
            client_secret: Secret::new("hunter2"),
            issuer: None,
            scopes: None,
            authorization_url: None,
            token_url: None,
            api_url: None,
        }
    }

    #[test]
    fn entries_are_checked() {
        assert!(provider(ProviderKind::Google).check().is_ok());
        assert!(provider(ProviderKind::Github).check().is_ok());
        assert!(
            provider(ProviderKind::Oidc).check().is_err(),
            "needs an issuer"
        );
        let mut bad = provider(ProviderKind::Google);
        bad.id = "Google!".into();
        assert!(bad.check().is_err());
        let mut github = provider(ProviderKind::Github);
        github.issuer = Some("https://github.com".into());
        assert!(github.check().is_err());
    }

    #[test]
    fn debug_redacts_the_secret() {
        let shown = format!("{:?}", provider(ProviderKind::Google));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
