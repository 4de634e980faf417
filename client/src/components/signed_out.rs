//! `<SignedOut>`: the signed-out shell, which also hosts the gate-completion UI.

use crate::provider::use_auth;
use leptos::prelude::*;

/// Renders its children once loaded, when the user is signed out **or** the session is
/// pending on a gate: pending counts as "not signed in" for rendering, so the sign-in card
/// and [`RedirectToGates`](crate::RedirectToGates) both live here.
#[component]
pub fn SignedOut(
    /// The signed-out UI.
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let active = auth.is_active();
    view! { <Show when=move || auth.is_loaded.get() && !active.get()>{children()}</Show> }
}
