//! Headless hooks: the pieces of the auth state most components need, as signals.
//!
//! They read the nearest [`ToriiProvider`](crate::ToriiProvider) (outside one, they log an
//! error and stay empty, like [`use_auth`]).

use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::{Session, User};

/// The signed-in user, or `None` (signed out, or not known yet). A user whose session is
/// pending on a gate is here too: it is who is signing in. To decide whether protected UI may
/// render, use [`Show`](crate::Show) or `use_auth().is_signed_in`, never this alone.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # use torii_client::use_user;
/// #[component]
/// fn Greeting() -> impl IntoView {
///     let user = use_user();
///     move || user.get().map(|user| format!("Hello, {}", user.name.unwrap_or(user.email)))
/// }
/// ```
#[must_use]
pub fn use_user() -> Signal<Option<User>> {
    use_auth().user
}

/// The current session as `/me` gives it: id, kind, expiry and its `SessionInfo` (`status`,
/// `gates`, `currentGate`), or `None` when there is none or it is not known yet.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # use torii_client::use_session;
/// #[component]
/// fn GateNote() -> impl IntoView {
///     let session = use_session();
///     let gate = move || {
///         session
///             .get()
///             .and_then(|session| session.info.current_gate)
///             .map(|gate| gate.key.to_string())
///     };
///     view! { <p>{gate}</p> }
/// }
/// ```
#[must_use]
pub fn use_session() -> Signal<Option<Session>> {
    use_auth().session
}
