//! Forms whose changes need a recent sign-in: a [`FormState`] with its re-authentication
//! prompt ([`Reauth`]), and requests kept where the prompt can run them again.
//!
//! Every change of the profile goes through [`GuardedForm::run`]: one change at a time, none
//! while the prompt is open; a refusal for want of a recent sign-in (or of a second factor)
//! opens the prompt, which makes the same request again once answered.

use super::passkey_ceremony::PasskeyError;
use super::reauthenticate::Reauth;
use super::{FormAlert, FormNotice};
use crate::api::ApiError;
use crate::form::{FormErrors, FormState};
use leptos::prelude::*;
use std::future::Future;
use std::sync::Arc;

type Request<T> = Arc<dyn Fn(T) + Send + Sync>;

/// A request with its argument, kept where a prompt (or a second press) can make it again.
pub(crate) struct Retry<T: 'static>(StoredValue<Option<Request<T>>>);

impl<T: 'static> Clone for Retry<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Retry<T> {}

impl<T: 'static> Retry<T> {
    /// Keeps `request`; it may name the returned handle to run itself again.
    pub(crate) fn new(request: impl Fn(T, Self) + Send + Sync + 'static) -> Self {
        let slot: StoredValue<Option<Request<T>>> = StoredValue::new(None);
        let this = Self(slot);
        slot.set_value(Some(Arc::new(move |value| request(value, this))));
        this
    }

    /// Makes the request with `value`.
    pub(crate) fn call(self, value: T) {
        if let Some(request) = self.0.get_value() {
            request(value);
        }
    }
}

/// A failed change: shown on the form, unless the server asked for a recent sign-in.
pub(crate) trait Refusal: Into<FormErrors> + 'static {
    /// The server's refusal for want of a recent sign-in (or second factor), if it is one.
    fn reauthentication(&self) -> Option<&ApiError>;
}

impl Refusal for ApiError {
    fn reauthentication(&self) -> Option<&ApiError> {
        self.needs_reauthentication().then_some(self)
    }
}

impl Refusal for PasskeyError {
    fn reauthentication(&self) -> Option<&ApiError> {
        match self {
            Self::Api(err) => err.reauthentication(),
            Self::Browser(_) => None,
        }
    }
}

/// A form state and the re-authentication prompt of the same form. Cheap to copy.
pub(crate) struct GuardedForm<B: Send + Sync + 'static> {
    pub(crate) form: FormState<B>,
    pub(crate) reauth: Reauth,
}

impl<B: Send + Sync + 'static> Clone for GuardedForm<B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Send + Sync + 'static> Copy for GuardedForm<B> {}

impl<B: Clone + PartialEq + Send + Sync + 'static> GuardedForm<B> {
    pub(crate) fn new() -> Self {
        Self {
            form: FormState::new(),
            reauth: Reauth::new(),
        }
    }

    /// The form's outcome lines (its alert, its notice) and, when open, its prompt.
    pub(crate) fn outcome(self) -> impl IntoView {
        view! {
            <FormAlert errors=self.form.errors />
            <FormNotice notice=self.form.notice />
            {self.reauth.view()}
        }
    }

    /// Whether the form's controls are to be disabled: a change in flight or the prompt open
    /// (tracked).
    pub(crate) fn is_locked(self) -> bool {
        self.form.is_any_busy() || self.reauth.is_open()
    }

    /// Whether a change may start now (none in flight, no prompt open). When it may, the
    /// focused control is noted for the prompt to give the focus back to.
    pub(crate) fn may_begin(self) -> bool {
        if self.form.busy.get_untracked().is_some() || self.reauth.is_open_untracked() {
            return false;
        }
        self.reauth.note_focus();
        true
    }

    /// Runs `request` as `what` when [`may_begin`](Self::may_begin): a success goes to
    /// `done`; a refusal for want of a recent sign-in opens the prompt, which calls `again`
    /// once answered; any other refusal is shown.
    pub(crate) fn run<T: 'static, E: Refusal>(
        self,
        what: B,
        request: impl Future<Output = Result<T, E>> + 'static,
        done: impl FnOnce(T) + 'static,
        again: impl Fn() + Send + Sync + 'static,
    ) {
        if !self.may_begin() {
            return;
        }
        let reauth = self.reauth;
        self.form.run_or(what, request, done, move |err: E| {
            if let Some(refusal) = err.reauthentication() {
                reauth.after(refusal).ask(again);
                None
            } else {
                Some(err)
            }
        });
    }
}
