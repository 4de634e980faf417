//! `<SignInButton>`, `<SignUpButton>` and `<SignOutButton>`: one button each, labelled from
//! the locale, or with the application's own children as the label.

use super::{is_current_location, join_classes};
use crate::appearance::{Slot, slot};
use crate::completion::destinations;
use crate::destinations::{Destinations, pick};
use crate::form::FormState;
use crate::i18n::{Pick, use_locale};
use crate::provider::{Auth, use_auth};
use leptos::prelude::*;

/// Signs out through `form` (one request at a time, a failure shown on it); `then` runs once
/// signed out.
pub(crate) fn sign_out_through(form: FormState<()>, auth: Auth, then: impl FnOnce() + 'static) {
    if form.busy.get_untracked().is_none() {
        form.run((), auth.sign_out(), move |()| then());
    }
}

/// The slot's classes, then the application's `class`.
fn classes(own: Slot, class: MaybeProp<String>) -> impl Fn() -> String + Send + Sync + 'static {
    let own = slot(own);
    move || class.with(|extra| join_classes(own(), extra.as_deref()))
}

/// A button that goes to `url`, else the provider's `route`.
fn route_button(
    url: MaybeProp<String>,
    route: fn(&Destinations) -> MaybeProp<String>,
    label: Pick,
    class: MaybeProp<String>,
    children: Option<Children>,
) -> impl IntoView {
    let auth = use_auth();
    let texts = use_locale();
    let fallback = route(&destinations(auth));
    let go = move |_| match url.get_untracked().or_else(|| fallback.get_untracked()) {
        Some(target) => auth.navigate_to(&target),
        None => leptos::logging::warn!(
            "torii: this button has no URL: give it one, or give ToriiProvider its route"
        ),
    };
    let label = children.map_or_else(|| texts.text(label).into_any(), |c| c());
    view! {
        <button class=classes(Slot::ButtonPrimary, class) type="button" lang=texts.lang() on:click=go>
            {label}
        </button>
    }
}

/// A "Sign in" button that goes to `url`, else the provider's `sign_in_url`.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # use torii_client::SignInButton;
/// # #[component]
/// # fn Header() -> impl IntoView {
/// view! {
///     <SignInButton />
///     <SignInButton url="/login">"Log in"</SignInButton>
/// }
/// # }
/// ```
#[component]
pub fn SignInButton(
    /// Where it goes; default: the provider's `sign_in_url`.
    #[prop(optional, into)]
    url: MaybeProp<String>,
    /// Extra classes, after the primary button's.
    #[prop(optional, into)]
    class: MaybeProp<String>,
    /// The label, in place of the locale's "Sign in".
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    route_button(
        url,
        |d| d.sign_in_url,
        |l| &l.controls.sign_in,
        class,
        children,
    )
}

/// A "Sign up" button that goes to `url`, else the provider's `sign_up_url`.
#[component]
pub fn SignUpButton(
    /// Where it goes; default: the provider's `sign_up_url`.
    #[prop(optional, into)]
    url: MaybeProp<String>,
    /// Extra classes, after the primary button's.
    #[prop(optional, into)]
    class: MaybeProp<String>,
    /// The label, in place of the locale's "Sign up".
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    route_button(
        url,
        |d| d.sign_up_url,
        |l| &l.controls.sign_up,
        class,
        children,
    )
}

/// A "Sign out" button: signs out through [`Auth::sign_out`](crate::Auth::sign_out), then goes
/// to `redirect_url`, else the provider's `after_sign_out_url` (same-origin destinations
/// only; with neither, it stays on the page, which shows the signed-out state). A failure is
/// shown beside it, announced.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # use torii_client::{Condition, Show, SignOutButton};
/// # #[component]
/// # fn Header() -> impl IntoView {
/// view! {
///     <Show when=Condition::signed_in()>
///         <SignOutButton redirect_url="/goodbye" />
///     </Show>
/// }
/// # }
/// ```
#[component]
pub fn SignOutButton(
    /// Where to go once signed out; default: the provider's `after_sign_out_url`.
    #[prop(optional, into)]
    redirect_url: MaybeProp<String>,
    /// Extra classes, after the secondary button's.
    #[prop(optional, into)]
    class: MaybeProp<String>,
    /// The label, in place of the locale's "Sign out".
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let auth = use_auth();
    let texts = use_locale();
    let after_sign_out = destinations(auth).after_sign_out_url;
    let form = FormState::<()>::new();
    let sign_out = move |_| {
        // Read now: once signed out, this button (inside `<Show>`) may be gone.
        let target = pick(&[redirect_url.get_untracked(), after_sign_out.get_untracked()]);
        sign_out_through(form, auth, move || {
            if let Some(target) = target.filter(|t| !is_current_location(t)) {
                auth.navigate_to(&target);
            }
        });
    };
    let label = children.map_or_else(
        || {
            (move || {
                texts.with(|l| {
                    if form.is_any_busy() {
                        l.controls.signing_out.to_string()
                    } else {
                        l.controls.sign_out.to_string()
                    }
                })
            })
            .into_any()
        },
        |c| c(),
    );
    let alert = move || {
        form.error_text(texts).map(|message| {
            view! {
                <span class=slot(Slot::Alert) role="alert">
                    {message}
                </span>
            }
        })
    };
    view! {
        <span class="torii-sign-out" lang=texts.lang()>
            <button
                class=classes(Slot::ButtonSecondary, class)
                type="button"
                disabled=move || form.is_any_busy()
                aria-busy=move || form.is_any_busy().then_some("true")
                on:click=sign_out
            >
                {label}
            </button>
            {alert}
        </span>
    }
}
