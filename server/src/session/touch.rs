//! "Last active", written off the request path: a request that finds its session due to be
//! marked (see [`super::TOUCH_INTERVAL`]) starts the write in a task of its own and is answered
//! at once. At most [`MAX_TOUCHES_IN_FLIGHT`] such writes run at a time, so that a burst of
//! sessions all due at once (a node restarted under load) never takes the pool from lookups:
//! a session whose write finds no room is simply marked by a later request.

use super::TOUCH_INTERVAL;
use crate::store::{SessionRecord, Store};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// "Last active" writes running at once.
pub(crate) const MAX_TOUCHES_IN_FLIGHT: usize = 2;

/// Starts "last active" writes without waiting for them.
pub(crate) struct Toucher {
    store: Arc<dyn Store>,
    room: Arc<Semaphore>,
}

impl std::fmt::Debug for Toucher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toucher")
            .field("room", &self.room.available_permits())
            .finish_non_exhaustive()
    }
}

impl Toucher {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            room: Arc::new(Semaphore::new(MAX_TOUCHES_IN_FLIGHT)),
        }
    }

    /// Starts marking a session active at `now` when it is due (last marked at least
    /// [`TOUCH_INTERVAL`] ago). True when the write was started; false when it was not due or
    /// not started (no room, or no runtime to run it), so that the caller does not record it.
    pub(crate) fn touch_if_due(&self, session: &SessionRecord, now: OffsetDateTime) -> bool {
        let stale_before = now - TOUCH_INTERVAL;
        if session.last_active_at > stale_before {
            return false;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let Ok(permit) = Arc::clone(&self.room).try_acquire_owned() else {
            return false;
        };
        let store = Arc::clone(&self.store);
        let session_id = session.id.clone();
        runtime.spawn(async move {
            let _permit = permit;
            if let Err(err) = store.touch_session(&session_id, now, stale_before).await {
                // The next request of the session tries again; until then the idle timeout
                // counts from the last write, which only ever ends a session early.
                tracing::warn!(error = %err, "could not mark a session active");
            }
        });
        true
    }
}
