//! Who the provider says the user is: an OpenID provider's ID token (and userinfo), or
//! GitHub's `/user` and `/user/emails`.

use super::provider::{ALLOWED_ALGS, ProviderCallError, github_client};
use super::{Ceremony, ProviderAccount, provider_failure};
use crate::Torii;
use crate::environment::{GITHUB_API_URL, OAuthProviderConfig};
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, Nonce, OAuth2TokenResponse as _,
    PkceCodeVerifier, RedirectUrl, TokenResponse as _,
};
use serde::Deserialize;
use std::fmt;
use torii_shared::ErrorCode;

impl Torii {
    /// The account an OpenID provider vouches for: the code exchanged, the ID token
    /// validated, the email from userinfo when the token has none.
    pub(super) async fn oidc_account(
        &self,
        provider: &OAuthProviderConfig,
        issuer: &str,
        ceremony: &Ceremony,
        code: String,
        iss: Option<&str>,
    ) -> Result<ProviderAccount, ErrorCode> {
        let fail =
            |step: &str, cause: &dyn fmt::Display| provider_failure(&provider.id, step, cause);
        let metadata = self
            .provider_metadata(issuer, false)
            .await
            .map_err(|e| fail("discovery", &e))?;
        // Mix-up defence (RFC 9207): the answer must come from the issuer we sent the user to.
        if let Some(iss) = iss
            && iss != metadata.issuer().as_str()
        {
            return Err(fail(
                "iss",
                &format!("`{iss}` is not `{}`", metadata.issuer().as_str()),
            ));
        }
        let redirect_uri = RedirectUrl::new(self.oauth_redirect_uri(&provider.id))
            .map_err(|e| fail("redirect_uri", &e))?;
        let client = |metadata: &CoreProviderMetadata| {
            CoreClient::from_provider_metadata(
                metadata.clone(),
                ClientId::new(provider.client_id.clone()),
                Some(ClientSecret::new(
                    provider.client_secret.expose().to_owned(),
                )),
            )
            .set_redirect_uri(redirect_uri.clone())
        };
        let oidc = client(&metadata);
        let http = &self.oauth_runtime().http;
        let response = oidc
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| fail("token endpoint", &e))?
            .set_pkce_verifier(PkceCodeVerifier::new(ceremony.pkce_verifier.clone()))
            .request_async(http)
            .await
            .map_err(|e| fail("token", &e))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| fail("token", &"no ID token"))?;
        let nonce = Nonce::new(ceremony.nonce.clone().unwrap_or_default());
        let verify = |oidc: &openidconnect::core::CoreClient<_, _, _, _, _, _>| {
            id_token
                .claims(
                    &oidc.id_token_verifier().set_allowed_algs(ALLOWED_ALGS),
                    &nonce,
                )
                .cloned()
        };
        let claims = match verify(&oidc) {
            Ok(claims) => claims,
            // The provider may have rotated its keys since discovery: fetch them once more.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self
                    .provider_metadata(issuer, true)
                    .await
                    .map_err(|e| fail("discovery", &e))?;
                verify(&client(&fresh)).map_err(|e| fail("id_token", &e))?
            }
            Err(other) => return Err(fail("id_token", &other)),
        };
        let mut account = ProviderAccount {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        };
        // Many providers put the email in the userinfo answer only.
        if account.email.is_none()
            && let Ok(request) = oidc.user_info(
                response.access_token().clone(),
                Some(claims.subject().clone()),
            )
        {
            let info: openidconnect::core::CoreUserInfoClaims =
                request
                    .request_async(http)
                    .await
                    .map_err(|e| fail("userinfo", &e))?;
            account.email = info.email().map(|e| e.as_str().to_owned());
            account.email_verified = info.email_verified().unwrap_or(false);
            if account.name.is_none() {
                account.name = info
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned());
            }
        }
        Ok(account)
    }

    /// The account GitHub vouches for: the code exchanged, then `/user` and `/user/emails`.
    pub(super) async fn github_account(
        &self,
        provider: &OAuthProviderConfig,
        ceremony: &Ceremony,
        code: String,
    ) -> Result<ProviderAccount, ErrorCode> {
        let fail =
            |step: &str, cause: &dyn fmt::Display| provider_failure(&provider.id, step, cause);
        let redirect_uri = RedirectUrl::new(self.oauth_redirect_uri(&provider.id))
            .map_err(|e| fail("redirect_uri", &e))?;
        let client = github_client(provider)
            .map_err(|e| fail("config", &e))?
            .set_redirect_uri(redirect_uri);
        let http = &self.oauth_runtime().http;
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(ceremony.pkce_verifier.clone()))
            .request_async(http)
            .await
            .map_err(|e| fail("token", &e))?;
        let api = provider
            .api_url
            .as_deref()
            .unwrap_or(GITHUB_API_URL)
            .trim_end_matches('/');
        let token = response.access_token();
        let user: GithubUser = github_get(http, &format!("{api}/user"), token)
            .await
            .map_err(|e| fail("/user", &e))?;
        let emails: Vec<GithubEmail> = github_get(http, &format!("{api}/user/emails"), token)
            .await
            .map_err(|e| fail("/user/emails", &e))?;
        Ok(github_account(user, &emails))
    }
}

#[derive(Debug, Deserialize)]
struct GithubUser {
    id: u64,
    login: String,
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GithubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

async fn github_get<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    token: &AccessToken,
) -> Result<T, ProviderCallError> {
    let response = http
        .get(url)
        .bearer_auth(token.secret())
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        return Err(ProviderCallError::Status(status));
    }
    let body = response.bytes().await?;
    Ok(serde_json::from_slice(&body)?)
}

/// GitHub's account: its numeric id is the subject; the email is the primary address when
/// GitHub has verified it, else the public profile address, unverified.
fn github_account(user: GithubUser, emails: &[GithubEmail]) -> ProviderAccount {
    let chosen = emails
        .iter()
        .find(|e| e.primary && e.verified)
        .or_else(|| emails.iter().find(|e| e.primary));
    let (email, email_verified) = match chosen {
        Some(e) => (Some(e.email.clone()), e.verified),
        None => {
            let public = user.email.clone();
            let verified = public
                .as_deref()
                .is_some_and(|p| emails.iter().any(|e| e.verified && e.email == p));
            (public, verified)
        }
    };
    ProviderAccount {
        subject: user.id.to_string(),
        email,
        email_verified,
        name: user.name.or(Some(user.login)),
    }
}

/// For tests of the GitHub mapping.
#[doc(hidden)]
#[must_use]
pub fn github_mapping_for_tests(
    user: &str,
    emails: &str,
) -> Option<(String, Option<String>, bool)> {
    let user: GithubUser = serde_json::from_str(user).ok()?;
    let emails: Vec<GithubEmail> = serde_json::from_str(emails).ok()?;
    let account = github_account(user, &emails);
    Some((account.subject, account.email, account.email_verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_prefers_the_verified_primary_address() {
        let user = r#"{"id": 42, "login": "ada", "name": null, "email": "public@example.com"}"#;
        let emails = r#"[{"email": "old@example.com", "primary": false, "verified": true},
                         {"email": "ada@example.com", "primary": true, "verified": true}]"#;
        assert_eq!(
            github_mapping_for_tests(user, emails),
            Some(("42".into(), Some("ada@example.com".into()), true))
        );
        let unverified = r#"[{"email": "ada@example.com", "primary": true, "verified": false}]"#;
        assert_eq!(
            github_mapping_for_tests(user, unverified),
            Some(("42".into(), Some("ada@example.com".into()), false))
        );
        assert_eq!(
            github_mapping_for_tests(user, "[]"),
            Some(("42".into(), Some("public@example.com".into()), false))
        );
    }
}
