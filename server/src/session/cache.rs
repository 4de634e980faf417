//! The per-node cache of database-session lookups: a bounded map from a token's hash to the
//! session, its user and its gates, evicted by the clock algorithm (a second chance for entries
//! read since the hand last passed).
//!
//! An entry may be answered only while the cache is *fresh*: while the revocation log was read
//! successfully, by a read that started no longer than the bound ago (see
//! [`super::follow`]). So a change committed on any node at time `t` stops being answered from
//! here by `t + bound`, even if every read after `t` fails. A cache that was stale forgets
//! everything when it becomes fresh again, because what it missed meanwhile may have been
//! pruned from the log.
//!
//! Lookups that miss go to the store and put their answer here, unless something was
//! invalidated since they started ([`SessionCache::ticket`]): the answer may predate that
//! change, and putting it after the change was applied would bring it back.

use super::sign_in::AuthenticatedSession;
use crate::metrics::CacheCounters;
use crate::store::{RevocationObserver, RevocationScope, SessionRecord, UserRecord};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use torii_shared::SessionInfo;

/// What a cached lookup answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cached {
    pub(crate) session: SessionRecord,
    pub(crate) user: UserRecord,
    pub(crate) info: SessionInfo,
}

impl Cached {
    pub(crate) fn from_authenticated(found: &AuthenticatedSession) -> Self {
        Self {
            session: found.session.clone(),
            user: found.user.clone(),
            info: found.info.clone(),
        }
    }
}

/// Proof that a lookup started at a given point of the cache's history; see
/// [`SessionCache::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

/// The bounded session cache of one node.
pub(crate) struct SessionCache {
    capacity: usize,
    bound: Duration,
    state: Mutex<State>,
    counters: CacheCounters,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("capacity", &self.capacity)
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

struct Slot {
    key: String,
    value: Cached,
    /// Read since the clock hand last passed: spared once.
    referenced: bool,
}

#[derive(Default)]
struct State {
    slots: Vec<Option<Slot>>,
    index: HashMap<String, usize>,
    free: Vec<usize>,
    hand: usize,
    /// Counts invalidations; a lookup's answer is kept only if none happened since it began.
    epoch: u64,
    /// Answers may come from here until then.
    fresh_until: Option<Instant>,
    /// Whether the cache went stale after having been fresh (then it forgets all on recovery).
    was_fresh: bool,
}

impl SessionCache {
    /// A cache of at most `capacity` sessions (0: nothing is cached), trusted for `bound` after
    /// each successful read of the revocation log.
    pub(crate) fn new(capacity: usize, bound: Duration, counters: CacheCounters) -> Self {
        Self {
            capacity,
            bound,
            state: Mutex::new(State::default()),
            counters,
        }
    }

    /// A change's log entry was read `lag` after it was appended (the appending node's clock
    /// against this one's): counted in the revocation-lag histogram.
    pub(crate) fn saw_revocation(&self, lag: Duration) {
        self.counters.lag.observe(lag.as_secs_f64());
    }

    /// Sessions held at most.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The bound a change takes to reach this cache.
    pub(crate) fn bound(&self) -> Duration {
        self.bound
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached lookup of a token hash, when the cache is fresh.
    pub(crate) fn get(&self, token_hash: &str, now: Instant) -> Option<Cached> {
        if self.capacity == 0 {
            return None;
        }
        let mut state = self.state();
        if !state.fresh(now) {
            self.counters.stale.inc();
            return None;
        }
        let found = state
            .index
            .get(token_hash)
            .copied()
            .and_then(|at| state.slots[at].as_mut());
        let Some(slot) = found else {
            self.counters.misses.inc();
            return None;
        };
        slot.referenced = true;
        self.counters.hits.inc();
        Some(slot.value.clone())
    }

    /// Taken before a lookup goes to the store; `None` while the cache is not fresh (the answer
    /// will not be kept).
    pub(crate) fn ticket(&self, now: Instant) -> Option<Ticket> {
        let state = self.state();
        (self.capacity > 0 && state.fresh(now)).then_some(Ticket(state.epoch))
    }

    /// Keeps a lookup's answer, unless something was invalidated since its ticket was taken or
    /// the cache is not fresh; evicts an entry when full.
    pub(crate) fn insert(&self, ticket: Ticket, token_hash: &str, value: Cached, now: Instant) {
        let mut state = self.state();
        if ticket.0 != state.epoch || !state.fresh(now) {
            return;
        }
        if let Some(&at) = state.index.get(token_hash)
            && let Some(slot) = state.slots[at].as_mut()
        {
            slot.value = value;
            return;
        }
        let slot = Slot {
            key: token_hash.to_owned(),
            value,
            referenced: false,
        };
        let at = if let Some(at) = state.free.pop() {
            at
        } else if state.slots.len() < self.capacity {
            state.slots.push(None);
            state.slots.len() - 1
        } else {
            state.evict()
        };
        state.slots[at] = Some(slot);
        state.index.insert(token_hash.to_owned(), at);
    }

    /// Records that the session a token names was marked active at `at` (so that it is not
    /// marked again within the interval).
    pub(crate) fn touched(&self, token_hash: &str, at: time::OffsetDateTime) {
        let mut state = self.state();
        if let Some(&slot) = state.index.get(token_hash)
            && let Some(slot) = state.slots[slot].as_mut()
        {
            slot.value.session.last_active_at = at;
        }
    }

    /// Forgets one token's entry.
    pub(crate) fn remove(&self, token_hash: &str) {
        let mut state = self.state();
        state.epoch += 1;
        if let Some(at) = state.index.remove(token_hash) {
            state.slots[at] = None;
            state.free.push(at);
        }
    }

    /// Forgets every entry about these sessions and users.
    pub(crate) fn invalidate(&self, scopes: &[RevocationScope]) {
        let mut sessions = HashSet::new();
        let mut users = HashSet::new();
        for scope in scopes {
            match scope {
                RevocationScope::Session(id) => sessions.insert(id.as_str()),
                RevocationScope::User(id) => users.insert(id.as_str()),
            };
        }
        let mut state = self.state();
        state.epoch += 1;
        let state = &mut *state;
        for (at, entry) in state.slots.iter_mut().enumerate() {
            let hit = entry.as_ref().is_some_and(|slot| {
                sessions.contains(slot.value.session.id.as_str())
                    || users.contains(slot.value.user.id.as_str())
            });
            if hit && let Some(slot) = entry.take() {
                state.index.remove(&slot.key);
                state.free.push(at);
            }
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        self.state().clear();
    }

    /// A read of the log that started at `started` succeeded: answers may come from here until
    /// `started + bound`. A cache that had gone stale forgets everything first.
    pub(crate) fn fresh_since(&self, started: Instant) {
        let mut state = self.state();
        if state.was_fresh && !state.fresh(started) {
            state.clear();
        }
        let until = started + self.bound;
        state.fresh_until = Some(state.fresh_until.map_or(until, |old| old.max(until)));
        state.was_fresh = true;
    }

    /// Whether answers may come from here now.
    #[cfg(test)]
    fn is_fresh(&self, now: Instant) -> bool {
        self.state().fresh(now)
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.state().index.len()
    }
}

impl State {
    fn fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_some_and(|until| now < until)
    }

    fn clear(&mut self) {
        self.epoch += 1;
        self.slots.clear();
        self.index.clear();
        self.free.clear();
        self.hand = 0;
    }

    /// Frees the first slot from the hand on that was not read since the hand last passed,
    /// sparing (and unmarking) those that were; the cache is full, so every slot is taken.
    fn evict(&mut self) -> usize {
        loop {
            let at = self.hand % self.slots.len();
            self.hand = at + 1;
            match self.slots[at].as_mut() {
                Some(slot) if slot.referenced => slot.referenced = false,
                Some(_) => {
                    if let Some(slot) = self.slots[at].take() {
                        self.index.remove(&slot.key);
                    }
                    return at;
                }
                None => return at,
            }
        }
    }
}

impl RevocationObserver for SessionCache {
    fn revoked(&self, scopes: &[RevocationScope]) {
        self.invalidate(scopes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn cached(session: &str, user: &str) -> Cached {
        let at = OffsetDateTime::UNIX_EPOCH;
        Cached {
            session: SessionRecord {
                id: session.to_owned(),
                environment_id: "env".to_owned(),
                user_id: user.to_owned(),
                token_hash: format!("hash-{session}"),
                created_at: at,
                expires_at: at,
                last_active_at: at,
                authenticated_at: at,
                user_agent: None,
                ip: None,
            },
            user: UserRecord {
                id: user.to_owned(),
                environment_id: "env".to_owned(),
                email: format!("{user}@example.com"),
                email_canonical: format!("{user}@example.com"),
                name: None,
                email_verified: true,
                legal_version: None,
                created_at: at,
                updated_at: at,
            },
            info: SessionInfo::from_gates(Vec::new()),
        }
    }

    fn fresh_cache(capacity: usize) -> (SessionCache, Instant) {
        let cache = SessionCache::new(capacity, Duration::from_secs(1), CacheCounters::default());
        let now = Instant::now();
        cache.fresh_since(now);
        (cache, now)
    }

    fn put(cache: &SessionCache, key: &str, session: &str, user: &str, now: Instant) {
        let ticket = cache.ticket(now).expect("fresh");
        cache.insert(ticket, key, cached(session, user), now);
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let (cache, now) = fresh_cache(8);
        for i in 0..100 {
            put(&cache, &format!("t{i}"), &format!("s{i}"), "u", now);
            assert!(cache.len() <= 8);
        }
        assert_eq!(cache.len(), 8);
        // The newest entry is there; the first ones were evicted.
        assert!(cache.get("t99", now).is_some());
        assert!(cache.get("t0", now).is_none());
    }

    #[test]
    fn entries_read_since_the_hand_passed_are_spared() {
        let (cache, now) = fresh_cache(4);
        for i in 0..4 {
            put(&cache, &format!("t{i}"), &format!("s{i}"), "u", now);
        }
        // t0 and t2 are read; the next two insertions evict t1 and t3, not them.
        assert!(cache.get("t0", now).is_some());
        assert!(cache.get("t2", now).is_some());
        put(&cache, "t4", "s4", "u", now);
        put(&cache, "t5", "s5", "u", now);
        for kept in ["t0", "t2", "t4", "t5"] {
            assert!(cache.get(kept, now).is_some(), "{kept} was kept");
        }
        for evicted in ["t1", "t3"] {
            assert!(cache.get(evicted, now).is_none(), "{evicted} was evicted");
        }
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let (cache, now) = fresh_cache(0);
        assert!(cache.ticket(now).is_none());
        assert!(cache.get("t", now).is_none());
    }

    #[test]
    fn invalidation_by_session_and_by_user() {
        let (cache, now) = fresh_cache(16);
        put(&cache, "a1", "sa1", "ua", now);
        put(&cache, "a2", "sa2", "ua", now);
        put(&cache, "b1", "sb1", "ub", now);
        put(&cache, "c1", "sc1", "uc", now);
        cache.invalidate(&[
            RevocationScope::User("ua".to_owned()),
            RevocationScope::Session("sb1".to_owned()),
        ]);
        assert!(cache.get("a1", now).is_none());
        assert!(cache.get("a2", now).is_none());
        assert!(cache.get("b1", now).is_none());
        assert!(cache.get("c1", now).is_some());
        // Freed slots are reused, still within the capacity.
        for i in 0..20 {
            put(&cache, &format!("n{i}"), &format!("sn{i}"), "un", now);
        }
        assert_eq!(cache.len(), 16);
    }

    #[test]
    fn an_answer_older_than_an_invalidation_is_not_kept() {
        let (cache, now) = fresh_cache(16);
        let ticket = cache.ticket(now).unwrap();
        // The lookup read the store; meanwhile the session was revoked and the log applied.
        cache.invalidate(&[RevocationScope::Session("s".to_owned())]);
        cache.insert(ticket, "t", cached("s", "u"), now);
        assert!(cache.get("t", now).is_none());
        // A lookup that starts after the change is kept.
        put(&cache, "t", "s", "u", now);
        assert!(cache.get("t", now).is_some());
    }

    #[test]
    fn nothing_is_answered_or_kept_once_the_log_was_not_read_within_the_bound() {
        let (cache, start) = fresh_cache(16);
        put(&cache, "t", "s", "u", start);
        let later = start + Duration::from_millis(1500);
        assert!(cache.get("t", start).is_some());
        assert!(!cache.is_fresh(later));
        assert!(cache.get("t", later).is_none());
        assert!(cache.ticket(later).is_none());
        // Back to fresh after a gap: what was held is forgotten (it may have missed entries).
        cache.fresh_since(later);
        assert!(cache.is_fresh(later));
        assert!(cache.get("t", later).is_none());
    }

    #[test]
    fn a_cache_never_read_fresh_answers_nothing() {
        let cache = SessionCache::new(16, Duration::from_secs(1), CacheCounters::default());
        let now = Instant::now();
        assert!(cache.ticket(now).is_none());
        assert!(cache.get("t", now).is_none());
    }

    #[test]
    fn observed_writes_invalidate_at_once() {
        let (cache, now) = fresh_cache(4);
        put(&cache, "t", "s", "u", now);
        RevocationObserver::revoked(&cache, &[RevocationScope::User("u".to_owned())]);
        assert!(cache.get("t", now).is_none());
    }
}
