//! `<RedirectToSignIn>`: sends a signed-out user to the sign-in route.

use super::is_current_location;
use crate::provider::use_auth;
use leptos::prelude::*;

/// Once loaded, navigates a signed-out user (no user at all; a pending session is left to
/// [`RedirectToGates`](crate::RedirectToGates)) to `sign_in_url`, through the provider's
/// `navigate` when set, else a full-page redirect. Renders nothing.
///
/// Don't mount it alongside `RedirectToGates`: render exactly one.
#[component]
pub fn RedirectToSignIn(
    /// The app's sign-in route, e.g. `/sign-in`.
    #[prop(into)]
    sign_in_url: String,
) -> impl IntoView {
    let auth = use_auth();
    let signed_out = Memo::new(move |_| auth.is_loaded.get() && auth.user.with(Option::is_none));
    Effect::new(move |_| {
        if signed_out.get() && !is_current_location(&sign_in_url) {
            auth.navigate_to(&sign_in_url);
        }
    });
}
