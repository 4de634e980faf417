//! Accounts at OAuth / OpenID Connect providers, linked to users.

use super::{SessionRecord, StoreError, UserRecord};
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// An account at an OAuth / OpenID Connect provider, linked to a user. Keyed by the provider's
/// subject within an environment, never by email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthIdentityRecord {
    /// `oid_…`
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Environment.
    pub environment_id: String,
    /// The provider's id in the environment's configuration, e.g. `google`.
    pub provider: String,
    /// The provider's stable id for the account (`sub`, GitHub's numeric id).
    pub subject: String,
    /// The email the provider gave when the account was linked, for display.
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: OffsetDateTime,
}

/// The result of creating a user who signed up through a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOAuthUser {
    /// The user, their identity and the session were created.
    Created,
    /// An account with this email exists (created meanwhile).
    EmailTaken,
    /// This provider account is linked already (another request won).
    IdentityTaken,
}

/// Linked provider accounts. Owns [`IdentityStore::create_oauth_user`], which creates the
/// user, links the identity and stores the session in one transaction. Unlinking one is
/// [`super::UserStore::remove_sign_in_method`].
#[async_trait]
pub trait IdentityStore: Send + Sync + Debug {
    /// The identity a provider's subject names in an environment.
    async fn find_oauth_identity(
        &self,
        environment_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OAuthIdentityRecord>, StoreError>;
    /// A user's linked identities, oldest first.
    async fn list_oauth_identities(
        &self,
        user_id: &str,
    ) -> Result<Vec<OAuthIdentityRecord>, StoreError>;
    /// Links an identity to an existing user; [`StoreError::Conflict`] when that provider
    /// account is linked already.
    async fn insert_oauth_identity(&self, identity: &OAuthIdentityRecord)
    -> Result<(), StoreError>;
    /// In one transaction: creates the user, links the identity and stores the session.
    async fn create_oauth_user(
        &self,
        user: &UserRecord,
        identity: &OAuthIdentityRecord,
        session: &SessionRecord,
    ) -> Result<CreateOAuthUser, StoreError>;
}
