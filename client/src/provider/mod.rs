//! The auth state: [`ToriiProvider`] fetches the environment and `/me`, keeps them current and
//! provides them as context; [`use_auth`] reads them.
//!
//! Two reads keep the state current. `GET /me` answers what the session token says: for a
//! database session that is the store's current state, but a JWT session carries the state
//! it had when it was issued. `POST /v1/session/refresh` asks the server for the current
//! state and, for a JWT session, re-issues the token with it. So [`Auth::refresh_session`]
//! always refreshes, and the refetch on focus or visibility refreshes a JWT session and reads
//! `/me` otherwise (a database session needs nothing more, and a signed-out page has nothing
//! to refresh). A refresh answered 401 means there is no valid session: signed out.
//!
//! The state starts *not loaded* (no `/me` answer yet) and becomes *loaded* with the first
//! answer (a failed first request counts as signed out, so the page never spins forever);
//! from then on every answer replaces it. Answers race: a `/me` refetch started on tab focus
//! may finish after a sign-in that finished later than it started: [`order`] decides which
//! answer may replace the state.
//!
//! A JWT session's `token` is short-lived: [`refresh`] asks for a new one before it expires,
//! and stops at once when an answer leaves the state without one (signed out here or in
//! another tab, a refresh refused).
//!
//! Tabs of one origin agree: after a sign-in, sign-up, sign-out or account change made in this
//! tab, the provider posts `changed` on a `BroadcastChannel` named after the publishable key
//! (or, where there is none, writes a `localStorage` key whose `storage` event the other tabs
//! see), and a provider receiving it reads `/me` at once. A session revoked from elsewhere (a
//! sessions list, another device) is seen on the next focus or visibility change.

use crate::api::{ApiClient, ApiError};
use crate::appearance::{Appearance, AppearanceStyle, Looks};
use crate::i18n::{Locale, Texts};
use futures_channel::oneshot;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::collections::BTreeMap;
use std::fmt;
use torii_shared::{EnvironmentInfo, ErrorCode, GateKey, Me, Session, SessionKind, User};

mod browser;
mod component;
mod gate_urls;
mod order;
mod refresh;
mod task;

use browser::{TabSync, connect_to_browser};
pub use component::ToriiProvider;
pub use gate_urls::GateUrls;
use order::AnswerOrder;
pub use task::AuthTask;
use task::detach;

/// The auth state and its operations, as provided by [`ToriiProvider`]. Cheap to copy:
/// every field is a handle into the reactive arena.
#[derive(Clone, Copy)]
pub struct Auth {
    /// False until the first `/me` answer.
    pub is_loaded: Signal<bool>,
    /// True when signed in on an **active** session: what protected UI branches on. A session
    /// pending on a gate (a second factor, the Terms) is not signed in for rendering.
    pub is_signed_in: Signal<bool>,
    /// True when signed in on a session that is pending on a gate.
    pub is_pending: Signal<bool>,
    /// True when there is a user and a session, whatever the session's status (active or
    /// pending): e.g. to offer "sign out" to a user stopped at a gate.
    pub has_session: Signal<bool>,
    /// The signed-in user.
    pub user: Signal<Option<User>>,
    /// The current session, with its status and gates.
    pub session: Signal<Option<Session>>,
    /// The environment's settings (methods, Terms/Privacy); `None` until fetched.
    pub environment: Signal<Option<EnvironmentInfo>>,
    /// For a JWT session, the current short-lived JWT, to call the application's own backend
    /// with `Authorization: Bearer …` (it verifies it offline with the server's JWKS). The
    /// provider refreshes it before it expires, so read it when making each call. `None` for
    /// database sessions, whose token never leaves the HttpOnly cookie, and when signed out.
    pub token: Signal<Option<String>>,
    /// The current session's id (`ses_…`), as the sessions list shows it; `None` when
    /// signed out.
    pub session_id: Signal<Option<String>>,
    is_active: Signal<bool>,
    me: RwSignal<Option<Me>>,
    environment_store: RwSignal<Option<EnvironmentInfo>>,
    api: StoredValue<ApiClient>,
    order: StoredValue<AnswerOrder>,
    gate_urls: StoredValue<GateUrls>,
    navigate: Option<Callback<String>>,
    load_waiters: StoredValue<Vec<oneshot::Sender<()>>>,
    tabs: StoredValue<Option<SendWrapper<TabSync>>>,
    ids: StoredValue<BTreeMap<String, u32>>,
    /// Destinations and the sign-in under way (see [`crate::completion`]).
    pub(crate) flow: StoredValue<crate::completion::Flow>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("is_loaded", &self.is_loaded)
            .field("is_signed_in", &self.is_signed_in)
            .field("is_pending", &self.is_pending)
            .field("has_session", &self.has_session)
            .finish_non_exhaustive()
    }
}

impl Auth {
    fn new(api: ApiClient, gate_urls: GateUrls, navigate: Option<Callback<String>>) -> Self {
        let me = RwSignal::new(None::<Me>);
        let environment_store = RwSignal::new(None::<EnvironmentInfo>);
        let is_loaded = Memo::new(move |_| me.with(Option::is_some));
        let user = Memo::new(move |_| me.with(|me| me.as_ref().and_then(|me| me.user.clone())));
        let session =
            Memo::new(move |_| me.with(|me| me.as_ref().and_then(|me| me.session.clone())));
        let has_session =
            Memo::new(move |_| user.with(Option::is_some) && session.with(Option::is_some));
        let is_active = Memo::new(move |_| {
            has_session.get() && session.with(|s| s.as_ref().is_some_and(|s| s.info.is_active()))
        });
        let is_pending = Memo::new(move |_| has_session.get() && !is_active.get());
        let session_id = Memo::new(move |_| {
            me.with(|me| {
                me.as_ref()
                    .filter(|me| me.user.is_some())
                    .and_then(|me| me.session.as_ref())
                    .map(|session| session.id.clone())
            })
        });
        let token = Memo::new(move |_| {
            me.with(|me| {
                me.as_ref()
                    .filter(|me| me.user.is_some() && me.session.is_some())
                    .and_then(|me| me.token.clone())
            })
        });
        Self {
            is_loaded: is_loaded.into(),
            is_signed_in: is_active.into(),
            is_pending: is_pending.into(),
            has_session: has_session.into(),
            user: user.into(),
            session: session.into(),
            environment: environment_store.into(),
            token: token.into(),
            session_id: session_id.into(),
            is_active: is_active.into(),
            me,
            environment_store,
            api: StoredValue::new(api),
            order: StoredValue::new(AnswerOrder::default()),
            gate_urls: StoredValue::new(gate_urls),
            navigate,
            load_waiters: StoredValue::new(Vec::new()),
            tabs: StoredValue::new(None),
            ids: StoredValue::new(BTreeMap::new()),
            flow: StoredValue::new(crate::completion::Flow::default()),
        }
    }

    /// Resolves once the first `/me` answer is in (at once when it already is), e.g. to
    /// decide where to send a visitor only when it is known whether they are signed in.
    pub async fn loaded(&self) {
        if self.me.try_with_untracked(Option::is_some).unwrap_or(true) {
            return;
        }
        let (sender, receiver) = oneshot::channel();
        if self
            .load_waiters
            .try_update_value(|waiters| waiters.push(sender))
            .is_none()
        {
            return;
        }
        // A dropped sender (the provider went away) ends the wait too.
        let _ = receiver.await;
    }

    /// Asks the server for the session's current state (`POST /v1/session/refresh`), e.g.
    /// after the application's backend cleared a gate: a JWT session gets a new token with
    /// the current gates, which a plain `/me` read would not show. When the server answers
    /// that there is no valid session, the state becomes signed out. The request starts at
    /// once; await the returned task to know when the new state is in, or drop it.
    pub fn refresh_session(&self) -> AuthTask {
        let this = *self;
        AuthTask::spawn(async move { this.fetch_refreshed().await })
    }

    /// Signs out (`POST /v1/sign-out`); on success, or when the server says there was no
    /// session anyway, the state becomes signed out. The request starts at once; await the
    /// returned task for its outcome, or drop it.
    pub fn sign_out(&self) -> AuthTask {
        let this = *self;
        AuthTask::spawn(async move {
            let api = this.api().ok_or(ApiError::Network)?;
            match api.sign_out().await {
                Ok(()) => {
                    this.accept(Me::signed_out());
                    Ok(())
                }
                Err(err) if err.code() == Some(ErrorCode::Unauthenticated) => {
                    this.accept(Me::signed_out());
                    Ok(())
                }
                Err(err) => Err(err),
            }
        })
    }

    /// After a change that clears a gate, whose answer was `me`: pulls the state as
    /// [`refresh_session`](Self::refresh_session) does, and when that request fails applies
    /// `me` instead, so a failed request never leaves the user on a gate they already cleared.
    pub(crate) async fn refresh_after(&self, me: Me) {
        if self.fetch_refreshed().await.is_err() {
            self.accept(me);
        }
    }

    /// True when protected UI may render: signed in on an active session.
    pub(crate) fn is_active(&self) -> Signal<bool> {
        self.is_active
    }

    /// A copy of the HTTP client, or `None` once the provider is gone.
    pub(crate) fn api(&self) -> Option<ApiClient> {
        self.api.try_get_value()
    }

    /// Makes the answer of a sign-in, sign-up or sign-out the current state, and tells the
    /// other tabs.
    pub(crate) fn accept(&self, me: Me) {
        if let Some(ticket) = self.issue_ticket() {
            self.apply(ticket, me);
        }
        self.tell_other_tabs();
    }

    /// Tells the other tabs of this origin that the state changed: they read it again.
    pub(crate) fn tell_other_tabs(&self) {
        self.tabs.with_value(|tabs| {
            if let Some(tabs) = tabs {
                tabs.post();
            }
        });
    }

    /// Another tab changed the state: read it now. The ticket order keeps a slower, older
    /// read from undoing this one.
    fn refetch_for_other_tab(&self) {
        let this = *self;
        detach(async move {
            let _ = this.fetch_me().await;
        });
    }

    /// The next element id prefix for one kind of component under this provider:
    /// `torii-sign-in-1`, `torii-sign-in-2`, ... Counted per provider, so the server and the
    /// browser, each rendering the same tree in the same order, give the same ids (a counter
    /// global to the process would differ between requests, and from the browser's).
    pub(crate) fn next_id(&self, component: &str) -> String {
        let n = self
            .ids
            .try_update_value(|ids| {
                let n = ids.entry(component.to_owned()).or_insert(0);
                *n += 1;
                *n
            })
            .unwrap_or(1);
        format!("torii-{component}-{n}")
    }

    /// The route for a gate, if the provider was given one.
    pub(crate) fn gate_url(&self, key: &GateKey) -> Option<String> {
        self.gate_urls
            .try_with_value(|urls| urls.get(key).map(str::to_owned))
            .flatten()
    }

    /// Goes to `url` through the app's `navigate` callback, else with a full-page load.
    pub(crate) fn navigate_to(&self, url: &str) {
        if let Some(navigate) = self.navigate
            && navigate.try_run(url.to_owned()).is_some()
        {
            return;
        }
        if let Some(window) = crate::browser::window()
            && let Err(err) = window.location().assign(url)
        {
            leptos::logging::error!("torii: could not navigate: {err:?}");
        }
    }

    fn issue_ticket(&self) -> Option<u64> {
        self.order.try_update_value(AnswerOrder::issue)
    }

    fn apply(&self, ticket: u64, me: Me) -> bool {
        let newer = self
            .order
            .try_update_value(|order| order.admit(ticket))
            .unwrap_or(false);
        if newer {
            let completed = self
                .me
                .try_with_untracked(|old| crate::completion::observe(*self, old.as_ref(), &me))
                .flatten();
            self.me.set(Some(me));
            if let Some(completed) = completed {
                crate::completion::finish(*self, completed);
            }
            let waiters = self
                .load_waiters
                .try_update_value(std::mem::take)
                .unwrap_or_default();
            for waiter in waiters {
                let _ = waiter.send(());
            }
        }
        newer
    }

    async fn fetch_me(&self) -> Result<(), ApiError> {
        let (Some(api), Some(ticket)) = (self.api(), self.issue_ticket()) else {
            return Err(ApiError::Network);
        };
        let answer = api.me().await;
        self.settle(ticket, answer)
    }

    /// `POST /v1/session/refresh`; a 401 (no valid session) is an answer: signed out.
    async fn fetch_refreshed(&self) -> Result<(), ApiError> {
        let (Some(api), Some(ticket)) = (self.api(), self.issue_ticket()) else {
            return Err(ApiError::Network);
        };
        let answer = signed_out_on_401(api.refresh_session().await);
        self.settle(ticket, answer)
    }

    /// Applies the answer of a read that took `ticket`.
    fn settle(&self, ticket: u64, answer: Result<Me, ApiError>) -> Result<(), ApiError> {
        match answer {
            Ok(me) => {
                self.apply(ticket, me);
                Ok(())
            }
            Err(err) => {
                // A first answer that failed still ends the loading state, as signed out; a
                // later failure keeps what we knew rather than signing the user out.
                if self.me.try_with_untracked(Option::is_none).unwrap_or(false) {
                    self.apply(ticket, Me::signed_out());
                }
                Err(err)
            }
        }
    }

    /// Whether the state shown is a JWT session, whose `/me` would only repeat its token.
    fn has_jwt_session(&self) -> bool {
        self.me
            .try_with_untracked(|me| {
                me.as_ref()
                    .and_then(|me| me.session.as_ref())
                    .is_some_and(|session| session.kind == SessionKind::Jwt)
            })
            .unwrap_or(false)
    }

    /// Refetch on focus or visibility: both usually fire together, so one read at a time.
    fn refetch_in_background(&self) {
        let started = self
            .order
            .try_update_value(AnswerOrder::begin_background_read)
            .unwrap_or(false);
        if !started {
            return;
        }
        let this = *self;
        detach(async move {
            loop {
                // The failure is not the user's business here: the state stays as it was.
                let _ = if this.has_jwt_session() {
                    this.fetch_refreshed().await
                } else {
                    this.fetch_me().await
                };
                let again = this
                    .order
                    .try_update_value(AnswerOrder::end_background_read)
                    .unwrap_or(false);
                if !again {
                    break;
                }
            }
        });
    }

    async fn load_environment(&self) {
        let Some(api) = self.api() else { return };
        match api.environment().await {
            Ok(environment) => self.environment_store.set(Some(environment)),
            Err(err) => leptos::logging::warn!("torii: could not load the environment: {err}"),
        }
    }

    pub(crate) fn detached() -> Self {
        Self::new(ApiClient::new(None, "", ""), GateUrls::new(), None)
    }
}

/// A refresh answered 401 tells the state: there is no valid session (signed out elsewhere,
/// revoked, expired). Any other failure tells nothing.
fn signed_out_on_401(answer: Result<Me, ApiError>) -> Result<Me, ApiError> {
    match answer {
        Err(ApiError::Server { status: 401, .. }) => Ok(Me::signed_out()),
        other => other,
    }
}

/// The auth state of the nearest [`ToriiProvider`].
///
/// Without a provider above the caller, it logs an error to the console and returns a
/// state that never loads, so a misplaced component renders nothing instead of crashing.
#[must_use]
pub fn use_auth() -> Auth {
    use_context::<Auth>().unwrap_or_else(|| {
        leptos::logging::error!(
            "torii: use_auth() and Torii's components must be placed inside <ToriiProvider>"
        );
        Auth::detached()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_refused_with_401_means_signed_out_and_other_failures_tell_nothing() {
        let unauthenticated = ApiError::from_status_and_body(
            401,
            r#"{"error":{"code":"unauthenticated","message":"Sign in first."}}"#,
        );
        assert_eq!(
            signed_out_on_401(Err(unauthenticated)),
            Ok(Me::signed_out())
        );
        let unavailable = ApiError::from_status_and_body(
            503,
            r#"{"error":{"code":"store_unavailable","message":"Try again."}}"#,
        );
        assert_eq!(
            signed_out_on_401(Err(unavailable.clone())),
            Err(unavailable)
        );
        assert_eq!(
            signed_out_on_401(Err(ApiError::Network)),
            Err(ApiError::Network)
        );
        let me = Me::signed_out();
        assert_eq!(signed_out_on_401(Ok(me.clone())), Ok(me));
    }

    #[test]
    fn gate_urls_build_from_pairs_and_builder() {
        let urls = GateUrls::from([
            (GateKey::LegalAcceptance, "/legal"),
            (GateKey::EmailVerification, "/verify-email"),
        ]);
        assert_eq!(urls.get(&GateKey::EmailVerification), Some("/verify-email"));
        assert_eq!(urls.get(&GateKey::Custom("mfa".into())), None);
        let built = GateUrls::new().with(GateKey::Custom("mfa".into()), "/mfa");
        assert_eq!(built.get(&GateKey::parse("mfa")), Some("/mfa"));
    }
}
