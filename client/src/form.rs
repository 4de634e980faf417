//! The one form machinery under every card and headless flow: what is in flight, what went
//! wrong (one line for the form, one per field) and what went right, and how a request runs.
//!
//! A [`FormState`] is `Copy` (arena handles only), so a flow's methods take `self` and its
//! views read the same state. [`FormState::run`] is the only place a form starts a request: one
//! at a time, the previous outcome cleared, dispatched through the form's Leptos [`Action`],
//! the busy mark lifted before the outcome is handled.

use crate::api::ApiError;
use crate::i18n::{Message, Texts, use_locale};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// What a failed request shows: one message for the alert line, and one per field (the
/// server's, shown through the locale: see [`Locale::field_error`](crate::Locale)).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FormErrors {
    pub(crate) message: Option<Message>,
    pub(crate) fields: BTreeMap<String, String>,
}

impl FormErrors {
    pub(crate) fn from_api(err: &ApiError) -> Self {
        let fields = match err {
            ApiError::Server { detail, .. } => detail.fields.clone().unwrap_or_default(),
            ApiError::Network => BTreeMap::new(),
        };
        Self {
            message: Some(Message::Api(err.clone())),
            fields,
        }
    }

    /// Only an alert line.
    #[cfg(any(feature = "oauth", feature = "passkeys"))]
    pub(crate) fn message(message: Message) -> Self {
        Self {
            message: Some(message),
            fields: BTreeMap::new(),
        }
    }

    pub(crate) fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }
}

impl From<ApiError> for FormErrors {
    fn from(err: ApiError) -> Self {
        Self::from_api(&err)
    }
}

/// The error of one field of `errors`, as a signal, in the provider's language.
pub(crate) fn field_error(
    errors: RwSignal<FormErrors>,
    name: &'static str,
) -> Signal<Option<String>> {
    let texts = use_locale();
    Signal::derive(move || {
        errors
            .with(|e| e.field(name))
            .map(|message| texts.with(|l| l.field_error(name, &message)))
    })
}

/// A typed code as the server reads it: spaces and dashes (`123 456`, `123-456`) dropped.
pub(crate) fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// One submit of a form: the request and what follows it, handed to the form's action once.
struct Submit(RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>);

/// A form's state: which request of kind `B` is in flight (one at a time), the errors of
/// the last one, and a success line worth announcing.
pub(crate) struct FormState<B: Send + Sync + 'static> {
    pub(crate) busy: RwSignal<Option<B>>,
    pub(crate) errors: RwSignal<FormErrors>,
    pub(crate) notice: RwSignal<Option<Message>>,
    /// Runs the submits (in the browser's task queue, on this thread).
    submits: Action<Submit, ()>,
}

impl<B: Send + Sync + 'static> Clone for FormState<B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Send + Sync + 'static> Copy for FormState<B> {}

impl<B: Clone + PartialEq + Send + Sync + 'static> FormState<B> {
    pub(crate) fn new() -> Self {
        Self {
            busy: RwSignal::new(None),
            errors: RwSignal::new(FormErrors::default()),
            notice: RwSignal::new(None),
            submits: Action::new_local(|submit: &Submit| {
                let work = submit.0.borrow_mut().take();
                async move {
                    if let Some(work) = work {
                        work.await;
                    }
                }
            }),
        }
    }

    /// Marks `what` as in flight and clears the previous outcome; false (and nothing
    /// changes) while another request runs.
    pub(crate) fn start(self, what: B) -> bool {
        if self.busy.get_untracked().is_some() {
            return false;
        }
        self.busy.set(Some(what));
        self.clear();
        true
    }

    /// Whether `what` is in flight (tracked).
    pub(crate) fn is_busy(self, what: B) -> bool {
        self.busy.with(|busy| busy.as_ref() == Some(&what))
    }

    /// Whether any request is in flight (tracked).
    pub(crate) fn is_any_busy(self) -> bool {
        self.busy.with(Option::is_some)
    }

    /// The last request's error for the whole form, in `texts`' language (tracked).
    pub(crate) fn error_text(self, texts: Texts) -> Option<String> {
        let message = self.errors.with(|e| e.message.clone())?;
        Some(texts.with(|l| message.render(l)))
    }

    /// The last request's error for the field `name`, in `texts`' language (tracked).
    pub(crate) fn field_error_text(self, texts: Texts, name: &str) -> Option<String> {
        let message = self.errors.with(|e| e.field(name))?;
        Some(texts.with(|l| l.field_error(name, &message)))
    }

    /// The success line, in `texts`' language (tracked).
    pub(crate) fn notice_text(self, texts: Texts) -> Option<String> {
        let message = self.notice.get()?;
        Some(texts.with(|l| message.render(l)))
    }

    /// Forgets the last outcome (moving to another step).
    pub(crate) fn clear(self) {
        self.errors.set(FormErrors::default());
        self.notice.set(None);
    }

    /// Shows `errors` (nothing, once the form is gone).
    pub(crate) fn fail(self, errors: impl Into<FormErrors>) {
        self.errors.try_set(errors.into());
    }

    /// Runs `request` as `what`, unless another request is in flight: when it ends the busy
    /// mark goes, then a success goes to `done` and a failure to the form's errors.
    pub(crate) fn run<T, E>(
        self,
        what: B,
        request: impl Future<Output = Result<T, E>> + 'static,
        done: impl FnOnce(T) + 'static,
    ) where
        T: 'static,
        E: Into<FormErrors> + 'static,
    {
        self.run_or(what, request, done, Some);
    }

    /// [`run`](Self::run), with `refused` seeing a failure first: it may take it (a
    /// re-authentication prompt that retries the request once answered) by returning `None`,
    /// or hand it back to be shown.
    pub(crate) fn run_or<T, E>(
        self,
        what: B,
        request: impl Future<Output = Result<T, E>> + 'static,
        done: impl FnOnce(T) + 'static,
        refused: impl FnOnce(E) -> Option<E> + 'static,
    ) where
        T: 'static,
        E: Into<FormErrors> + 'static,
    {
        if !self.start(what) {
            return;
        }
        let work = async move {
            let outcome = request.await;
            // The form may be gone by now (a sign-out that took its card away).
            self.busy.try_set(None);
            match outcome {
                Ok(value) => done(value),
                Err(err) => {
                    if let Some(err) = refused(err) {
                        self.fail(err);
                    }
                }
            }
        };
        self.submits
            .dispatch_local(Submit(RefCell::new(Some(Box::pin(work)))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Locale;

    #[test]
    fn form_errors_keep_the_message_and_fields() {
        let err = ApiError::from_status_and_body(
            422,
            r#"{"error":{"code":"validation_failed","message":"Check the fields.",
                "fields":{"password":"Use at least 8 characters."}}}"#,
        );
        let errors = FormErrors::from_api(&err);
        let message = errors.message.as_ref().map(|m| m.render(&Locale::en()));
        assert_eq!(message.as_deref(), Some("Check the fields."));
        assert_eq!(
            errors.field("password").as_deref(),
            Some("Use at least 8 characters.")
        );
        assert_eq!(FormErrors::from_api(&ApiError::Network).fields.len(), 0);
    }

    #[test]
    fn codes_lose_their_spaces_and_dashes() {
        assert_eq!(normalise_code(" 123 456 "), "123456");
        assert_eq!(normalise_code("123-456"), "123456");
        assert_eq!(normalise_code("abcd-efgh"), "abcdefgh");
    }

    #[test]
    fn one_request_at_a_time_and_each_start_clears_the_last_outcome() {
        Owner::new().with(|| {
            let form = FormState::<u8>::new();
            form.fail(ApiError::Network);
            form.notice.set(Some(Message::Text(|l| &l.common.or)));
            assert!(form.start(1));
            assert_eq!(form.errors.get_untracked(), FormErrors::default());
            assert_eq!(form.notice.get_untracked(), None);
            assert!(form.is_busy(1) && form.is_any_busy());
            form.fail(ApiError::Network);
            assert!(!form.start(2), "a second request waits for the first");
            assert!(form.errors.get_untracked().message.is_some());
            form.busy.set(None);
            assert!(form.start(2));
            assert!(!form.is_busy(1));
        });
    }
}
