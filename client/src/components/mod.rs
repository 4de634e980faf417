//! Torii's components, one per file, and the small pieces their forms share: unique element
//! ids, a labelled text field that shows its own error, the card's alert and notice lines, and times in
//! the reader's own time zone and language.

mod accept_terms;
mod auth_loading;
mod buttons;
mod code_step;
mod guarded;
pub(crate) mod item_list;
pub(crate) mod kit;
mod linked_accounts;
mod oauth;
mod passkey_ceremony;
mod passkeys;
mod protected;
mod reauthenticate;
mod redirect_to_gates;
mod redirects;
mod second_factor;
mod setup_mfa;
mod show;
mod sign_in;
mod sign_up;
mod signed_in;
mod signed_out;
mod two_step;
mod user_button;
mod user_profile;
mod verify_email;

pub use accept_terms::AcceptTerms;
pub use auth_loading::AuthLoading;
pub use buttons::{SignInButton, SignOutButton, SignUpButton};
pub(crate) use passkey_ceremony::{PasskeyError, add_passkey, sign_in_with_passkey};
pub use passkeys::Passkeys;
pub use protected::Protected;
pub use redirect_to_gates::RedirectToGates;
pub use redirects::{RedirectToSignIn, RedirectToSignUp, RedirectToUserProfile};
pub use second_factor::SecondFactor;
pub use setup_mfa::SetupMfa;
pub use show::{AuthSnapshot, Condition, Decision, Show, decide};
pub use sign_in::SignIn;
pub use sign_up::SignUp;
pub use signed_in::SignedIn;
pub use signed_out::SignedOut;
pub use user_button::UserButton;
pub use user_profile::UserProfile;
pub use verify_email::VerifyEmail;

use crate::appearance::{Slot, slot};
pub(crate) use crate::form::{FormErrors, field_error};
use crate::i18n::{Locale, Message, Pick, use_locale};
use leptos::prelude::*;
use time::OffsetDateTime;

/// The date and time of `at` in the browser's time zone, in the locale's language
/// (`Intl.DateTimeFormat` with medium date and short time), e.g. "22 Nov 2026, 22:07" or
/// "22 nov. 2026, 22:07"; without a browser, in UTC from the locale's table.
fn local_date_time(locale: &Locale, at: OffsetDateTime) -> String {
    intl_format(&locale.lang, at, true).unwrap_or_else(|| locale.utc_date_time(at))
}

/// The date of `at` in the browser's time zone, in the locale's language, e.g. "22 Nov 2026".
fn local_date(locale: &Locale, at: OffsetDateTime) -> String {
    intl_format(&locale.lang, at, false).unwrap_or_else(|| locale.utc_date(at))
}

#[cfg(target_arch = "wasm32")]
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
#[cfg(target_arch = "wasm32")]
fn browser_language() -> Option<String> {
    let window = crate::browser::window()?;
    let navigator = js_sys::Reflect::get(&window, &"navigator".into()).ok()?;
    js_sys::Reflect::get(&navigator, &"language".into())
        .ok()?
        .as_string()
}

#[cfg(not(target_arch = "wasm32"))]
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

/// The `aria-describedby` value: the hint, then the error when there is one.
fn described_by(hint_id: Option<&str>, error_id: Option<&str>) -> Option<String> {
    match (hint_id, error_id) {
        (None, None) => None,
        (Some(id), None) | (None, Some(id)) => Some(id.to_owned()),
        (Some(hint), Some(error)) => Some(format!("{hint} {error}")),
    }
}

/// What a field holds: its input type, autocomplete token, keyboard and length, the name the
/// server gives its errors under, its usual label and its hint. One place for each, so the
/// same field reads the same on every card.
#[derive(Clone, Copy)]
pub(crate) struct FieldKind {
    name: &'static str,
    label: Pick,
    input_type: &'static str,
    autocomplete: &'static str,
    inputmode: Option<&'static str>,
    maxlength: Option<&'static str>,
    hint: Option<Pick>,
}

impl FieldKind {
    const TEXT: Self = Self {
        name: "",
        label: |l| &l.common.email,
        input_type: "text",
        autocomplete: "off",
        inputmode: None,
        maxlength: None,
        hint: None,
    };
    /// The address an account signs in with.
    pub(crate) const EMAIL: Self = Self {
        name: "email",
        input_type: "email",
        autocomplete: "username",
        ..Self::TEXT
    };
    /// A new address for the account.
    pub(crate) const NEW_EMAIL: Self = Self {
        label: |l| &l.profile.new_email,
        autocomplete: "email",
        ..Self::EMAIL
    };
    /// The display name.
    pub(crate) const NAME: Self = Self {
        name: "name",
        label: |l| &l.sign_up.name,
        autocomplete: "name",
        maxlength: Some("100"),
        ..Self::TEXT
    };
    /// The password the account has.
    pub(crate) const CURRENT_PASSWORD: Self = Self {
        name: "password",
        label: |l| &l.common.password,
        input_type: "password",
        autocomplete: "current-password",
        ..Self::TEXT
    };
    /// A password being chosen, with the rules as its hint.
    pub(crate) const NEW_PASSWORD: Self = Self {
        autocomplete: "new-password",
        hint: Some(|l| &l.common.password_hint),
        ..Self::CURRENT_PASSWORD
    };
    /// A 6-digit code (emailed, or from an authenticator app).
    pub(crate) const CODE: Self = Self {
        name: "code",
        label: |l| &l.common.code_label,
        autocomplete: "one-time-code",
        inputmode: Some("numeric"),
        maxlength: Some("6"),
        ..Self::TEXT
    };

    /// The same field under another label.
    pub(crate) const fn labelled(self, label: Pick) -> Self {
        Self { label, ..self }
    }

    /// The same field under another name (the server's for it).
    pub(crate) const fn named(self, name: &'static str) -> Self {
        Self { name, ..self }
    }

    /// A second factor's code field: an authenticator's code or a backup code.
    pub(crate) fn second_factor(shape: second_factor::CodeShape) -> Self {
        Self {
            label: shape.label,
            inputmode: Some(shape.inputmode),
            maxlength: Some(shape.maxlength),
            hint: Some(shape.hint),
            ..Self::CODE
        }
    }
}

/// A labelled input of `kind` bound to `value`, required unless `optional`. The error of its
/// name in `errors`, when set, appears under it and is tied to it with `aria-invalid` and
/// `aria-describedby`. With `autofocus`, it takes the focus when it appears (it replaced
/// what had it).
#[component]
fn Field(
    id: String,
    kind: FieldKind,
    value: RwSignal<String>,
    errors: RwSignal<FormErrors>,
    #[prop(optional)] optional: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] node_ref: Option<NodeRef<leptos::html::Input>>,
) -> impl IntoView {
    let t = use_locale();
    let node_ref = node_ref.unwrap_or_default();
    if autofocus {
        Effect::new(move |_| {
            if let Some(input) = node_ref.get() {
                let _ = input.focus();
            }
        });
    }
    let error = field_error(errors, kind.name);
    let hint_id = kind.hint.map(|_| format!("{id}-hint"));
    let error_id = format!("{id}-error");
    let describedby = {
        let hint_id = hint_id.clone();
        let error_id = error_id.clone();
        move || {
            let has_error = error.with(Option::is_some);
            described_by(hint_id.as_deref(), has_error.then_some(error_id.as_str()))
        }
    };
    view! {
        <div class="torii-field">
            <label class=slot(Slot::Label) for=id.clone()>
                {t.text(kind.label)}
            </label>
            <input
                class=slot(Slot::Input)
                id=id
                name=kind.name
                type=kind.input_type
                autocomplete=kind.autocomplete
                inputmode=kind.inputmode
                maxlength=kind.maxlength
                required=!optional
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby=describedby
                node_ref=node_ref
                bind:value=value
            />
            {kind.hint.map(|hint| view! { <p class=slot(Slot::Hint) id=hint_id>{t.text(hint)}</p> })}
            <FieldErrorLine id=error_id error=error />
        </div>
    }
}

/// A field's error line, under it, with the id its `aria-describedby` names.
#[component]
fn FieldErrorLine(id: String, error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|message| view! { <p class=slot(Slot::FieldError) id=id.clone()>{message}</p> })
    }
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
    fn described_by_lists_hint_then_error() {
        assert_eq!(described_by(None, None), None);
        assert_eq!(described_by(Some("h"), None).as_deref(), Some("h"));
        assert_eq!(described_by(None, Some("e")).as_deref(), Some("e"));
        assert_eq!(described_by(Some("h"), Some("e")).as_deref(), Some("h e"));
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
