//! Torii's components, one per file, and the small pieces their forms share: unique element
//! ids, a labelled text field that shows its own error, the card's alert and notice lines, and times in
//! the reader's own time zone and language.

mod accept_terms;
mod auth_loading;
mod buttons;
mod code_step;
mod field;
#[cfg(feature = "profile")]
mod guarded;
#[cfg(feature = "profile")]
pub(crate) mod item_list;
pub(crate) mod kit;
#[cfg(feature = "profile")]
mod linked_accounts;
#[cfg(feature = "oauth")]
mod oauth;
#[cfg(feature = "passkeys")]
mod passkey_ceremony;
#[cfg(feature = "profile")]
mod passkeys;
mod protected;
#[cfg(feature = "profile")]
mod reauthenticate;
mod redirect_to_gates;
mod redirects;
#[cfg(feature = "mfa")]
mod second_factor;
#[cfg(feature = "mfa")]
mod setup_mfa;
mod show;
mod sign_in;
#[cfg(feature = "email-code")]
mod sign_up;
mod signed_in;
mod signed_out;
#[cfg(feature = "profile")]
mod two_step;
mod user_button;
#[cfg(feature = "profile")]
mod user_profile;
#[cfg(feature = "email-code")]
mod verify_email;

pub use accept_terms::AcceptTerms;
pub use auth_loading::AuthLoading;
pub use buttons::{SignInButton, SignOutButton, SignUpButton};
#[cfg(feature = "passkeys")]
pub(crate) use passkey_ceremony::{PasskeyError, add_passkey, sign_in_with_passkey};
#[cfg(feature = "profile")]
pub use passkeys::Passkeys;
pub use protected::Protected;
pub use redirect_to_gates::RedirectToGates;
pub use redirects::{RedirectToSignIn, RedirectToSignUp, RedirectToUserProfile};
#[cfg(feature = "mfa")]
pub use second_factor::SecondFactor;
#[cfg(feature = "mfa")]
pub use setup_mfa::SetupMfa;
pub use show::{AuthSnapshot, Condition, Decision, Show, decide};
pub use sign_in::SignIn;
#[cfg(feature = "email-code")]
pub use sign_up::SignUp;
pub use signed_in::SignedIn;
pub use signed_out::SignedOut;
pub use user_button::UserButton;
#[cfg(feature = "profile")]
pub use user_profile::UserProfile;
#[cfg(feature = "email-code")]
pub use verify_email::VerifyEmail;

use crate::appearance::{Slot, slot};
pub(crate) use crate::form::{FormErrors, field_error};
#[cfg(feature = "profile")]
use crate::i18n::Locale;
use crate::i18n::{Message, Pick, use_locale};
use leptos::prelude::*;
#[cfg(feature = "profile")]
use time::OffsetDateTime;

use field::FieldErrorLine;
pub(crate) use field::{Field, FieldKind};

/// The date and time of `at` in the browser's time zone, in the locale's language
/// (`Intl.DateTimeFormat` with medium date and short time), e.g. "22 Nov 2026, 22:07" or
/// "22 nov. 2026, 22:07"; without a browser, in UTC from the locale's table.
#[cfg(feature = "profile")]
fn local_date_time(locale: &Locale, at: OffsetDateTime) -> String {
    intl_format(&locale.lang, at, true).unwrap_or_else(|| locale.utc_date_time(at))
}

/// The date of `at` in the browser's time zone, in the locale's language, e.g. "22 Nov 2026".
#[cfg(feature = "profile")]
fn local_date(locale: &Locale, at: OffsetDateTime) -> String {
    intl_format(&locale.lang, at, false).unwrap_or_else(|| locale.utc_date(at))
}

#[cfg(all(feature = "profile", target_arch = "wasm32"))]
fn intl_format(lang: &str, at: OffsetDateTime, with_time: bool) -> Option<String> {
    use js_sys::Reflect;
    let options = js_sys::Object::new();
    Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
    if with_time {
        Reflect::set(&options, &"timeStyle".into(), &"short".into()).ok()?;
    }
    // The locale's language, in the browser's time zone; the browser's own regional variant
    // of it when it has one (`en-GB` reads "22 Nov 2026" where `en` reads "Nov 22, 2026").
    let tag = browser_language()
        .filter(|tag| tag.split('-').next() == Some(lang))
        .unwrap_or_else(|| lang.to_owned());
    let locales = js_sys::Array::of1(&tag.into());
    let format = js_sys::Intl::DateTimeFormat::new(&locales, &options);
    let millis = (at.unix_timestamp_nanos() / 1_000_000) as f64;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    format.format().call1(&format, &date).ok()?.as_string()
}

/// `navigator.language`, e.g. `en-GB`.
#[cfg(all(feature = "profile", target_arch = "wasm32"))]
fn browser_language() -> Option<String> {
    let window = crate::browser::window()?;
    let navigator = js_sys::Reflect::get(&window, &"navigator".into()).ok()?;
    js_sys::Reflect::get(&navigator, &"language".into())
        .ok()?
        .as_string()
}

#[cfg(all(feature = "profile", not(target_arch = "wasm32")))]
fn intl_format(_lang: &str, _at: OffsetDateTime, _with_time: bool) -> Option<String> {
    None
}

/// A prefix for element ids unique under the provider, so `<label for>` and
/// `aria-describedby` stay right when a component is mounted twice, and the same on the
/// server and in the browser (see [`Auth::next_id`](crate::Auth)).
fn unique_prefix(component: &str) -> String {
    crate::provider::use_auth().next_id(component)
}

/// A component's root classes as a reactive attribute: its own (a card's as the appearance
/// gives them, with its `Slot::Card` classes), then the application's (`class` prop), if any.
fn with_class(
    base: &'static str,
    class: MaybeProp<String>,
) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let appearance = crate::appearance::use_appearance();
    move || {
        let own = match base.strip_prefix("torii-card") {
            Some(rest) => appearance.with(|a| a.classes(Slot::Card)) + rest,
            None => base.to_owned(),
        };
        class.with(|extra| join_classes(own, extra.as_deref()))
    }
}

/// `own`, then `extra` when it holds a class.
fn join_classes(own: String, extra: Option<&str>) -> String {
    match extra.map(str::trim).filter(|extra| !extra.is_empty()) {
        Some(extra) => format!("{own} {extra}"),
        None => own,
    }
}

/// Whether `target` is the page already shown, so a redirect to it would only reload it.
pub(crate) fn is_current_location(target: &str) -> bool {
    crate::browser::window()
        .map(|window| window.location())
        .and_then(|location| Some((location.href().ok()?, location.origin().ok()?)))
        .is_some_and(|(href, origin)| same_location(target, &href, &origin))
}

/// `target` (absolute, protocol-relative or root-relative) resolved against the page at
/// `href`, compared to it without fragments. Document-relative targets never match.
fn same_location(target: &str, href: &str, origin: &str) -> bool {
    let resolved = if let Some(rest) = target.strip_prefix("//") {
        match origin.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://{rest}"),
            None => return false,
        }
    } else if target.starts_with('/') {
        format!("{origin}{target}")
    } else if target.contains("://") {
        target.to_owned()
    } else {
        return false;
    };
    let without_fragment = |url: &str| url.split('#').next().unwrap_or_default().to_owned();
    without_fragment(&resolved) == without_fragment(href)
}

/// The line at a card's foot offering the other card: `text`, then a link-styled button;
/// nothing when the card was given no way to the other (`on_click` is `None`).
#[component]
fn SwitchCardLine(text: Pick, action: Pick, on_click: Option<Callback<()>>) -> impl IntoView {
    let t = use_locale();
    on_click.map(|on_click| {
        view! {
            <p class=slot(Slot::Footer)>
                {t.text(text)}
                <kit::LinkButton label=action on_click=on_click />
            </p>
        }
    })
}

/// A gate's card: a `<section>` named by its `<h2>` `title`, with the appearance's and the
/// application's classes, `data-torii-step` when given, in the current language.
#[component]
fn GateCard(
    class: MaybeProp<String>,
    title: Pick,
    #[prop(optional)] step: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let t = use_locale();
    let title_id = format!("{}-title", unique_prefix("gate"));
    let labelled_by = title_id.clone();
    view! {
        <section
            class=with_class("torii-card", class)
            aria-labelledby=labelled_by
            data-torii-step=step
            lang=t.lang()
        >
            <h2 class=slot(Slot::Title) id=title_id>
                {t.text(title)}
            </h2>
            {children()}
        </section>
    }
}

/// A titled part of a profile section (passkeys, linked accounts): a `<section>` named by its
/// `<h3>`, in the current language.
#[cfg(feature = "profile")]
#[component]
fn ProfilePart(class: &'static str, title: Pick, children: Children) -> impl IntoView {
    let t = use_locale();
    let heading_id = format!("{}-title", unique_prefix("profile-part"));
    let labelled_by = heading_id.clone();
    view! {
        <section
            class=format!("torii-profile-part {class}")
            aria-labelledby=labelled_by
            lang=t.lang()
        >
            <h3 class="torii-subtitle" id=heading_id>
                {t.text(title)}
            </h3>
            {children()}
        </section>
    }
}

/// The "or" line between two ways in.
#[cfg(any(feature = "magic-link", feature = "passkeys"))]
fn or_line() -> impl IntoView {
    let t = use_locale();
    view! {
        <p class=slot(Slot::Divider) aria-hidden="true">
            <span>{t.text(|l| &l.common.or)}</span>
        </p>
    }
}

/// The card's alert line: announced by screen readers when it appears or changes.
#[component]
fn FormAlert(errors: RwSignal<FormErrors>) -> impl IntoView {
    let texts = use_locale();
    move || {
        errors.with(|e| e.message.clone()).map(|message| {
            let message = texts.with(|l| message.render(l));
            view! {
                <p class=slot(Slot::Alert) role="alert" aria-live="assertive">
                    {message}
                </p>
            }
        })
    }
}

/// A form's success line: announced politely, in the current language.
#[component]
fn FormNotice(notice: RwSignal<Option<Message>>) -> impl IntoView {
    let texts = use_locale();
    move || {
        notice.get().map(|message| {
            let message = texts.with(|l| message.render(l));
            view! {
                <p class=slot(Slot::Notice) role="status">
                    {message}
                </p>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[cfg(feature = "profile")]
    #[test]
    fn without_a_browser_times_read_as_day_month_year_and_utc_time() {
        let en = Locale::en();
        assert_eq!(
            local_date_time(&en, datetime!(2026-11-22 21:07:59 UTC)),
            "22 Nov 2026, 21:07 UTC"
        );
        assert_eq!(
            local_date_time(&en, datetime!(2027-01-02 00:00 +02:00)),
            "1 Jan 2027, 22:00 UTC"
        );
        assert_eq!(
            local_date(&en, datetime!(2026-03-09 23:59 -01:00)),
            "10 Mar 2026"
        );
        assert_eq!(
            local_date(&Locale::fr(), datetime!(2026-02-09 12:00 UTC)),
            "9 févr. 2026"
        );
    }

    #[test]
    fn same_location_resolves_root_relative_and_absolute_targets() {
        let origin = "http://localhost:3000";
        let href = "http://localhost:3000/legal#top";
        assert!(same_location("/legal", href, origin));
        assert!(same_location("http://localhost:3000/legal", href, origin));
        assert!(same_location("//localhost:3000/legal", href, origin));
        assert!(!same_location("/legal?step=2", href, origin));
        assert!(!same_location("/verify-email", href, origin));
        assert!(!same_location("legal", href, origin));
    }

    #[test]
    fn class_overrides_are_added_after_the_components_own() {
        let own = || "torii-card".to_owned();
        assert_eq!(join_classes(own(), None), "torii-card");
        assert_eq!(join_classes(own(), Some("  ")), "torii-card");
        assert_eq!(join_classes(own(), Some("mine big")), "torii-card mine big");
    }

    #[test]
    fn ids_count_per_provider_so_server_and_browser_agree() {
        let render = || {
            Owner::new().with(|| {
                provide_context(crate::provider::Auth::detached());
                [
                    unique_prefix("sign-in"),
                    unique_prefix("sign-up"),
                    unique_prefix("sign-in"),
                ]
            })
        };
        let first = render();
        assert_eq!(
            first,
            ["torii-sign-in-1", "torii-sign-up-1", "torii-sign-in-2"]
        );
        // Another render of the same tree (the browser hydrating the server's page, or the
        // next request) gives the same ids.
        assert_eq!(render(), first);
    }
}
