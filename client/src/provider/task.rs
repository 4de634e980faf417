//! [`AuthTask`]: an auth operation under way.

use crate::api::ApiError;
use futures_channel::oneshot;
use leptos::task::spawn_local;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An auth operation already under way. Awaiting it yields its outcome; dropping it does
/// not cancel the request.
pub struct AuthTask(oneshot::Receiver<Result<(), ApiError>>);

impl fmt::Debug for AuthTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthTask")
    }
}

/// Runs the provider's own background work (first loads, reads on refocus and for other
/// tabs, a JWT refresh) on the browser's task queue. These are not a form's submits: they
/// belong to the provider, outlive any component that caused them, and are ordered by
/// [`AnswerOrder`](super::order::AnswerOrder) rather than by a form's busy state. The one
/// place the provider detaches a task.
pub(super) fn detach(work: impl Future<Output = ()> + 'static) {
    spawn_local(work);
}

impl AuthTask {
    pub(super) fn spawn(work: impl Future<Output = Result<(), ApiError>> + 'static) -> Self {
        let (sender, receiver) = oneshot::channel();
        detach(async move {
            // The receiver may have been dropped: nobody wants the outcome, which is fine.
            let _ = sender.send(work.await);
        });
        Self(receiver)
    }
}

impl Future for AuthTask {
    type Output = Result<(), ApiError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|outcome| outcome.unwrap_or(Err(ApiError::Network)))
    }
}
