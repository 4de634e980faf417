//! `<SignedIn>`: protected UI, rendered only for a signed-in user on an active session.

use crate::provider::use_auth;
use leptos::prelude::*;

/// Renders its children only when the user is signed in **and** the session is active.
/// Nothing renders before the first `/me` answer, and a session pending on a gate renders
/// nothing, so protected content never flashes.
#[component]
pub fn SignedIn(
    /// The protected UI.
    children: ChildrenFn,
) -> impl IntoView {
    let active = use_auth().is_active();
    view! { <Show when=move || active.get()>{children()}</Show> }
}
