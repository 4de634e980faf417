//! Torii's server core. A [`Torii`] instance owns users, sessions and the sign-in methods; it is
//! built once with [`Torii::builder`], cheap to clone, and usable directly from Rust. Its HTTP
//! API is [`router`], an axum `Router` an application can serve alone or nest in its own.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use torii_server::{Environment, Torii, store::SqliteStore};
//! let store = SqliteStore::connect("sqlite://torii.db", 8).await?;
//! let torii = Torii::builder()
//!     .store(store)
//!     .environment(Environment::new_test("env_demo", "Demo", "pk_test_demo", "sk_test_demo"))
//!     .public_url("http://localhost:3000".parse()?)
//!     // Required with a live environment: `openssl rand -hex 32 > torii.key`.
//!     .secret_key(torii_server::secret_key::ServerKey::read("torii.key".as_ref())?)
//!     .build()
//!     .await?;
//! let app = torii_server::router(torii);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! // Connect info gives every request its client's address, which per-address rate limits
//! // and sessions need.
//! axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)
)]

pub mod account;
pub mod admin;
pub mod breached;
pub mod ceremony;
pub mod client_ip;
pub mod clock;
pub mod codes;
pub mod config;
pub mod environment;
pub mod error;
pub mod gates;
pub mod guard;
pub mod http;
pub mod log;
pub mod mail;
pub mod methods;
pub mod metrics;
pub mod rate_limit;
pub mod secret_key;
pub mod serve;
pub mod session;
pub mod store;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use environment::{
    DEFAULT_JWT_LIFETIME, Environment, FirstFactor, MAX_JWT_LIFETIME, MfaSettings, SessionSettings,
};
pub use error::ApiError;
pub use http::{openapi_document, router};
pub use methods::email_code::SignUpError;
pub use methods::password::SignInError;
pub use session::{
    AuthenticatedSession, AuthenticatedSessionWithToken, TOUCH_INTERVAL, user_payload,
};

use crate::mail::{LogMailer, Mailer};
use crate::methods::password::PasswordHasher;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use time::OffsetDateTime;
use torii_shared::SessionKind;
use url::Url;

/// The Torii instance: store, mailer, clock, environments and methods.
#[derive(Debug, Clone)]
pub struct Torii {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    /// The session lookup of every request, coalesced under load.
    lookups: Arc<session::lookups::SessionLookups>,
    /// This node's cache of database-session lookups, kept true by the revocation log.
    session_cache: Arc<session::cache::SessionCache>,
    /// "Last active" writes, off the request path.
    toucher: session::touch::Toucher,
    /// The tasks following the revocation log (stopped with the instance).
    _follower: session::follow::Follower,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    environments: Vec<Arc<Environment>>,
    public_url: Url,
    hasher: PasswordHasher,
    jwt: Option<session::jwt::JwtKeys>,
    deliveries: Arc<mail::Deliveries>,
    oauth: methods::oauth::OAuthRuntime,
    /// The passkeys' relying party of each environment that enables passkeys, by id.
    passkeys: std::collections::HashMap<String, methods::passkey::RelyingParty>,
    /// The server key (and the previous one during a rotation).
    keys: secret_key::ServerKeys,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers are believed.
    trusted_proxies: client_ip::TrustedProxies,
    /// The breached-password check, when configured.
    breached_passwords: Option<breached::BreachedPasswords>,
    /// Whether the missing socket address was reported (once, not per request).
    no_peer_reported: std::sync::atomic::AtomicBool,
    /// Set when shutdown begins: readiness answers 503 from then on (see [`Torii::drain`]).
    draining: std::sync::atomic::AtomicBool,
    /// What this node counts, for `GET /metrics`.
    metrics: Arc<metrics::Metrics>,
}

/// Why a [`Torii`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No store was given.
    #[error("a store is required")]
    MissingStore,
    /// Two environments share a publishable key or id.
    #[error("duplicate environment key or id: {0}")]
    DuplicateEnvironment(String),
    /// Loading or creating the default environment failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Loading or creating the JWT signing keys failed.
    #[error("JWT keys: {0}")]
    Jwt(#[from] session::jwt::JwtError),
    /// The HTTP client for OAuth providers could not be set up.
    #[error("OAuth HTTP client: {0}")]
    OAuthClient(String),
    /// An environment enables passkeys with an unusable relying party.
    #[error(transparent)]
    Passkeys(#[from] methods::passkey::RelyingPartyError),
    /// A live environment with a mailer that does not deliver (the log mailer, the default):
    /// its codes and sign-in links would end up in a log.
    #[error("the live environment `{0}` needs a mailer that delivers email, not the log")]
    LiveWithoutMail(String),
    /// A failure that is nobody's configuration (a URL the server builds itself).
    #[error(transparent)]
    Internal(#[from] error::InternalError),
    /// A live environment needs a configured server key (`secret_key_file`).
    #[error(
        "environment {0} is in live mode and needs a server key: set secret_key_file (TORII_SECRET_KEY_FILE)"
    )]
    SecretKeyRequired(String),
}

/// Builds a [`Torii`].
#[derive(Debug, Default)]
pub struct ToriiBuilder {
    store: Option<Arc<dyn Store>>,
    mailer: Option<Arc<dyn Mailer>>,
    clock: Option<Arc<dyn Clock>>,
    environments: Vec<Environment>,
    public_url: Option<Url>,
    hash_parallelism: Option<usize>,
    secret_key: Option<secret_key::ServerKey>,
    previous_secret_key: Option<secret_key::ServerKey>,
    hash_queue: Option<usize>,
    trusted_proxies: client_ip::TrustedProxies,
    breached_passwords: Option<breached::BreachedPasswords>,
    session_cache: Option<(usize, std::time::Duration)>,
}

impl ToriiBuilder {
    /// The store (required).
    #[must_use]
    pub fn store(mut self, store: impl Store + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The store, already shared.
    #[must_use]
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The mailer (default: [`LogMailer`]).
    #[must_use]
    pub fn mailer(mut self, mailer: impl Mailer + 'static) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// The mailer, already shared.
    #[must_use]
    pub fn shared_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The clock (default: [`SystemClock`]).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Adds an environment. With none, a test-mode environment is created on first start and
    /// kept in the store.
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environments.push(environment);
        self
    }

    /// Base of every link in an email; its origin is always an allowed origin.
    #[must_use]
    pub fn public_url(mut self, url: Url) -> Self {
        self.public_url = Some(url);
        self
    }

    /// The server key: codes are stored as HMACs under it and JWT signing keys sealed with
    /// it. Required when an environment is in live mode. Without one (test mode only) a
    /// random key is made up for this process: codes sent and JWT keys made before a restart
    /// are then lost (JWT keys are replaced; clients renew from their refresh session).
    #[must_use]
    pub fn secret_key(mut self, key: secret_key::ServerKey) -> Self {
        self.secret_key = Some(key);
        self
    }

    /// The server key before a rotation: still accepted for codes sent under it, and for
    /// opening JWT keys sealed with it (which are replaced by keys sealed with the new one).
    #[must_use]
    pub fn previous_secret_key(mut self, key: secret_key::ServerKey) -> Self {
        self.previous_secret_key = Some(key);
        self
    }

    /// How many password hashes may run at once (default: the number of CPUs).
    #[must_use]
    pub fn hash_parallelism(mut self, permits: usize) -> Self {
        self.hash_parallelism = Some(permits);
        self
    }

    /// How many password hashes may wait for a hashing thread before more are refused with
    /// `503 server_busy` (default: 64 per hashing thread, about a second of waiting; at least 1).
    #[must_use]
    pub fn hash_queue(mut self, waiting: usize) -> Self {
        self.hash_queue = Some(waiting);
        self
    }

    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the client (default: none;
    /// the socket peer is the client).
    #[must_use]
    pub fn trusted_proxies(mut self, proxies: client_ip::TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Checks every new password against a breached-password range API (default: off).
    #[must_use]
    pub fn breached_passwords(mut self, check: breached::BreachedPasswords) -> Self {
        self.breached_passwords = Some(check);
        self
    }

    /// The per-node cache of database-session lookups: at most `capacity` sessions (0 turns
    /// it off), answered from memory only while every change that ends or alters a session,
    /// made through any node on the store, reaches this node within `bound` (see
    /// [`session::follow`]). Default: [`session::DEFAULT_SESSION_CACHE_CAPACITY`] and
    /// [`session::DEFAULT_REVOCATION_BOUND`].
    #[must_use]
    pub fn session_cache(mut self, capacity: usize, bound: std::time::Duration) -> Self {
        self.session_cache = Some((capacity, bound));
        self
    }

    /// Builds the instance, creating the default environment when none was given.
    ///
    /// # Errors
    /// A missing store, duplicate environments, or a store failure.
    pub async fn build(self) -> Result<Torii, BuildError> {
        let store = self.store.ok_or(BuildError::MissingStore)?;
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let public_url = match self.public_url {
            Some(url) => url,
            None => Url::parse("http://localhost:3000")
                .map_err(|e| error::InternalError::new(error::InternalSource::Url, e))?,
        };
        let mut environments = self.environments;
        if environments.is_empty() {
            environments.push(config::default_environment(store.as_ref(), clock.now()).await?);
        }
        let public_origin = public_url.origin().ascii_serialization();
        for env in &mut environments {
            if !env.allowed_origins.contains(&public_origin) {
                env.allowed_origins.push(public_origin.clone());
            }
        }
        for (i, env) in environments.iter().enumerate() {
            if environments[..i]
                .iter()
                .any(|o| o.id == env.id || o.publishable_key == env.publishable_key)
            {
                return Err(BuildError::DuplicateEnvironment(env.id.clone()));
            }
        }
        let keys = match self.secret_key {
            Some(current) => secret_key::ServerKeys {
                current,
                previous: self.previous_secret_key,
                ephemeral: false,
            },
            None => {
                if let Some(live) = environments
                    .iter()
                    .find(|env| env.mode == torii_shared::EnvironmentMode::Live)
                {
                    return Err(BuildError::SecretKeyRequired(live.id.clone()));
                }
                secret_key::ServerKeys {
                    current: secret_key::ServerKey::generate(),
                    previous: None,
                    ephemeral: true,
                }
            }
        };
        let jwt_environments: Vec<&str> = environments
            .iter()
            .filter(|env| env.session.kind == SessionKind::Jwt)
            .map(|env| env.id.as_str())
            .collect();
        let jwt = if jwt_environments.is_empty() {
            None
        } else {
            Some(
                session::jwt::JwtKeys::load(store.as_ref(), &keys, &jwt_environments, clock.now())
                    .await?,
            )
        };
        let oauth = methods::oauth::OAuthRuntime::new()
            .map_err(|e| BuildError::OAuthClient(e.message().to_owned()))?;
        let mut passkeys = std::collections::HashMap::new();
        for env in &environments {
            if env.methods.contains(&torii_shared::SignInMethod::Passkey) {
                let rp = methods::passkey::RelyingParty::new(env, &public_url)?;
                passkeys.insert(env.id.clone(), rp);
            }
        }
        let metrics = Arc::new(metrics::Metrics::new());
        let mailer: Arc<dyn Mailer> = Arc::new(metrics::CountedMailer::new(
            self.mailer.unwrap_or_else(|| Arc::new(LogMailer)),
            Arc::clone(&metrics),
        ));
        if !mailer.delivers()
            && let Some(live) = environments
                .iter()
                .find(|env| env.mode == torii_shared::EnvironmentMode::Live)
        {
            return Err(BuildError::LiveWithoutMail(live.name.clone()));
        }
        let parallelism = self.hash_parallelism.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        });
        let (capacity, bound) = self.session_cache.unwrap_or((
            session::DEFAULT_SESSION_CACHE_CAPACITY,
            session::DEFAULT_REVOCATION_BOUND,
        ));
        let session_cache = Arc::new(session::cache::SessionCache::new(
            capacity,
            bound,
            metrics.cache_counters(),
        ));
        let follower = session::follow::follow(&store, &session_cache);
        let torii = Torii {
            inner: Arc::new(Inner {
                lookups: session::lookups::SessionLookups::new(Arc::clone(&store)),
                toucher: session::touch::Toucher::new(Arc::clone(&store)),
                session_cache,
                _follower: follower,
                store,
                mailer,
                clock,
                environments: environments.into_iter().map(Arc::new).collect(),
                public_url,
                hasher: match self.hash_queue {
                    Some(waiting) => PasswordHasher::with_queue(parallelism, waiting),
                    None => PasswordHasher::new(parallelism),
                },
                jwt,
                deliveries: Arc::default(),
                oauth,
                passkeys,
                keys,
                trusted_proxies: self.trusted_proxies,
                breached_passwords: self.breached_passwords,
                no_peer_reported: std::sync::atomic::AtomicBool::new(false),
                draining: std::sync::atomic::AtomicBool::new(false),
                metrics,
            }),
        };
        // During a server-key rotation, authenticator secrets move to the new key, as the JWT
        // signing keys do above.
        torii.reseal_totp_secrets().await?;
        Ok(torii)
    }
}

/// Who is making a request, recorded on the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// `User-Agent`, truncated.
    pub user_agent: Option<String>,
    /// The client's address (see [`Torii::client_ip`]), recorded on sessions in full.
    pub ip: Option<String>,
    /// The key of per-address limits: the address, or for IPv6 its /64.
    pub ip_limit_key: Option<String>,
}

impl ClientInfo {
    /// A client at `ip` (when known) with a user agent.
    #[must_use]
    pub fn new(user_agent: Option<String>, ip: Option<std::net::IpAddr>) -> Self {
        Self {
            user_agent,
            ip: ip.map(|ip| ip.to_string()),
            ip_limit_key: ip.map(client_ip::limit_key),
        }
    }
}

impl Torii {
    /// Starts building an instance.
    #[must_use]
    pub fn builder() -> ToriiBuilder {
        ToriiBuilder::default()
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The store, shared (to build another instance on the same database).
    #[must_use]
    pub fn store_arc(&self) -> Arc<dyn Store> {
        Arc::clone(&self.inner.store)
    }

    /// Marks this instance as shutting down: from now on `/readyz` answers
    /// `503 shutting_down`, so that a load balancer takes the node out of rotation while it
    /// still serves every request (call it before closing the listener, then wait the drain
    /// delay). There is no way back: a draining instance is on its way out.
    pub fn drain(&self) {
        self.inner
            .draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// What this node counts.
    #[must_use]
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// The text of `GET /metrics`, the gauges read now (store pool, password-hashing queue).
    ///
    /// # Errors
    /// Never in practice (the text is written to memory).
    pub fn metrics_text(&self) -> Result<String, std::fmt::Error> {
        self.inner.metrics.encode(
            self.inner.store.connections(),
            self.inner.hasher.queue_depth(),
            self.inner.session_cache.len(),
        )
    }

    /// Whether [`Torii::drain`] was called.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.inner
            .draining
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn mailer(&self) -> &dyn Mailer {
        self.inner.mailer.as_ref()
    }

    pub(crate) fn mailer_arc(&self) -> Arc<dyn Mailer> {
        Arc::clone(&self.inner.mailer)
    }

    pub(crate) fn deliveries(&self) -> &Arc<mail::Deliveries> {
        &self.inner.deliveries
    }

    pub(crate) fn oauth_runtime(&self) -> &methods::oauth::OAuthRuntime {
        &self.inner.oauth
    }

    pub(crate) fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    pub(crate) fn breached_passwords(&self) -> Option<&breached::BreachedPasswords> {
        self.inner.breached_passwords.as_ref()
    }

    /// The current time from the injected clock.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// The configured environments.
    #[must_use]
    pub fn environments(&self) -> &[Arc<Environment>] {
        &self.inner.environments
    }

    /// The passkeys' relying party of an environment, when it enables passkeys.
    #[must_use]
    pub fn passkey_relying_party(
        &self,
        environment_id: &str,
    ) -> Option<&methods::passkey::RelyingParty> {
        self.inner.passkeys.get(environment_id)
    }

    /// Base URL of links in emails.
    #[must_use]
    pub fn public_url(&self) -> &Url {
        &self.inner.public_url
    }

    /// The environment named by a publishable key; with no key, the only environment when
    /// there is exactly one.
    #[must_use]
    pub fn environment_for(&self, publishable_key: Option<&str>) -> Option<&Arc<Environment>> {
        let envs = &self.inner.environments;
        match publishable_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => envs.iter().find(|env| env.publishable_key == key),
            None if envs.len() == 1 => envs.first(),
            None => None,
        }
    }

    /// The client's address: the socket peer's, or the one trusted proxies forwarded (see
    /// [`client_ip`]). Without a peer address (a server that does not pass connect info) it is
    /// unknown, which is reported once in the log: every such client shares one limit bucket.
    #[must_use]
    pub fn client_ip(
        &self,
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<std::net::IpAddr> {
        let Some(peer) = peer else {
            if !self
                .inner
                .no_peer_reported
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                tracing::warn!(
                    "requests carry no client address: per-address rate limits put every client \
                     in one bucket; serve with `into_make_service_with_connect_info::<SocketAddr>()`"
                );
            }
            return None;
        };
        Some(client_ip::client_ip(
            peer,
            headers,
            &self.inner.trusted_proxies,
        ))
    }

    /// The server key in use (and the previous one during a rotation).
    #[must_use]
    pub fn server_keys(&self) -> &secret_key::ServerKeys {
        &self.inner.keys
    }

    /// The JWT signing keys, in a JWT environment.
    #[must_use]
    pub fn jwt_keys(&self) -> Option<&session::jwt::JwtKeys> {
        self.inner.jwt.as_ref()
    }
}
