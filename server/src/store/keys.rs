//! JWT signing keys.

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// A JWT signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtKeyRecord {
    /// Key id, in every token's header.
    pub kid: String,
    /// The environment whose tokens it signs and verifies; no other.
    pub environment_id: String,
    /// PKCS#8 DER of the Ed25519 private key, sealed under the server key (see
    /// [`crate::secret_key::ServerKey::seal`]) with the key id and environment as associated
    /// data; empty once the key is retired.
    pub private_key: String,
    /// The raw public key, base64url (the JWK `x`).
    pub public_key: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When it stopped signing.
    pub retired_at: Option<OffsetDateTime>,
}

impl Debug for JwtKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeyRecord")
            .field("kid", &self.kid)
            .field("environment_id", &self.environment_id)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// JWT signing keys, per environment. Owns rotation: a new key and the retirement of the
/// others, in one transaction.
#[async_trait]
pub trait KeyStore: Send + Sync + Debug {
    /// Every JWT signing key, oldest first.
    async fn list_jwt_keys(&self) -> Result<Vec<JwtKeyRecord>, StoreError>;
    /// Adds a signing key and retires every other one of its environment (erasing their
    /// private halves), in one transaction.
    async fn rotate_jwt_key(&self, key: &JwtKeyRecord) -> Result<(), StoreError>;
}
