//! Headless flows: each sign-in or sign-up ceremony as typed state and actions, with no markup.
//! The built-in cards draw these same flows; an application draws its own forms over them
//! and still gets the requests, the one-at-a-time rule, the errors in the provider's
//! language, passkeys and the session hand-over right.

pub(crate) mod sign_in;
#[cfg(feature = "email-code")]
pub(crate) mod sign_up;

use crate::form::FormState;
use crate::i18n::{Texts, use_locale};
use crate::provider::{Auth, use_auth};
use leptos::prelude::*;

pub use sign_in::{SignInBusy, SignInFlow, SignInStep, use_sign_in};
#[cfg(feature = "email-code")]
pub use sign_up::{SignUpBusy, SignUpFlow, SignUpStep, use_sign_up};

/// What every flow has: its step, the request of kind `B` in flight, and the last
/// outcome in the provider's language. A [`SignInFlow`] or
/// [`SignUpFlow`] derefs to it, so `flow.error()` reads it.
pub struct FlowState<S: Send + Sync + 'static, B: Send + Sync + 'static> {
    pub(crate) auth: Auth,
    pub(crate) texts: Texts,
    pub(crate) form: FormState<B>,
    pub(crate) step: RwSignal<S>,
}

impl<S: Send + Sync + 'static, B: Send + Sync + 'static> Clone for FlowState<S, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: Send + Sync + 'static, B: Send + Sync + 'static> Copy for FlowState<S, B> {}

impl<S, B> FlowState<S, B>
where
    S: Clone + std::fmt::Debug + Send + Sync + 'static,
    B: Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static,
{
    pub(crate) fn new(first: S) -> Self {
        Self {
            auth: use_auth(),
            texts: use_locale(),
            form: FormState::new(),
            step: RwSignal::new(first),
        }
    }

    /// The current step (tracked).
    pub fn step(self) -> S {
        self.step.get()
    }

    /// The request in flight, if any (tracked).
    pub fn busy(self) -> Option<B> {
        self.form.busy.get()
    }

    /// Whether `what` is in flight (tracked).
    pub fn is_busy(self, what: B) -> bool {
        self.form.is_busy(what)
    }

    /// The last request's error for the whole form, in the provider's language
    /// (tracked).
    pub fn error(self) -> Option<String> {
        self.form.error_text(self.texts)
    }

    /// The last request's error for the field `name` (`email`, `password`, `name`,
    /// `code`, `legalAccepted`), in the provider's language (tracked).
    pub fn field_error(self, name: &str) -> Option<String> {
        self.form.field_error_text(self.texts, name)
    }

    /// A success worth announcing ("We sent a new code to …"), in the provider's
    /// language.
    pub fn notice(self) -> Option<String> {
        self.form.notice_text(self.texts)
    }

    /// For a flow's `Debug`: its step and what is in flight.
    pub(crate) fn debug(self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("step", &self.step.get_untracked())
            .field("busy", &self.form.busy.get_untracked())
            .finish_non_exhaustive()
    }
}

impl<S, B> std::fmt::Debug for FlowState<S, B>
where
    S: Clone + std::fmt::Debug + Send + Sync + 'static,
    B: Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.debug("FlowState", f)
    }
}
