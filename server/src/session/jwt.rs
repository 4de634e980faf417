//! JWT sessions: self-contained tokens signed with Ed25519 (`EdDSA`), verified without the
//! store. Keys are generated on first start and kept in the store, so every node signs and
//! verifies with the same set; each has a `kid`. Rotation adds a key that signs from then on;
//! retired keys keep verifying until the tokens they signed have expired.
//!
//! Validation pins the algorithm to `EdDSA` and the key to the header's `kid`, and refuses
//! headers that point elsewhere for keys (`jku`, `jwk`, `x5u`, `x5c`), tokens that are expired
//! or not yet valid, and tokens for another issuer or audience (another environment).

use crate::store::{JwtKeyRecord, Store, StoreError};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};
use time::{Duration, OffsetDateTime};
use torii_shared::{Gate, SessionStatus};

/// Claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The server (its public URL's origin).
    pub iss: String,
    /// The environment id.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Session status when issued.
    pub status: SessionStatus,
    /// Outstanding gates when issued.
    pub gates: Vec<Gate>,
    /// The user's email.
    pub email: String,
    /// Whether it was verified.
    pub email_verified: bool,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// User created (Unix seconds).
    pub user_created_at: i64,
    /// User updated (Unix seconds).
    pub user_updated_at: i64,
    /// Session created (Unix seconds).
    pub session_created_at: i64,
}

/// Why a token was refused or could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is not acceptable (any validation failure).
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token names a key this node does not hold (perhaps rotated in on another node).
    #[error("invalid token: unknown kid")]
    UnknownKid,
    /// No key can sign.
    #[error("no signing key")]
    NoSigningKey,
    /// Key material could not be encoded or decoded.
    #[error("key error: {0}")]
    Key(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct LoadedKey {
    record: JwtKeyRecord,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// The signing and verifying keys, cached in memory.
pub struct JwtKeys {
    keys: RwLock<Vec<LoadedKey>>,
    /// Tokens whose signature was already checked, by SHA-256: a browser sends the same token
    /// with every request, and hashing it is far cheaper than an Ed25519 verification. Only
    /// the signature is remembered; issuer, audience and time are checked on every request.
    verified: Mutex<HashMap<[u8; 32], Claims>>,
}

/// Most tokens remembered as verified; past it the memory starts over.
const VERIFIED_CACHE_ENTRIES: usize = 10_000;

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<String> = self
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|k| k.record.kid.clone())
            .collect();
        f.debug_struct("JwtKeys").field("kids", &kids).finish()
    }
}

fn load(record: JwtKeyRecord) -> Result<LoadedKey, JwtError> {
    let der = STANDARD
        .decode(&record.private_key)
        .map_err(|e| JwtError::Key(e.to_string()))?;
    let encoding = EncodingKey::from_ed_der(&der);
    let decoding = DecodingKey::from_ed_components(&record.public_key)
        .map_err(|e| JwtError::Key(e.to_string()))?;
    Ok(LoadedKey {
        record,
        encoding,
        decoding,
    })
}

/// A new Ed25519 key record.
///
/// # Errors
/// When the key cannot be encoded.
pub fn generate(now: OffsetDateTime) -> Result<JwtKeyRecord, JwtError> {
    let signing = SigningKey::generate(&mut OsRng);
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| JwtError::Key(e.to_string()))?;
    Ok(JwtKeyRecord {
        kid: crate::session::new_id("key"),
        private_key: STANDARD.encode(der.as_bytes()),
        public_key: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
        created_at: now,
        retired_at: None,
    })
}

impl JwtKeys {
    /// Loads the keys from the store, creating the first one when there is none.
    ///
    /// # Errors
    /// A store failure or unreadable key material.
    pub async fn load(store: &dyn Store, now: OffsetDateTime) -> Result<Self, JwtError> {
        let keys = Self {
            keys: RwLock::new(Vec::new()),
            verified: Mutex::new(HashMap::new()),
        };
        keys.reload(store).await?;
        if keys.signing_kid().is_none() {
            store.rotate_jwt_key(&generate(now)?).await?;
            keys.reload(store).await?;
        }
        Ok(keys)
    }

    /// Re-reads the key set (after a rotation on this or another node).
    ///
    /// # Errors
    /// A store failure or unreadable key material.
    pub async fn reload(&self, store: &dyn Store) -> Result<(), JwtError> {
        let loaded = store
            .list_jwt_keys()
            .await?
            .into_iter()
            .map(load)
            .collect::<Result<Vec<_>, _>>()?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = loaded;
        Ok(())
    }

    /// Adds a new signing key and retires the others.
    ///
    /// # Errors
    /// A store failure.
    pub async fn rotate(&self, store: &dyn Store, now: OffsetDateTime) -> Result<String, JwtError> {
        let record = generate(now)?;
        let kid = record.kid.clone();
        store.rotate_jwt_key(&record).await?;
        self.reload(store).await?;
        Ok(kid)
    }

    fn signing_kid(&self) -> Option<String> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .rev()
            .find(|k| k.record.retired_at.is_none())
            .map(|k| k.record.kid.clone())
    }

    /// Signs claims with the current key.
    ///
    /// # Errors
    /// No signing key, or a signing failure.
    pub fn sign(&self, claims: &Claims) -> Result<String, JwtError> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let key = keys
            .iter()
            .rev()
            .find(|k| k.record.retired_at.is_none())
            .ok_or(JwtError::NoSigningKey)?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.record.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .map_err(|e| JwtError::Key(e.to_string()))
    }

    /// Signs with the current key after letting `edit` change the header: for tests that
    /// prove hostile headers are refused.
    ///
    /// # Errors
    /// No signing key, or a signing failure.
    #[doc(hidden)]
    pub fn sign_with_header(
        &self,
        claims: &Claims,
        edit: impl FnOnce(&mut Header),
    ) -> Result<String, JwtError> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let key = keys
            .iter()
            .rev()
            .find(|k| k.record.retired_at.is_none())
            .ok_or(JwtError::NoSigningKey)?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.record.kid.clone());
        edit(&mut header);
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .map_err(|e| JwtError::Key(e.to_string()))
    }

    /// The current signing key's id.
    #[must_use]
    pub fn current_kid(&self) -> Option<String> {
        self.signing_kid()
    }

    /// Verifies a token for an issuer and audience, at `now`.
    ///
    /// # Errors
    /// [`JwtError::Invalid`] for every kind of refusal.
    pub fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now: OffsetDateTime,
    ) -> Result<Claims, JwtError> {
        let invalid = |why: &str| JwtError::Invalid(why.to_owned());
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let remembered = self
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&digest)
            .cloned();
        let claims = match remembered {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(token, issuer, audience)?;
                let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
                if verified.len() >= VERIFIED_CACHE_ENTRIES {
                    verified.clear();
                }
                verified.insert(digest, claims.clone());
                claims
            }
        };
        if claims.iss != issuer || claims.aud != audience {
            return Err(invalid("issuer or audience"));
        }
        let now = now.unix_timestamp();
        if claims.exp <= now {
            return Err(invalid("expired"));
        }
        if claims.nbf > now {
            return Err(invalid("not yet valid"));
        }
        Ok(claims)
    }

    /// Checks the header, the signature and the issuer and audience claims.
    fn verify_signature(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<Claims, JwtError> {
        let invalid = |why: &str| JwtError::Invalid(why.to_owned());
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid("algorithm not allowed"));
        }
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
        {
            return Err(invalid("key-location headers are not accepted"));
        }
        let kid = header.kid.ok_or_else(|| invalid("missing kid"))?;
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let key = keys
            .iter()
            .find(|k| k.record.kid == kid)
            .ok_or(JwtError::UnknownKid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = false;
        // Time comes from the injected clock, so expiry and nbf are checked below.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        Ok(data.claims)
    }

    /// The public keys still able to verify, as a JWK set.
    #[must_use]
    pub fn jwks(&self, now: OffsetDateTime, max_token_life: Duration) -> serde_json::Value {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let published: Vec<serde_json::Value> = keys
            .iter()
            .filter(|k| {
                k.record
                    .retired_at
                    .is_none_or(|at| at + max_token_life > now)
            })
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                    "kid": k.record.kid, "x": k.record.public_key,
                })
            })
            .collect();
        serde_json::json!({ "keys": published })
    }
}
