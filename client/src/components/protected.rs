//! `<Protected>`: a route guard, the one way to protect a page.

use crate::provider::use_auth;
use leptos::prelude::*;

use super::{RedirectToGates, RedirectToSignIn};

/// Guards a page: its children for a signed-in user on an active session; a session pending
/// on a gate is sent to the gate's route ([`RedirectToGates`]); a signed-out visitor to
/// `sign_in_url` ([`RedirectToSignIn`]). Until the session is known, `fallback` (default:
/// nothing). With server rendering the session is known on the server, so a signed-in
/// user's first HTML already holds the page.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # use torii_client::Protected;
/// #[component]
/// fn AccountPage() -> impl IntoView {
///     view! {
///         <Protected sign_in_url="/sign-in">
///             <h1>"Your account"</h1>
///         </Protected>
///     }
/// }
/// ```
#[component]
pub fn Protected(
    /// The app's sign-in route, e.g. `/sign-in`; default: the provider's `sign_in_url`.
    #[prop(optional, into)]
    sign_in_url: MaybeProp<String>,
    /// Shown until the session is known.
    #[prop(optional, into)]
    fallback: ViewFn,
    /// The protected page.
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let active = auth.is_active();
    let loaded = auth.is_loaded;
    let pending = auth.is_pending;
    move || {
        if active.get() {
            children().into_any()
        } else if !loaded.get() {
            fallback.run().into_any()
        } else if pending.get() {
            view! { <RedirectToGates /> }.into_any()
        } else {
            view! { <RedirectToSignIn sign_in_url=sign_in_url /> }.into_any()
        }
    }
}
