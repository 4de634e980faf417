//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1); an unknown email is verified
//! against a dummy hash so it costs the same time.
//!
//! Hashes run on a few threads of their own (one per core by default), never on the async
//! workers, so a burst of sign-ins queues for those threads instead of starving the workers
//! that serve `/me`. On Linux the hashing threads also run at a lower scheduling priority
//! (nice +10): they take every idle cycle, but a `/me` request that needs a core gets it at
//! once rather than after a hash's time slice. Each thread keeps its 19 MiB working memory
//! for good, so a sign-in storm costs a fixed amount of memory, not an allocation per hash.
//!
//! The queue in front of those threads is bounded: when it is full, a hash is refused at once
//! ([`HashError::Busy`], answered `503 server_busy` with `Retry-After`) instead of waiting
//! behind a backlog that only grows while a storm lasts.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore as _;
use rand::rngs::OsRng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use subtle::ConstantTimeEq as _;
use tokio::sync::{OnceCell, oneshot};
use torii_shared::Secret;

/// Why hashing failed (never a wrong password: that is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The hashing task was cancelled or panicked.
    #[error("hashing task failed")]
    Task,
    /// argon2 refused the input.
    #[error("hashing failed: {0}")]
    Argon2(String),
    /// Every hashing thread is busy and the queue is full: try again shortly.
    #[error("the password-hashing queue is full")]
    Busy,
}

impl From<argon2::Error> for HashError {
    fn from(e: argon2::Error) -> Self {
        Self::Argon2(e.to_string())
    }
}

impl From<argon2::password_hash::Error> for HashError {
    fn from(e: argon2::password_hash::Error) -> Self {
        Self::Argon2(e.to_string())
    }
}

/// Working memory of one hash at a time, reused.
type Memory = Vec<Block>;

/// argon2id hasher with bounded parallelism.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    workers: Arc<Workers>,
    dummy: Arc<OnceCell<String>>,
}

/// A hash to compute, given the working memory of the thread that runs it.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads, started on the first hash; they end when the last clone of the
/// hasher is dropped (their queue closes).
#[derive(Debug)]
struct Workers {
    threads: usize,
    /// Hashes that may wait for a thread.
    capacity: usize,
    /// Hashes queued and not yet taken by a thread.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    queue: OnceLock<Result<mpsc::SyncSender<Job>, String>>,
}

/// Hashes that may wait, per hashing thread, unless told otherwise.
pub const DEFAULT_QUEUE_PER_THREAD: usize = 64;

/// How much lower than the rest of the process the hashing threads run (nice +10: about a
/// tenth of the CPU share of a normal thread when both want the same core).
#[cfg(target_os = "linux")]
const HASHING_NICENESS: i32 = 10;

impl Workers {
    fn queue(&self) -> Result<&mpsc::SyncSender<Job>, HashError> {
        self.queue
            .get_or_init(|| {
                let (sender, receiver) = mpsc::sync_channel::<Job>(self.capacity);
                let receiver = Arc::new(Mutex::new(receiver));
                for n in 0..self.threads {
                    let receiver = Arc::clone(&receiver);
                    std::thread::Builder::new()
                        .name(format!("torii-argon2-{n}"))
                        .spawn(move || work(&receiver))
                        .map_err(|e| format!("could not start a hashing thread: {e}"))?;
                }
                Ok(sender)
            })
            .as_ref()
            .map_err(|e| HashError::Argon2(e.clone()))
    }
}

/// A hashing thread: lowers its own priority, then runs jobs until the queue closes.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    let mut memory = Memory::new();
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        // A panicking hash fails its own request (its reply is dropped), not the thread.
        let _ = catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux each thread has its own nice value; this sets the calling thread's only. Not
    // being allowed to is harmless: the hashes then compete as equals, as elsewhere.
    let me = rustix::thread::gettid();
    if let Ok(current) = rustix::process::getpriority_process(Some(me)) {
        let _ =
            rustix::process::setpriority_process(Some(me), (current + HASHING_NICENESS).min(19));
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

fn params() -> Result<Params, HashError> {
    Ok(Params::new(19_456, 2, 1, Some(32))?)
}

/// Hashes with `argon` into `out`, in `memory` (grown to the size the parameters need).
fn hash_into(
    argon: &Argon2<'_>,
    memory: &mut Memory,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Ok(argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])?)
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
fn hash_with(memory: &mut Memory, password: &[u8]) -> Result<String, HashError> {
    let params = params()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0_u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt_string = SaltString::encode_b64(&salt)?;
    let output = Output::init_with(32, |out| {
        hash_into(&argon, memory, password, &salt, out)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt_string.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored` (any argon2 variant and parameters it
/// names), compared in constant time.
fn verify_with(memory: &mut Memory, password: &[u8], stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return Err(HashError::Argon2(
            "the stored hash has no salt or output".to_owned(),
        ));
    };
    let mut salt_bytes = [0_u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0_u8; expected.len()];
    hash_into(&argon, memory, password, salt, &mut out)?;
    Ok(bool::from(expected.as_bytes().ct_eq(&out)))
}

impl PasswordHasher {
    /// A hasher running at most `parallelism` hashes at once (on as many threads), with
    /// [`DEFAULT_QUEUE_PER_THREAD`] waiting per thread.
    #[must_use]
    pub fn new(parallelism: usize) -> Self {
        let threads = parallelism.max(1);
        Self::with_queue(threads, threads * DEFAULT_QUEUE_PER_THREAD)
    }

    /// A hasher running at most `parallelism` hashes at once, with at most `queue` (at least
    /// one) waiting for a thread; more are refused with [`HashError::Busy`].
    #[must_use]
    pub fn with_queue(parallelism: usize, queue: usize) -> Self {
        Self {
            workers: Arc::new(Workers {
                threads: parallelism.max(1),
                capacity: queue.max(1),
                waiting: Arc::default(),
                queue: OnceLock::new(),
            }),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// Runs `work` on a hashing thread, in that thread's working memory; refused at once when
    /// the queue is full.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        self.submit(work)?.await.map_err(|_| HashError::Task)?
    }

    /// Queues `work` for a hashing thread (or refuses it when the queue is full); the answer
    /// comes on the returned receiver.
    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> Result<T, HashError> + Send + 'static,
    ) -> Result<oneshot::Receiver<Result<T, HashError>>, HashError> {
        let (reply, answer) = oneshot::channel();
        let waiting = Arc::clone(&self.workers.waiting);
        let taken = Arc::clone(&waiting);
        let job: Job = Box::new(move |memory| {
            taken.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            // Nobody waits any more (the client went away while queued): skip the work.
            if !reply.is_closed() {
                let _ = reply.send(work(memory));
            }
        });
        let queue = self.workers.queue()?;
        waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        queue.try_send(job).map_err(|e| {
            waiting.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            match e {
                mpsc::TrySendError::Full(_) => HashError::Busy,
                mpsc::TrySendError::Disconnected(_) => HashError::Task,
            }
        })?;
        Ok(answer)
    }

    /// Hashes waiting for a hashing thread now.
    #[must_use]
    pub fn queue_depth(&self) -> usize {
        self.workers
            .waiting
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// When the blocking task fails.
    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let password = password.clone();
        self.blocking(move |memory| hash_with(memory, password.expose().as_bytes()))
            .await
    }

    /// Verifies a password against a stored hash; `None` verifies against a dummy hash (same
    /// cost) and always answers false.
    ///
    /// # Errors
    /// When the blocking task fails.
    pub async fn verify(&self, password: &Secret, stored: Option<&str>) -> Result<bool, HashError> {
        let (stored, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?, false),
        };
        let password = password.clone();
        let matched = self
            .blocking(move |memory| verify_with(memory, password.expose().as_bytes(), &stored))
            .await?;
        Ok(matched && real)
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        self.dummy
            .get_or_try_init(|| async {
                self.hash(&Secret::new("torii-dummy-password-for-timing"))
                    .await
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let hasher = PasswordHasher::new(2);
        let password = Secret::new("correct horse battery");
        let a = hasher.hash(&password).await.unwrap();
        let b = hasher.hash(&password).await.unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&password, Some(&a)).await.unwrap());
        assert!(
            !hasher
                .verify(&Secret::new("wrong"), Some(&a))
                .await
                .unwrap()
        );
    }

    #[test]
    fn hashes_agree_with_the_reference_implementation_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap());
        let mut memory = Memory::new();
        let ours = hash_with(&mut memory, b"correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(reference.verify_password(b"correct horse", &parsed).is_ok());
        assert!(
            reference
                .verify_password(b"correct horsE", &parsed)
                .is_err()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = reference
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(verify_with(&mut memory, b"battery staple", &theirs).unwrap());
        assert!(!verify_with(&mut memory, b"battery stapl", &theirs).unwrap());
        // Other parameters (an older hash) verify too, in the same memory.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        );
        let older = light.hash_password(b"old one", &salt).unwrap().to_string();
        assert!(verify_with(&mut memory, b"old one", &older).unwrap());
        assert!(verify_with(&mut memory, b"x", "not a phc string").is_err());
    }

    #[tokio::test]
    async fn hashes_run_on_their_own_threads_each_keeping_its_memory() {
        let hasher = PasswordHasher::new(2);
        let password = Secret::new("correct horse battery");
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (hasher, password) = (hasher.clone(), password.clone());
            tasks.push(tokio::spawn(async move { hasher.hash(&password).await }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let mut seen = Vec::new();
        for _ in 0..8 {
            let (name, blocks) = hasher
                .blocking(|memory| {
                    let name = std::thread::current().name().map(str::to_owned);
                    Ok((name.unwrap_or_default(), memory.len()))
                })
                .await
                .unwrap();
            assert!(name.starts_with("torii-argon2-"), "{name}");
            assert_eq!(
                blocks, 19_456,
                "the thread kept the memory of an earlier hash"
            );
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        assert!(seen.len() <= 2, "two threads at most: {seen:?}");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_below_the_async_workers() {
        let me = rustix::thread::gettid();
        let ours = rustix::process::getpriority_process(Some(me)).unwrap();
        let theirs = PasswordHasher::new(1)
            .blocking(|_| {
                let them = rustix::thread::gettid();
                Ok(rustix::process::getpriority_process(Some(them)).unwrap())
            })
            .await
            .unwrap();
        assert_eq!(theirs, (ours + HASHING_NICENESS).min(19));
    }

    #[tokio::test]
    async fn a_panicking_hash_fails_its_request_and_the_thread_goes_on() {
        let hasher = PasswordHasher::new(1);
        let failed = hasher
            .blocking(|_| -> Result<(), HashError> { panic!("argon2 fell over") })
            .await;
        assert!(matches!(failed, Err(HashError::Task)));
        let password = Secret::new("still here");
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
    }

    /// Occupies every thread of `hasher` until the returned sender is dropped; returns once
    /// they all run the blocking job.
    async fn hold_threads(hasher: &PasswordHasher, threads: usize) -> std::sync::mpsc::Sender<()> {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let (started, mut running) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..threads {
            let (hasher, held, started) = (hasher.clone(), Arc::clone(&held), started.clone());
            tokio::spawn(async move {
                hasher
                    .blocking(move |_| {
                        let _ = started.send(());
                        // Waits until the sender is dropped.
                        let _ = held.lock().unwrap().recv();
                        Ok(())
                    })
                    .await
            });
        }
        for _ in 0..threads {
            running.recv().await.unwrap();
        }
        release
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_what_waited_still_runs() {
        let hasher = PasswordHasher::with_queue(1, 2);
        let release = hold_threads(&hasher, 1).await;
        // Two may wait...
        let first = hasher.submit(|_| Ok(1)).unwrap();
        let second = hasher.submit(|_| Ok(2)).unwrap();
        // ...a third is refused without waiting.
        assert!(matches!(hasher.submit(|_| Ok(3)), Err(HashError::Busy)));
        assert!(matches!(
            hasher.hash(&Secret::new("one too many")).await,
            Err(HashError::Busy)
        ));
        drop(release);
        assert_eq!(first.await.unwrap().unwrap(), 1, "what waited still runs");
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert!(hasher.hash(&Secret::new("room again")).await.is_ok());
    }

    #[tokio::test]
    async fn a_full_hashing_queue_answers_503_with_retry_after_through_the_router() {
        use tower::ServiceExt as _;
        let dir = std::env::temp_dir().join(crate::session::new_id("torii-busy"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("busy.db").display());
        let store = crate::store::SqliteStore::connect(&url, 2).await.unwrap();
        crate::store::Store::migrate(&store).await.unwrap();
        let torii = crate::Torii::builder()
            .store(store)
            .environment(crate::Environment::new_test(
                "env_busy",
                "Busy",
                "pk_test_busy",
                "sk_test_busy",
            ))
            .hash_parallelism(1)
            .hash_queue(1)
            .build()
            .await
            .unwrap();
        let hasher = torii.hasher().clone();
        let release = hold_threads(&hasher, 1).await;
        // Fill the one waiting place.
        let queued = hasher.submit(|_| Ok(())).unwrap();
        let request = || {
            axum::http::Request::builder()
                .method("POST")
                .uri("/v1/sign-in/password")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    r#"{"email":"ada@example.com","password":"correct horse battery"}"#,
                ))
                .unwrap()
        };
        let answer = crate::router(torii.clone())
            .oneshot(request())
            .await
            .unwrap();
        assert_eq!(answer.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers()["retry-after"], "1");
        let body = http_body_util::BodyExt::collect(answer.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "server_busy", "{body}");
        drop(release);
        assert!(queued.await.unwrap().is_ok());
        let after = crate::router(torii.clone())
            .oneshot(request())
            .await
            .unwrap();
        assert_eq!(after.status(), axum::http::StatusCode::UNAUTHORIZED);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new(1);
        assert!(
            !hasher
                .verify(&Secret::new("torii-dummy-password-for-timing"), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn long_passwords_are_not_truncated() {
        let hasher = PasswordHasher::new(1);
        let a = Secret::new(format!("{}a", "x".repeat(255)));
        let b = Secret::new(format!("{}b", "x".repeat(255)));
        let hash = hasher.hash(&a).await.unwrap();
        assert!(!hasher.verify(&b, Some(&hash)).await.unwrap());
    }
}
