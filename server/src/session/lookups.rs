//! The session lookup of every request, coalesced: requests that arrive while the store is
//! busy with earlier lookups wait for the next query and share it (`WHERE token_hash IN …`).
//!
//! At low load nothing waits: a lookup starts its own query at once, as if it were alone.
//! Under load at most [`MAX_IN_FLIGHT`] lookup queries run at a time, and each carries every
//! request that queued meanwhile (up to [`MAX_LOOKUP_BATCH`]). The database then answers
//! one query for many requests instead of one each, which is what bounds `/me` on a busy
//! server: per-query overhead (a round trip to the database, or to SQLite's worker thread),
//! not the index probe itself.
//!
//! Freshness is unchanged: a request is answered by a query that started after it arrived,
//! so a session revoked before the request is never reported as live.

use crate::error::internal::{InternalError, InternalSource};
use crate::session::SessionError;
use crate::store::{SessionRecord, Store, StoreError, UserRecord};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

use crate::store::MAX_LOOKUP_BATCH;

/// Lookup queries running at once; the rest of the pool stays free for writes.
pub(crate) const MAX_IN_FLIGHT: usize = 4;

/// What a lookup finds: the session, its user, and whether any gate is stored on either.
pub(crate) type Found = (SessionRecord, UserRecord, bool);

type Reply = oneshot::Sender<Result<Option<Found>, StoreError>>;

/// Where the lookups go: the store's [`crate::store::SessionStore::sessions_for_requests`].
#[async_trait::async_trait]
pub(crate) trait Source: Send + Sync + 'static {
    async fn sessions(&self, token_hashes: &[String]) -> Result<Vec<Found>, StoreError>;
}

#[async_trait::async_trait]
impl Source for Arc<dyn Store> {
    async fn sessions(&self, token_hashes: &[String]) -> Result<Vec<Found>, StoreError> {
        self.sessions_for_requests(token_hashes).await
    }
}

/// Coalesces concurrent session lookups into shared store queries.
pub(crate) struct SessionLookups {
    source: Box<dyn Source>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: Vec<(String, Reply)>,
    in_flight: usize,
}

impl std::fmt::Debug for SessionLookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLookups").finish_non_exhaustive()
    }
}

impl SessionLookups {
    pub(crate) fn new(source: impl Source) -> Arc<Self> {
        Arc::new(Self {
            source: Box::new(source),
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session a token hash names, with its user and gate flag.
    ///
    /// # Errors
    /// The store's failure, reported to every request the failed query carried; an
    /// [`InternalError`] when the task carrying the query went away without an answer.
    pub(crate) async fn find(
        self: &Arc<Self>,
        token_hash: String,
    ) -> Result<Option<Found>, SessionError> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut state = self.state();
            state.queue.push((token_hash, reply));
            let start = state.in_flight < MAX_IN_FLIGHT;
            if start {
                state.in_flight += 1;
            }
            start
        };
        if start {
            // A task of its own: the request that started it may be dropped (its client gone)
            // while the query carries others.
            tokio::spawn(Arc::clone(self).drain());
        }
        match answer.await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(InternalError::new(
                InternalSource::SessionLookup,
                "the session lookup was abandoned",
            )
            .into()),
        }
    }

    /// Runs queries until the queue is empty, then gives its slot back.
    async fn drain(self: Arc<Self>) {
        let mut slot = Slot {
            lookups: Arc::clone(&self),
            held: true,
        };
        loop {
            let batch: Vec<(String, Reply)> = {
                let mut state = self.state();
                if state.queue.is_empty() {
                    // Under the lock that queued requests take: none is left behind.
                    state.in_flight -= 1;
                    slot.held = false;
                    return;
                }
                let take = state.queue.len().min(MAX_LOOKUP_BATCH);
                state.queue.drain(..take).collect()
            };
            let (wanted, replies): (Vec<String>, Vec<Reply>) = batch.into_iter().unzip();
            let mut hashes = wanted.clone();
            hashes.sort_unstable();
            hashes.dedup();
            match self.source.sessions(&hashes).await {
                Ok(mut found) => {
                    for (i, reply) in replies.into_iter().enumerate() {
                        let hash = &wanted[i];
                        let at = found.iter().position(|(s, _, _)| s.token_hash == *hash);
                        // Two requests with one token (a page polling twice) share the row.
                        let shared = wanted[i + 1..].contains(hash);
                        let answer = match at {
                            Some(at) if shared => Some(found[at].clone()),
                            Some(at) => Some(found.swap_remove(at)),
                            None => None,
                        };
                        let _ = reply.send(Ok(answer));
                    }
                }
                Err(error) => {
                    for reply in replies {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

/// A drain's claim on one of the [`MAX_IN_FLIGHT`] slots. Should the drain unwind (a store
/// that panics), the requests of its batch get an error, and the slot goes to a new drain
/// when others are still queued, so that no lookup waits for good.
struct Slot {
    lookups: Arc<SessionLookups>,
    held: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let restart = {
            let mut state = self.lookups.state();
            if state.queue.is_empty() {
                state.in_flight -= 1;
                false
            } else {
                true
            }
        };
        if restart {
            // No runtime means it is shutting down, and the waiting requests with it.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(Arc::clone(&self.lookups).drain());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use time::OffsetDateTime;
    use tokio::sync::Semaphore;
    use tokio::time::timeout;

    /// A source that knows the hashes starting with `known`, records every query, holds each
    /// one until the test hands out a permit, and fails or panics on request.
    struct Fake {
        queries: Mutex<Vec<Vec<String>>>,
        permits: Arc<Semaphore>,
        fail: AtomicUsize,
        panic: AtomicUsize,
    }

    struct Shared(Arc<Fake>);

    #[async_trait::async_trait]
    impl Source for Shared {
        async fn sessions(&self, token_hashes: &[String]) -> Result<Vec<Found>, StoreError> {
            let fake = &self.0;
            fake.queries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(token_hashes.to_vec());
            fake.permits
                .acquire()
                .await
                .expect("the test never closes the semaphore")
                .forget();
            if fake.panic.load(Ordering::SeqCst) > 0 {
                fake.panic.fetch_sub(1, Ordering::SeqCst);
                panic!("the store fell over");
            }
            if fake.fail.load(Ordering::SeqCst) > 0 {
                fake.fail.fetch_sub(1, Ordering::SeqCst);
                return Err(StoreError::Unavailable("connection refused".to_owned()));
            }
            Ok(token_hashes
                .iter()
                .filter(|hash| hash.starts_with("known"))
                .map(|hash| found(hash))
                .collect())
        }
    }

    fn found(hash: &str) -> Found {
        let at = OffsetDateTime::UNIX_EPOCH;
        let session = SessionRecord {
            id: format!("ses_{hash}"),
            environment_id: "env".to_owned(),
            user_id: format!("usr_{hash}"),
            token_hash: hash.to_owned(),
            created_at: at,
            expires_at: at,
            last_active_at: at,
            authenticated_at: at,
            user_agent: None,
            ip: None,
        };
        let user = UserRecord {
            id: format!("usr_{hash}"),
            environment_id: "env".to_owned(),
            email: format!("{hash}@example.com"),
            email_canonical: format!("{hash}@example.com"),
            name: None,
            email_verified: true,
            legal_version: None,
            created_at: at,
            updated_at: at,
        };
        (session, user, false)
    }

    fn setup(open: bool) -> (Arc<Fake>, Arc<SessionLookups>) {
        let fake = Arc::new(Fake {
            queries: Mutex::default(),
            permits: Arc::new(Semaphore::new(if open {
                Semaphore::MAX_PERMITS
            } else {
                0
            })),
            fail: AtomicUsize::new(0),
            panic: AtomicUsize::new(0),
        });
        let lookups = SessionLookups::new(Shared(Arc::clone(&fake)));
        (fake, lookups)
    }

    fn queries(fake: &Fake) -> Vec<Vec<String>> {
        fake.queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// One busy query per slot, each for one lookup (started one after the other: lookups
    /// that arrive together share a query).
    async fn fill_slots(
        fake: &Fake,
        lookups: &Arc<SessionLookups>,
    ) -> Vec<tokio::task::JoinHandle<Result<Option<Found>, SessionError>>> {
        let mut tasks = Vec::new();
        for i in 0..MAX_IN_FLIGHT {
            tasks.push(spawn_find(lookups, &format!("known-{i}")));
            until_queries(fake, i + 1).await;
        }
        tasks
    }

    async fn until_queries(fake: &Fake, count: usize) {
        timeout(Duration::from_secs(5), async {
            while queries(fake).len() < count {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the queries started");
    }

    fn spawn_find(
        lookups: &Arc<SessionLookups>,
        hash: &str,
    ) -> tokio::task::JoinHandle<Result<Option<Found>, SessionError>> {
        let lookups = Arc::clone(lookups);
        let hash = hash.to_owned();
        tokio::spawn(async move { lookups.find(hash).await })
    }

    async fn answer(
        task: tokio::task::JoinHandle<Result<Option<Found>, SessionError>>,
    ) -> Result<Option<Found>, SessionError> {
        timeout(Duration::from_secs(5), task)
            .await
            .expect("the lookup was answered")
            .expect("the lookup task did not panic")
    }

    #[tokio::test]
    async fn alone_a_lookup_runs_at_once_and_finds_its_own_session() {
        let (fake, lookups) = setup(true);
        let (session, user, _) = lookups.find("known-a".to_owned()).await.unwrap().unwrap();
        assert_eq!(session.token_hash, "known-a");
        assert_eq!(user.id, "usr_known-a");
        assert!(lookups.find("unknown".to_owned()).await.unwrap().is_none());
        assert_eq!(
            queries(&fake),
            vec![vec!["known-a".to_owned()], vec!["unknown".to_owned()]]
        );
    }

    #[tokio::test]
    async fn lookups_queued_behind_busy_queries_share_the_next_one() {
        let (fake, lookups) = setup(false);
        let first = fill_slots(&fake, &lookups).await;

        // Every slot is busy: these wait, and two of them carry the same token.
        let mut later: Vec<(String, _)> = (0..20)
            .map(|i| {
                let hash = if i % 5 == 4 {
                    format!("unknown-{i}")
                } else {
                    format!("known-late-{i}")
                };
                (hash.clone(), spawn_find(&lookups, &hash))
            })
            .collect();
        later.push((
            "known-late-0".to_owned(),
            spawn_find(&lookups, "known-late-0"),
        ));
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            queries(&fake).len(),
            MAX_IN_FLIGHT,
            "nothing more runs while the slots are busy"
        );

        fake.permits.add_permits(1000);
        for (i, task) in first.into_iter().enumerate() {
            let (session, _, _) = answer(task).await.unwrap().unwrap();
            assert_eq!(session.token_hash, format!("known-{i}"));
        }
        for (hash, task) in later {
            match answer(task).await.unwrap() {
                Some((session, user, _)) => {
                    assert_eq!(session.token_hash, hash);
                    assert_eq!(user.id, format!("usr_{hash}"));
                }
                None => assert!(hash.starts_with("unknown"), "{hash} was not found"),
            }
        }

        let queries = queries(&fake);
        assert_eq!(
            queries.len(),
            MAX_IN_FLIGHT + 1,
            "the 21 waiting lookups shared one query"
        );
        assert_eq!(
            queries[MAX_IN_FLIGHT].len(),
            20,
            "the repeated token is asked for once"
        );
        // No lookup was answered by a query that started before it arrived.
        for early in &queries[..MAX_IN_FLIGHT] {
            assert!(early.iter().all(|hash| !hash.contains("late")));
        }
    }

    #[tokio::test]
    async fn a_failed_query_fails_every_lookup_it_carried_and_the_next_ones_recover() {
        let (fake, lookups) = setup(false);
        fake.fail.store(1, Ordering::SeqCst);
        let mut tasks = fill_slots(&fake, &lookups).await;
        tasks.extend((0..3).map(|i| spawn_find(&lookups, &format!("known-late-{i}"))));
        fake.permits.add_permits(1000);
        let mut failed = 0;
        for task in tasks {
            match answer(task).await {
                Err(SessionError::Store(StoreError::Unavailable(message))) => {
                    assert_eq!(message, "connection refused");
                    failed += 1;
                }
                Ok(Some(_)) => {}
                other => panic!("unexpected answer {other:?}"),
            }
        }
        assert_eq!(
            failed, 1,
            "the first query's lookup got its error, and only it"
        );
        assert!(lookups.find("known-x".to_owned()).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_dropped_request_does_not_strand_the_lookups_its_query_carries() {
        let (fake, lookups) = setup(false);
        let mut slots = fill_slots(&fake, &lookups).await;
        let others: Vec<_> = (0..MAX_IN_FLIGHT * 2)
            .map(|i| spawn_find(&lookups, &format!("known-late-{i}")))
            .collect();
        // The client whose request started the first query goes away.
        slots.remove(0).abort();
        fake.permits.add_permits(1000);
        for (i, task) in others.into_iter().enumerate() {
            let (session, _, _) = answer(task).await.unwrap().unwrap();
            assert_eq!(session.token_hash, format!("known-late-{i}"));
        }
        for task in slots {
            assert!(answer(task).await.unwrap().is_some());
        }
    }

    #[tokio::test]
    async fn a_panicking_store_gives_its_slots_back() {
        let (fake, lookups) = setup(true);
        // More panics than slots: were a slot lost with each, the last lookup would wait for good.
        fake.panic.store(MAX_IN_FLIGHT + 1, Ordering::SeqCst);
        for i in 0..=MAX_IN_FLIGHT {
            let task = spawn_find(&lookups, &format!("known-{i}"));
            assert!(matches!(answer(task).await, Err(SessionError::Internal(_))));
        }
        let (session, _, _) = answer(spawn_find(&lookups, "known-after"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.token_hash, "known-after");
    }
}
