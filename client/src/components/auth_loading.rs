//! `<AuthLoading>`: its children until the first `/me` answer, then nothing.

use crate::provider::use_auth;
use leptos::prelude::*;

/// Renders its children only until the provider has its first `/me` answer: the place for
/// a spinner. The spinner itself is the app's.
#[component]
pub fn AuthLoading(
    /// Shown while loading.
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    view! { <Show when=move || !auth.is_loaded.get()>{children()}</Show> }
}
