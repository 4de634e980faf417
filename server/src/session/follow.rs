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
//!   whose position fell behind what was pruned forgets its whole cache.

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

/// Starts following the log into `cache`. Without a tokio runtime nothing is started and
/// the cache stays stale (every lookup goes to the store).
pub(crate) fn follow(store: &Arc<dyn Store>, cache: &Arc<SessionCache>) -> Follower {
    let observer: Arc<dyn RevocationObserver> = Arc::<SessionCache>::clone(cache);
    store.observe_revocations(Arc::downgrade(&observer));
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Follower { tasks: Vec::new() };
    };
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
    /// Reads every entry after the position and applies it to the cache.
    async fn read(&mut self, store: &dyn Store, cache: &SessionCache) -> Result<(), StoreError> {
        let Some(mut last) = self.last else {
            // Nothing is cached before the first read: start at the end of the log.
            self.last = Some(store.last_revocation_id().await?);
            return Ok(());
        };
        loop {
            let entries = store.revocations_after(last, PAGE).await?;
            let Some(first) = entries.first() else {
                break;
            };
            if first.id != last + 1 {
                // Entries this node never read were pruned: whatever it holds may be stale.
                tracing::warn!(
                    from = last + 1,
                    to = first.id - 1,
                    "revocations were pruned before this node read them; clearing its session cache"
                );
                cache.clear();
            }
            let scopes: Vec<_> = entries.iter().map(|e| e.scope.clone()).collect();
            cache.invalidate(&scopes);
            last = entries.last().map_or(last, |e| e.id);
            self.last = Some(last);
            if entries.len() < PAGE as usize {
                break;
            }
        }
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
