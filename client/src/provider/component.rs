//! [`ToriiProvider`]: the component that owns the auth state and provides it.

use super::*;

/// Provides Torii's auth state to its children.
///
/// At mount it fetches `GET {api_url}/v1/environment` and `GET {api_url}/me`, and it
/// reads the state again whenever the window regains focus or the tab becomes visible again,
/// so a sign-in or sign-out in another tab, or a gate required or cleared on the server,
/// shows up here: `GET /me` for a database session or none, `POST /v1/session/refresh` for a
/// JWT session (whose token only carries the state it was issued with).
#[component]
pub fn ToriiProvider(
    /// The environment's publishable key (`pk_test_…`/`pk_live_…`), sent as the
    /// `Torii-Publishable-Key` header. May be empty when the server has one environment.
    #[prop(into)]
    publishable_key: String,
    /// Base URL of the Torii server, e.g. `https://auth.example.com`. Default: the page's
    /// own origin. Cookies are sent cross-origin only when this names another origin.
    #[prop(optional, into)]
    api_url: Option<String>,
    /// The route that clears each gate, for [`RedirectToGates`](crate::RedirectToGates).
    #[prop(optional, into)]
    gate_urls: GateUrls,
    /// Client-side navigation (e.g. a router's `navigate`); without it, and without the
    /// `router` feature's `leptos_router` above the provider, redirects load the page anew
    /// with `window.location.assign`.
    #[prop(optional, into)]
    navigate: Option<Callback<String>>,
    /// Every word the components show: [`Locale::en`] (the default), [`Locale::fr`], or
    /// either with the application's overrides. A signal switches language in place.
    #[prop(optional, into)]
    locale: Option<Signal<Locale>>,
    /// How the components look: theme, variables, classes per element, logo and layout.
    /// A signal changes it in place.
    #[prop(optional, into)]
    appearance: Option<Signal<Appearance>>,
    /// The app's sign-in route, for [`SignInButton`](crate::SignInButton) and
    /// [`RedirectToSignIn`](crate::RedirectToSignIn).
    #[prop(optional, into)]
    sign_in_url: MaybeProp<String>,
    /// The app's sign-up route, for [`SignUpButton`](crate::SignUpButton) and
    /// [`RedirectToSignUp`](crate::RedirectToSignUp).
    #[prop(optional, into)]
    sign_up_url: MaybeProp<String>,
    /// The app's profile route, for [`RedirectToUserProfile`](crate::RedirectToUserProfile).
    #[prop(optional, into)]
    user_profile_url: MaybeProp<String>,
    /// Where a completed sign-in goes (once every gate is passed), unless the card names its
    /// own; same-origin destinations only. Unset: the page stays where it is.
    #[prop(optional, into)]
    after_sign_in_url: MaybeProp<String>,
    /// Where a completed sign-up goes; unset: `after_sign_in_url`.
    #[prop(optional, into)]
    after_sign_up_url: MaybeProp<String>,
    /// Where [`SignOutButton`](crate::SignOutButton) goes after signing out, unless it names
    /// its own.
    #[prop(optional, into)]
    after_sign_out_url: MaybeProp<String>,
    /// The app.
    children: Children,
) -> impl IntoView {
    let api = ApiClient::new(
        api_url.as_deref(),
        &publishable_key,
        &crate::browser::page_origin(),
    );
    let navigate = navigate.or_else(router_navigate);
    let auth = Auth::new(api, gate_urls, navigate);
    auth.flow.set_value(crate::completion::Flow::new(
        crate::destinations::Destinations {
            sign_in_url,
            sign_up_url,
            user_profile_url,
            after_sign_in_url,
            after_sign_up_url,
            after_sign_out_url,
        },
    ));
    provide_context(auth);
    provide_context(Texts::new(
        locale.unwrap_or_else(|| Signal::stored(Locale::en())),
    ));
    let appearance = appearance.unwrap_or_else(|| Signal::stored(Appearance::default()));
    provide_context(Looks(appearance));

    // What the server rendered with travels to the browser in the page, so hydration starts
    // from the same state (same markup) and does not ask `/me` again. Without server
    // rendering (or without Torii's server integration) this is `None`: fetch at mount.
    let initial = SharedValue::new(server_state).into_inner();
    let fetch_at_mount = initial.is_none();
    if let Some(me) = initial
        && let Some(ticket) = auth.issue_ticket()
    {
        auth.apply(ticket, me);
    }

    // The name keeps two applications on one origin (different keys) apart.
    let tab_topic = format!(
        "torii:{}:{}",
        api_url.as_deref().unwrap_or(""),
        publishable_key
    );
    // Everything that touches the browser starts here: effects run only in the browser, after
    // the first render (or hydration), never on the server.
    Effect::new(move |_| {
        untrack(|| connect_to_browser(auth, &tab_topic, fetch_at_mount));
    });

    view! {
        <AppearanceStyle appearance=appearance />
        {children()}
    }
}

/// With the `router` feature, inside a `leptos_router` `<Router>` in the browser: navigation
/// through the router, without a page load. (The server never navigates.)
#[cfg(feature = "router")]
fn router_navigate() -> Option<Callback<String>> {
    use_context::<leptos_router::location::BrowserUrl>()?;
    let navigate = leptos_router::hooks::use_navigate();
    Some(Callback::new(move |url: String| {
        navigate(&url, leptos_router::NavigateOptions::default());
    }))
}

/// Without the `router` feature: the app's `navigate`, else page loads.
#[cfg(not(feature = "router"))]
fn router_navigate() -> Option<Callback<String>> {
    None
}

/// The state the server rendered with: what Torii's server integration verified for this
/// request (see [`crate::ssr`]), or `None` when there is none.
#[cfg(feature = "ssr")]
fn server_state() -> Option<Me> {
    crate::ssr::state_for_render()
}

/// The state the server rendered with; in the browser, hydration reads it from the page.
#[cfg(not(feature = "ssr"))]
fn server_state() -> Option<Me> {
    None
}
