//! JWT sessions: self-contained tokens signed with Ed25519 (`EdDSA`), verified without the
//! store. Each environment has its own keys, generated on first start and kept in the store
//! (the private half sealed under the server key, bound to its key id and environment), so
//! every node signs and verifies with the same set; each has a `kid`. Rotation (per
//! environment) adds a key that signs from then on and retires the others, erasing their
//! private halves; a retired key verifies only until the last token it signed can have
//! expired (its retirement plus the longest JWT lifetime, `jwt_lifetime_secs`), then leaves the JWKS and is
//! refused.
//!
//! Validation pins the algorithm to `EdDSA` and the key to the header's `kid` (a key of the
//! token's own environment), and refuses headers that point elsewhere for keys (`jku`, `jwk`,
//! `x5u`, `x5c`), tokens that are expired or not yet valid, and tokens for another issuer or
//! audience (another environment).
//!
//! On start a signing key that the server key cannot open stops the start (a wrong
//! `secret_key_file` must not silently replace every key), unless the server key was made up
//! for this process (test mode without a key file), where it is replaced. A key opened only
//! with the previous server key (during a server-key rotation) is replaced by a new one sealed
//! under the current key.

use crate::secret_key::ServerKeys;
use crate::store::{JwtKeyRecord, Store, StoreError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};
use time::{Duration, OffsetDateTime};

/// Claims of a session token (the wire type, shared with offline verifiers).
pub use torii_shared::SessionClaims as Claims;

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
    /// A signing key in the store cannot be opened with the server key: the wrong
    /// `secret_key_file`, or the database of another server.
    #[error(
        "the JWT signing key {kid} of environment {environment} cannot be opened with the server key; \
         is secret_key_file (TORII_SECRET_KEY_FILE) the key this database was used with? \
         (during a rotation, give the old key as secret_key_previous_file)"
    )]
    WrongServerKey {
        /// The key.
        kid: String,
        /// Its environment.
        environment: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct LoadedKey {
    record: JwtKeyRecord,
    /// `None` for a retired key (its private half is erased) or one this node cannot open.
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
}

/// How a stored key was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opened {
    /// Retired: nothing to open.
    Retired,
    /// With the current server key.
    Current,
    /// Only with the previous server key: to be replaced.
    Previous,
    /// With neither.
    Failed,
}

/// The signing and verifying keys, cached in memory.
pub struct JwtKeys {
    keys: RwLock<Vec<LoadedKey>>,
    /// Seals new keys and opens stored ones.
    server: ServerKeys,
    /// Tokens whose signature was already checked, by SHA-256, with the key that signed them:
    /// a browser sends the same token with every request, and hashing it is far cheaper than
    /// an Ed25519 verification. Only the signature is remembered; the key's retirement,
    /// issuer, audience and time are checked on every request.
    verified: Mutex<HashMap<[u8; 32], (Claims, String)>>,
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

/// What a sealed private key is bound to: its id and environment.
fn associated(kid: &str, environment_id: &str) -> Vec<u8> {
    format!("torii-jwt-key:{kid}:{environment_id}").into_bytes()
}

fn load(record: JwtKeyRecord, server: &ServerKeys) -> Result<(LoadedKey, Opened), JwtError> {
    let decoding = DecodingKey::from_ed_components(&record.public_key)
        .map_err(|e| JwtError::Key(e.to_string()))?;
    let (encoding, opened) = if record.retired_at.is_some() || record.private_key.is_empty() {
        (None, Opened::Retired)
    } else {
        match server.open(
            &record.private_key,
            &associated(&record.kid, &record.environment_id),
        ) {
            Ok((der, previous)) => (
                Some(EncodingKey::from_ed_der(&der)),
                if previous {
                    Opened::Previous
                } else {
                    Opened::Current
                },
            ),
            Err(_) => (None, Opened::Failed),
        }
    };
    Ok((
        LoadedKey {
            record,
            encoding,
            decoding,
        },
        opened,
    ))
}

/// A new Ed25519 key record for an environment, its private half sealed under the current
/// server key.
///
/// # Errors
/// When the key cannot be encoded.
pub fn generate(
    server: &ServerKeys,
    environment_id: &str,
    now: OffsetDateTime,
) -> Result<JwtKeyRecord, JwtError> {
    let signing = SigningKey::generate(&mut OsRng);
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| JwtError::Key(e.to_string()))?;
    let kid = crate::session::new_id("key");
    Ok(JwtKeyRecord {
        private_key: server
            .current
            .seal(der.as_bytes(), &associated(&kid, environment_id)),
        kid,
        environment_id: environment_id.to_owned(),
        public_key: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
        created_at: now,
        retired_at: None,
    })
}

impl JwtKeys {
    /// Loads the keys from the store and makes sure each of `environments` has a signing key
    /// sealed under the current server key, creating one where there is none.
    ///
    /// # Errors
    /// A store failure, unreadable key material, or [`JwtError::WrongServerKey`].
    pub async fn load(
        store: &dyn Store,
        server: &ServerKeys,
        environments: &[&str],
        now: OffsetDateTime,
    ) -> Result<Self, JwtError> {
        let keys = Self {
            keys: RwLock::new(Vec::new()),
            server: server.clone(),
            verified: Mutex::new(HashMap::new()),
        };
        let opened = keys.reload_reporting(store).await?;
        for environment in environments {
            let mine: Vec<&(String, String, Opened)> = opened
                .iter()
                .filter(|(_, env, state)| env == environment && *state != Opened::Retired)
                .collect();
            let failed = mine.iter().find(|(_, _, state)| *state == Opened::Failed);
            if let Some((kid, _, _)) = failed
                && !server.ephemeral
            {
                return Err(JwtError::WrongServerKey {
                    kid: kid.clone(),
                    environment: (*environment).to_owned(),
                });
            }
            let usable = mine.iter().any(|(_, _, state)| *state == Opened::Current);
            if !usable {
                // None yet, one sealed under the previous server key, or (with a key made up
                // for this process) one sealed under a key that is gone: a new one.
                store
                    .rotate_jwt_key(&generate(server, environment, now)?)
                    .await?;
            }
        }
        keys.reload(store).await?;
        Ok(keys)
    }

    async fn reload_reporting(
        &self,
        store: &dyn Store,
    ) -> Result<Vec<(String, String, Opened)>, JwtError> {
        let mut report = Vec::new();
        let mut loaded = Vec::new();
        for record in store.list_jwt_keys().await? {
            let (key, opened) = load(record, &self.server)?;
            report.push((
                key.record.kid.clone(),
                key.record.environment_id.clone(),
                opened,
            ));
            loaded.push(key);
        }
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = loaded;
        Ok(report)
    }

    /// Re-reads the key set (after a rotation on this or another node).
    ///
    /// # Errors
    /// A store failure or unreadable key material.
    pub async fn reload(&self, store: &dyn Store) -> Result<(), JwtError> {
        self.reload_reporting(store).await.map(|_| ())
    }

    /// Adds a new signing key for an environment and retires its others.
    ///
    /// # Errors
    /// A store failure.
    pub async fn rotate(
        &self,
        store: &dyn Store,
        environment_id: &str,
        now: OffsetDateTime,
    ) -> Result<String, JwtError> {
        let record = generate(&self.server, environment_id, now)?;
        let kid = record.kid.clone();
        store.rotate_jwt_key(&record).await?;
        self.reload(store).await?;
        Ok(kid)
    }

    /// Signs with the current key of the claims' environment (`aud`), after letting `edit`
    /// change the header.
    fn sign_edited(
        &self,
        environment_id: &str,
        claims: &Claims,
        edit: impl FnOnce(&mut Header),
    ) -> Result<String, JwtError> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let (key, encoding) = keys
            .iter()
            .rev()
            .filter(|k| k.record.retired_at.is_none() && k.record.environment_id == environment_id)
            .find_map(|k| k.encoding.as_ref().map(|encoding| (k, encoding)))
            .ok_or(JwtError::NoSigningKey)?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.record.kid.clone());
        edit(&mut header);
        jsonwebtoken::encode(&header, claims, encoding).map_err(|e| JwtError::Key(e.to_string()))
    }

    /// Signs claims with the current key of their environment (`aud`).
    ///
    /// # Errors
    /// No signing key, or a signing failure.
    pub fn sign(&self, claims: &Claims) -> Result<String, JwtError> {
        self.sign_edited(&claims.aud, claims, |_| {})
    }

    /// Signs with the current key of `environment_id` (whatever the claims say) after letting
    /// `edit` change the header: for tests that prove hostile tokens are refused.
    ///
    /// # Errors
    /// No signing key, or a signing failure.
    #[doc(hidden)]
    pub fn sign_with_header(
        &self,
        environment_id: &str,
        claims: &Claims,
        edit: impl FnOnce(&mut Header),
    ) -> Result<String, JwtError> {
        self.sign_edited(environment_id, claims, edit)
    }

    /// The current signing key's id of an environment.
    #[must_use]
    pub fn current_kid(&self, environment_id: &str) -> Option<String> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .rev()
            .find(|k| {
                k.record.retired_at.is_none()
                    && k.record.environment_id == environment_id
                    && k.encoding.is_some()
            })
            .map(|k| k.record.kid.clone())
    }

    /// Verifies a token for an issuer and audience (the environment), at `now`. A key
    /// retired longer ago than `max_token_life` is refused.
    ///
    /// # Errors
    /// [`JwtError::Invalid`] for every kind of refusal.
    pub fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now: OffsetDateTime,
        max_token_life: Duration,
    ) -> Result<Claims, JwtError> {
        let invalid = |why: &str| JwtError::Invalid(why.to_owned());
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let remembered = self
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&digest)
            .cloned();
        let (claims, kid) = match remembered {
            Some(found) => found,
            None => {
                let found = self.verify_signature(token, issuer, audience)?;
                let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
                if verified.len() >= VERIFIED_CACHE_ENTRIES {
                    verified.clear();
                }
                verified.insert(digest, found.clone());
                found
            }
        };
        let key_alive = self
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|k| k.record.kid == kid)
            .is_some_and(|k| {
                k.record.environment_id == audience
                    && k.record
                        .retired_at
                        .is_none_or(|at| at + max_token_life > now)
            });
        if !key_alive {
            return Err(invalid("key retired or of another environment"));
        }
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
    ) -> Result<(Claims, String), JwtError> {
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
        Ok((data.claims, kid))
    }

    /// The public keys still able to verify, as a JWK set.
    #[must_use]
    pub fn jwks(&self, now: OffsetDateTime, max_token_life: Duration) -> JwkSet {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let published = keys
            .iter()
            .filter(|k| {
                k.record
                    .retired_at
                    .is_none_or(|at| at + max_token_life > now)
            })
            .map(|k| Jwk::ed25519(k.record.kid.clone(), k.record.public_key.clone()))
            .collect();
        JwkSet { keys: published }
    }
}

/// A JWK set (RFC 7517), as `GET /.well-known/jwks.json` serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JwkSet {
    /// The keys, current and recently retired.
    pub keys: Vec<Jwk>,
}

/// One public key of JWT sessions.
// Members in alphabetical order: the order they were served in as a JSON map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Jwk {
    /// `EdDSA`.
    pub alg: String,
    /// `Ed25519`.
    pub crv: String,
    /// The key id, as in the tokens' header.
    pub kid: String,
    /// `OKP`.
    pub kty: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// The public key, base64url.
    pub x: String,
}

impl Jwk {
    /// An Ed25519 signing key `kid` whose public half is `x` (base64url).
    #[must_use]
    pub fn ed25519(kid: String, x: String) -> Self {
        Self {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            alg: "EdDSA".to_owned(),
            use_: "sig".to_owned(),
            kid,
            x,
        }
    }
}
