//! The machinery every provider call shares: one HTTP client, the providers' discovery
//! documents, the signature algorithms accepted on ID tokens, and GitHub's OAuth 2.0 client.

use super::DISCOVERY_TTL;
use super::PROVIDER_TIMEOUT;
use crate::Torii;
use crate::environment::{
    Environment, GITHUB_AUTHORIZATION_URL, GITHUB_TOKEN_URL, OAuthProviderConfig,
};
use crate::error::internal::{InternalError, InternalSource};
use oauth2::AuthType;
use openidconnect::IssuerUrl;
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreProviderMetadata};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use time::OffsetDateTime;

/// Why a call to a provider, or the setup of its client, failed. Logged, never shown.
#[derive(Debug, thiserror::Error)]
pub(super) enum ProviderCallError {
    /// An endpoint URL (configured or discovered) that does not parse.
    #[error("{0}")]
    Url(String),
    /// The discovery document could not be fetched or read.
    #[error("discovery: {0}")]
    Discovery(String),
    /// The request did not complete (connection, timeout, body).
    #[error("{0}")]
    Request(#[from] reqwest::Error),
    /// The provider answered with an error status.
    #[error("status {0}")]
    Status(reqwest::StatusCode),
    /// The answer is not the JSON expected.
    #[error("{0}")]
    Body(#[from] serde_json::Error),
}

fn url_error(error: url::ParseError) -> ProviderCallError {
    ProviderCallError::Url(error.to_string())
}

/// Process-wide OAuth machinery: one HTTP client (no redirects followed, bounded time) and
/// the providers' discovery documents, fetched on first use and kept for an hour.
pub struct OAuthRuntime {
    pub(super) http: reqwest::Client,
    discovered: tokio::sync::Mutex<HashMap<String, (Arc<CoreProviderMetadata>, OffsetDateTime)>>,
}

impl fmt::Debug for OAuthRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthRuntime").finish_non_exhaustive()
    }
}

impl OAuthRuntime {
    /// A runtime with its HTTP client.
    ///
    /// # Errors
    /// When the TLS backend cannot be set up.
    pub fn new() -> Result<Self, InternalError> {
        let http = reqwest::Client::builder()
            // Following a redirect would let a provider's answer steer requests (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .connect_timeout(PROVIDER_TIMEOUT / 2)
            .user_agent("torii")
            .build()
            .map_err(|e| InternalError::new(InternalSource::HttpClient, e))?;
        Ok(Self {
            http,
            discovered: tokio::sync::Mutex::new(HashMap::new()),
        })
    }
}

/// The signature algorithms accepted on ID tokens: asymmetric ones only (an HMAC keyed with
/// the client secret would let anyone holding the secret mint tokens).
pub(super) const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

impl Torii {
    /// The provider `id` of an environment, when OAuth is enabled there.
    #[must_use]
    pub fn oauth_provider<'a>(
        &self,
        env: &'a Environment,
        id: &str,
    ) -> Option<&'a OAuthProviderConfig> {
        env.oauth_enabled()
            .then(|| env.oauth_providers.iter().find(|p| p.id == id))
            .flatten()
    }

    /// The exact redirect URI registered with every provider:
    /// `{public URL}/v1/oauth/{provider}/callback`.
    #[must_use]
    pub fn oauth_redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}/v1/oauth/{provider}/callback",
            self.public_url().as_str().trim_end_matches('/')
        )
    }

    /// The provider's discovery document (and keys), fetched again when older than
    /// [`DISCOVERY_TTL`] or when `refresh` asks.
    pub(super) async fn provider_metadata(
        &self,
        issuer: &str,
        refresh: bool,
    ) -> Result<Arc<CoreProviderMetadata>, ProviderCallError> {
        let runtime = self.oauth_runtime();
        let mut cache = runtime.discovered.lock().await;
        let now = self.now();
        if !refresh
            && let Some((metadata, fetched)) = cache.get(issuer)
            && *fetched + DISCOVERY_TTL > now
        {
            return Ok(Arc::clone(metadata));
        }
        let issuer_url =
            IssuerUrl::new(issuer.to_owned()).map_err(|e| ProviderCallError::Url(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer_url, &runtime.http)
            .await
            .map_err(|e| ProviderCallError::Discovery(e.to_string()))?;
        let metadata = Arc::new(metadata);
        cache.insert(issuer.to_owned(), (Arc::clone(&metadata), now));
        Ok(metadata)
    }
}

/// GitHub speaks plain OAuth 2.0; the `oauth2` client under `openidconnect` does the
/// authorization URL and the code exchange.
pub(super) fn github_client(
    provider: &OAuthProviderConfig,
) -> Result<
    oauth2::basic::BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    ProviderCallError,
> {
    let auth = provider
        .authorization_url
        .as_deref()
        .unwrap_or(GITHUB_AUTHORIZATION_URL);
    let token = provider.token_url.as_deref().unwrap_or(GITHUB_TOKEN_URL);
    Ok(
        oauth2::basic::BasicClient::new(oauth2::ClientId::new(provider.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(
                provider.client_secret.expose().to_owned(),
            ))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(oauth2::AuthUrl::new(auth.to_owned()).map_err(url_error)?)
            .set_token_uri(oauth2::TokenUrl::new(token.to_owned()).map_err(url_error)?),
    )
}
