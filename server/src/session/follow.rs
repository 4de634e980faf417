//! Following the revocation log, so that a change made through any node reaches this node's
//! [`SessionCache`] within its bound.
//!
//! - The node's own revoking writes invalidate at once: the store tells the cache after each
//!   commit ([`crate::store::RevocationStore::observe_revocations`]).
//! - Every node polls the log by id, a quarter of the bound apart. Each successful read keeps
//!   the cache fresh for the bound from when the read started; a node that cannot read the log
//!   stops answering from its cache when that runs out.
//! - On PostgreSQL a `LISTEN` connection (named [`LISTENER_NAME`]) wakes the poll as soon as a
//!   change commits. It only makes propagation quicker: a lost connection or notification
//!   costs at most one poll interval, never correctness.
//! - Entries older than [`RETENTION`] are pruned by whichever node gets there first. A node
//!   that finds entries missing between its position and the log's head (pruned before it read
//!   them) forgets its whole cache.

use super::cache::SessionCache;
use crate::store::{RevocationObserver, Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The `application_name` of the PostgreSQL connection that listens for revocations.
pub const LISTENER_NAME: &str = "torii-revocations";
/// How long entries stay in the log: far longer than any node needs to read them.
pub const RETENTION: Duration = Duration::from_secs(15 * 60);
/// How often a node prunes the log.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Entries read at once.
const PAGE: u32 = 500;
/// Waits before trying a failed listener connection again, doubling up to the last.
const LISTENER_RETRY: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(400),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// The tasks following the log for one [`crate::Torii`]; stopped when it is dropped.
#[derive(Debug)]
pub(crate) struct Follower {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts following the log into `cache`. Without a tokio runtime (or with a cache of no
/// capacity) nothing is started and the cache stays stale: every lookup goes to the store.
pub(crate) fn follow(store: &Arc<dyn Store>, cache: &Arc<SessionCache>) -> Follower {
    let observer: Arc<dyn RevocationObserver> = Arc::<SessionCache>::clone(cache);
    store.observe_revocations(Arc::downgrade(&observer));
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Follower { tasks: Vec::new() };
    };
    if cache.capacity() == 0 {
        // Nothing is ever cached, so there is nothing to keep true.
        return Follower { tasks: Vec::new() };
    }
    let wake = Arc::new(Notify::new());
    let poll = runtime.spawn(poll_loop(
        Arc::clone(store),
        Arc::clone(cache),
        Arc::clone(&wake),
    ));
    let listen = runtime.spawn(listen_loop(Arc::clone(store), wake));
    Follower {
        tasks: vec![poll, listen],
    }
}

/// Where this node is in the log.
struct Position {
    /// The last id applied; `None` until the log was first read.
    last: Option<i64>,
}

impl Position {
    /// Reads every entry after the position and applies it to the cache. The log's head is
    /// read first: in the usual case (nothing new) that is the only query, and entries up to
    /// it that cannot be read were pruned (or the database went back in time), which this
    /// node may have missed, so it forgets its whole cache.
    async fn read(&mut self, store: &dyn Store, cache: &SessionCache) -> Result<(), StoreError> {
        let head = store.last_revocation_id().await?;
        let Some(mut last) = self.last else {
            // Nothing is cached before the first read: start at the end of the log.
            self.last = Some(head);
            return Ok(());
        };
        if head < last {
            tracing::warn!(
                head,
                read = last,
                "the revocation log is behind what this node read (a restored database?); \
                 clearing its session cache"
            );
            cache.clear();
            self.last = Some(head);
            return Ok(());
        }
        while last < head {
            let entries = store.revocations_after(last, PAGE).await?;
            if entries.first().map(|e| e.id) != Some(last + 1) {
                tracing::warn!(
                    after = last,
                    "revocations were pruned before this node read them; clearing its session \
                     cache"
                );
                cache.clear();
            }
            let Some(end) = entries.last().map(|e| e.id) else {
                last = head;
                break;
            };
            let read_at = time::OffsetDateTime::now_utc();
            if let Some(oldest) = entries.first() {
                let lag = (read_at - oldest.created_at).max(time::Duration::ZERO);
                cache.saw_revocation(lag.unsigned_abs());
            }
            let scopes: Vec<_> = entries.into_iter().map(|e| e.scope).collect();
            cache.invalidate(&scopes);
            last = end;
        }
        self.last = Some(last);
        Ok(())
    }
}

async fn poll_loop(store: Arc<dyn Store>, cache: Arc<SessionCache>, wake: Arc<Notify>) {
    let interval = (cache.bound() / 4).max(Duration::from_millis(5));
    let mut position = Position { last: None };
    let mut failing = false;
    let mut pruned_at: Option<Instant> = None;
    loop {
        let started = Instant::now();
        match position.read(store.as_ref(), &cache).await {
            Ok(()) => {
                cache.fresh_since(started);
                if failing {
                    tracing::info!("the revocation log is readable again");
                    failing = false;
                }
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(
                        error = %crate::log::escaped(&error),
                        "cannot read the revocation log; session lookups go to the store \
                         until it can"
                    );
                    failing = true;
                }
            }
        }
        if !failing && pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned_at = Some(Instant::now());
            let before = time::OffsetDateTime::now_utc() - RETENTION;
            if let Err(error) = store.prune_revocations(before).await {
                tracing::warn!(
                    error = %crate::log::escaped(&error),
                    "pruning the revocation log failed"
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = wake.notified() => {}
        }
    }
}

/// Wakes the poll on every notification, and whenever the connection is made (again):
/// notifications sent while it was down are lost.
async fn listen_loop(store: Arc<dyn Store>, wake: Arc<Notify>) {
    let mut failures = 0_usize;
    loop {
        let mut listener = match store.revocation_listener(LISTENER_NAME).await {
            Ok(Some(listener)) => listener,
            // The database cannot push: the poll alone follows the log.
            Ok(None) => return,
            Err(error) => {
                if failures == 0 {
                    tracing::warn!(
                        error = %crate::log::escaped(&error),
                        "cannot listen for revocations; polling the log meanwhile"
                    );
                }
                let wait = LISTENER_RETRY[failures.min(LISTENER_RETRY.len() - 1)];
                failures += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        if failures > 0 {
            tracing::info!("listening for revocations again");
        }
        failures = 0;
        wake.notify_one();
        loop {
            match listener.wait().await {
                Ok(()) => wake.notify_one(),
                Err(error) => {
                    tracing::warn!(
                        error = %crate::log::escaped(&error),
                        "the revocation listener's connection failed; connecting again"
                    );
                    wake.notify_one();
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::cache::Cached;
    use crate::store::{SessionRecord, SqliteStore, UserRecord};
    use time::OffsetDateTime;
    use torii_shared::SessionInfo;

    struct Db {
        store: Arc<dyn Store>,
        dir: std::path::PathBuf,
    }

    impl Drop for Db {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    async fn db() -> Db {
        let dir = std::env::temp_dir().join(crate::session::new_id("torii-follow"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = SqliteStore::connect(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        Db {
            store: Arc::new(store),
            dir,
        }
    }

    fn user(id: &str) -> UserRecord {
        let at = OffsetDateTime::UNIX_EPOCH;
        UserRecord {
            id: id.to_owned(),
            environment_id: "env".to_owned(),
            email: format!("{id}@example.com"),
            email_canonical: format!("{id}@example.com"),
            name: None,
            email_verified: true,
            legal_version: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn cached(user_id: &str) -> Cached {
        let at = OffsetDateTime::UNIX_EPOCH;
        Cached {
            session: SessionRecord {
                id: format!("ses_{user_id}"),
                environment_id: "env".to_owned(),
                user_id: user_id.to_owned(),
                token_hash: format!("hash_{user_id}"),
                created_at: at,
                expires_at: at,
                last_active_at: at,
                authenticated_at: at,
                user_agent: None,
                ip: None,
            },
            user: user(user_id),
            info: SessionInfo::from_gates(Vec::new()),
        }
    }

    fn put(cache: &SessionCache, user_id: &str) {
        let now = Instant::now();
        let ticket = cache.ticket(now).unwrap();
        cache.insert(ticket, &format!("hash_{user_id}"), cached(user_id), now);
    }

    fn has(cache: &SessionCache, user_id: &str) -> bool {
        cache
            .get(&format!("hash_{user_id}"), Instant::now())
            .is_some()
    }

    async fn setup() -> (Db, SessionCache, Position) {
        let db = db().await;
        for id in ["usr_a", "usr_b"] {
            db.store.insert_user(&user(id), None).await.unwrap();
        }
        let cache = SessionCache::new(
            16,
            Duration::from_secs(60),
            crate::metrics::CacheCounters::default(),
        );
        cache.fresh_since(Instant::now());
        let mut position = Position { last: None };
        position.read(db.store.as_ref(), &cache).await.unwrap();
        put(&cache, "usr_a");
        put(&cache, "usr_b");
        (db, cache, position)
    }

    #[tokio::test]
    async fn entries_read_drop_what_they_name_and_nothing_else() {
        let (db, cache, mut position) = setup().await;
        let now = OffsetDateTime::now_utc();
        db.store
            .set_user_name("usr_a", Some("Ada"), now)
            .await
            .unwrap();
        assert!(has(&cache, "usr_a"), "not read yet");
        position.read(db.store.as_ref(), &cache).await.unwrap();
        assert!(!has(&cache, "usr_a"));
        assert!(has(&cache, "usr_b"));
        assert_eq!(position.last, Some(1));
        // Read again: nothing new, nothing dropped.
        put(&cache, "usr_a");
        position.read(db.store.as_ref(), &cache).await.unwrap();
        assert!(has(&cache, "usr_a"));
    }

    #[tokio::test]
    async fn entries_pruned_before_they_were_read_clear_the_whole_cache() {
        let (db, cache, mut position) = setup().await;
        let now = OffsetDateTime::now_utc();
        db.store
            .set_user_name("usr_a", Some("Ada"), now)
            .await
            .unwrap();
        db.store
            .prune_revocations(now + time::Duration::minutes(1))
            .await
            .unwrap();
        position.read(db.store.as_ref(), &cache).await.unwrap();
        assert!(!has(&cache, "usr_a"));
        assert!(
            !has(&cache, "usr_b"),
            "what the lost entry named is unknown"
        );
        assert_eq!(position.last, Some(1));
    }

    #[tokio::test]
    async fn a_log_behind_the_position_clears_the_cache_and_starts_over() {
        let (db, cache, mut position) = setup().await;
        position.last = Some(40);
        position.read(db.store.as_ref(), &cache).await.unwrap();
        assert!(!has(&cache, "usr_a") && !has(&cache, "usr_b"));
        assert_eq!(position.last, Some(0));
    }
}
