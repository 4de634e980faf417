//! `<RedirectToSignIn>`, `<RedirectToSignUp>` and `<RedirectToUserProfile>`: each sends the
//! user to one of the app's routes once the auth state says so. They render nothing.
//!
//! The route is the component's own prop, else the provider's (`sign_in_url`, `sign_up_url`,
//! `user_profile_url`). It is the app's own configuration, so it may name another origin
//! (a sign-in page on an auth subdomain); destinations that may come from the address bar
//! (after sign-in, up or out) are checked instead (see [`crate::destinations`]).

use super::is_current_location;
use crate::completion::destinations;
use crate::destinations::Destinations;
use crate::provider::{Auth, use_auth};
use leptos::prelude::*;

/// Which of the provider's routes a redirect falls back to.
type Route = fn(&Destinations) -> MaybeProp<String>;

/// Once `when` holds, navigates to `url` (else the provider's `route`) through the provider's
/// `navigate` when set, else with a full-page load; never to the page already shown.
fn redirect_when(
    auth: Auth,
    when: impl Fn() -> bool + Send + Sync + 'static,
    url: MaybeProp<String>,
    route: Route,
    name: &'static str,
) {
    let fallback = route(&destinations(auth));
    let when = Memo::new(move |_| when());
    Effect::new(move |_| {
        if !when.get() {
            return;
        }
        match url.get().or_else(|| fallback.get()) {
            Some(target) if is_current_location(&target) => {}
            Some(target) => auth.navigate_to(&target),
            None => leptos::logging::warn!(
                "torii: {name} has no URL: give it one, or give ToriiProvider its route"
            ),
        }
    });
}

/// [`redirect_when`] a visitor is known to have no user at all.
fn redirect_signed_out(url: MaybeProp<String>, route: Route, name: &'static str) {
    let auth = use_auth();
    let signed_out = move || auth.is_loaded.get() && auth.user.with(Option::is_none);
    redirect_when(auth, signed_out, url, route, name);
}

/// Once loaded, navigates a signed-out visitor (no user at all; a pending session is left to
/// [`RedirectToGates`](crate::RedirectToGates)) to `sign_in_url`, else the provider's
/// `sign_in_url`, through the provider's `navigate` when set, else a full-page redirect.
/// Renders nothing.
///
/// Don't mount it alongside `RedirectToGates`: render exactly one.
#[component]
pub fn RedirectToSignIn(
    /// The app's sign-in route, e.g. `/sign-in`; default: the provider's `sign_in_url`.
    #[prop(optional, into)]
    sign_in_url: MaybeProp<String>,
) -> impl IntoView {
    redirect_signed_out(sign_in_url, |d| d.sign_in_url, "RedirectToSignIn");
}

/// Like [`RedirectToSignIn`], to the sign-up route: `sign_up_url`, else the provider's.
#[component]
pub fn RedirectToSignUp(
    /// The app's sign-up route, e.g. `/sign-up`; default: the provider's `sign_up_url`.
    #[prop(optional, into)]
    sign_up_url: MaybeProp<String>,
) -> impl IntoView {
    redirect_signed_out(sign_up_url, |d| d.sign_up_url, "RedirectToSignUp");
}

/// Navigates a signed-in user (an active session) to `user_profile_url`, else the
/// provider's, e.g. to finish an action on the profile page. Renders nothing.
#[component]
pub fn RedirectToUserProfile(
    /// The app's profile route, e.g. `/account`; default: the provider's `user_profile_url`.
    #[prop(optional, into)]
    user_profile_url: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let active = auth.is_active();
    redirect_when(
        auth,
        move || active.get(),
        user_profile_url,
        |d| d.user_profile_url,
        "RedirectToUserProfile",
    );
}
