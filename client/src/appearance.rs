//! How the components look, set from Rust: [`Appearance`] on
//! [`ToriiProvider`](crate::ToriiProvider).
//!
//! - **Theme**: light (the default), dark, or the system's choice (`prefers-color-scheme`).
//! - **Variables**: colours, radius, font and spacing, written as the stylesheet's `--torii-*`
//!   custom properties (so they win over the theme's).
//! - **Elements**: the application's own classes on documented slots ([`Slot`]): every card,
//!   title, input, primary button... of every component gets them after its own.
//! - **Layout**: a logo at the top of the sign-in and sign-up cards, and the provider buttons
//!   above or below the form.
//!
//! ```
//! use torii_client::{Appearance, Slot, SocialButtons, Theme};
//!
//! let appearance = Appearance::default()
//!     .theme(Theme::Dark)
//!     .variable("color-primary", "#0f766e")
//!     .variable("radius", "0.25rem")
//!     .class(Slot::ButtonPrimary, "shadow-lg")
//!     .logo("/logo.svg", "Acme")
//!     .social_buttons(SocialButtons::Bottom);
//! assert!(appearance.css().contains("--torii-color-primary: #0f766e;"));
//! ```
//!
//! The provider renders the theme and variables as one `<style>` element before its children
//! (nothing at all for the default appearance), the same on the server and in the browser.

use leptos::prelude::*;
use std::collections::BTreeMap;

/// The colour scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Theme {
    /// The stylesheet's own colours.
    #[default]
    Light,
    /// Light text on dark surfaces.
    Dark,
    /// Dark where the reader's system asks for it (`prefers-color-scheme: dark`).
    System,
}

/// Where the "Continue with …" provider buttons sit on the sign-in and sign-up cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SocialButtons {
    /// Above the email field (the default).
    #[default]
    Top,
    /// Below the form's buttons.
    Bottom,
}

/// The elements that take the application's classes ([`Appearance::class`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// Every card's root (`torii-card`).
    Card,
    /// A card's title (`torii-card-title`).
    Title,
    /// The line under a card's title (`torii-card-subtitle`).
    Subtitle,
    /// The line at the foot of a card (`torii-card-footer`).
    Footer,
    /// A field's label (`torii-label`).
    Label,
    /// A text input (`torii-input`).
    Input,
    /// The hint under a field (`torii-hint`).
    Hint,
    /// A field's error (`torii-field-error`).
    FieldError,
    /// A card's error line (`torii-alert`).
    Alert,
    /// A card's success line (`torii-notice`).
    Notice,
    /// The main button of a step (`torii-button-primary`).
    ButtonPrimary,
    /// Other buttons (`torii-button-secondary`).
    ButtonSecondary,
    /// A button that looks like a link (`torii-link`).
    Link,
    /// A "Continue with …" provider button (`torii-oauth-button`).
    ProviderButton,
    /// The "or" line between ways to sign in (`torii-divider`).
    Divider,
    /// The logo at the top of the sign-in and sign-up cards (`torii-logo`).
    Logo,
    /// A small mark beside a button, e.g. "Last used" on the sign-in card (`torii-badge`).
    Badge,
}

impl Slot {
    /// The component's own classes for the slot.
    #[must_use]
    pub fn base(self) -> &'static str {
        match self {
            Self::Card => "torii-card",
            Self::Title => "torii-card-title",
            Self::Subtitle => "torii-card-subtitle",
            Self::Footer => "torii-card-footer",
            Self::Label => "torii-label",
            Self::Input => "torii-input",
            Self::Hint => "torii-hint",
            Self::FieldError => "torii-field-error",
            Self::Alert => "torii-alert",
            Self::Notice => "torii-notice",
            Self::ButtonPrimary => "torii-button torii-button-primary",
            Self::ButtonSecondary => "torii-button torii-button-secondary",
            Self::Link => "torii-link",
            Self::ProviderButton => {
                "torii-button torii-button-secondary torii-button-block torii-oauth-button"
            }
            Self::Divider => "torii-divider",
            Self::Logo => "torii-logo",
            Self::Badge => "torii-badge",
        }
    }
}

/// The variables [`Appearance::variable`] accepts: each is the stylesheet's `--torii-{name}`.
pub const VARIABLES: [&str; 17] = [
    "font",
    "font-size",
    "color-primary",
    "color-primary-hover",
    "color-on-primary",
    "color-text",
    "color-muted",
    "color-background",
    "color-input-background",
    "color-border",
    "color-hover",
    "color-danger",
    "color-danger-background",
    "color-success",
    "color-success-background",
    "radius",
    "spacing",
];

/// The dark theme's values of the stylesheet's variables.
const DARK: [(&str, &str); 15] = [
    ("color-primary", "#818cf8"),
    ("color-primary-hover", "#a5b4fc"),
    ("color-on-primary", "#111827"),
    ("color-text", "#f3f4f6"),
    ("color-muted", "#b6bcc8"),
    ("color-background", "#111827"),
    ("color-input-background", "#1f2937"),
    ("color-border", "#4b5563"),
    ("color-hover", "#1f2937"),
    ("color-danger", "#fca5a5"),
    ("color-danger-background", "#3b1212"),
    ("color-success", "#6ee7b7"),
    ("color-success-background", "#0b2e22"),
    ("color-focus", "#93c5fd"),
    (
        "shadow",
        "0 1px 3px rgb(0 0 0 / 0.5), 0 8px 24px rgb(0 0 0 / 0.4)",
    ),
];

/// See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appearance {
    theme: Theme,
    variables: BTreeMap<&'static str, String>,
    classes: BTreeMap<Slot, String>,
    logo: Option<(String, String)>,
    social_buttons: SocialButtons,
}

impl Appearance {
    /// The colour scheme.
    #[must_use]
    pub fn theme(mut self, theme: Theme) -> Self {
        self.theme = theme;
        self
    }

    /// Sets one of [`VARIABLES`] (`color-primary`, `radius`, `font`...). A name that is not
    /// one of them, or a value that could end the declaration (`;`, braces, angle brackets),
    /// is left out with a warning in the console.
    #[must_use]
    pub fn variable(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        match VARIABLES.iter().find(|known| **known == name) {
            Some(known) if is_plain_value(&value) => {
                self.variables.insert(known, value);
            }
            Some(_) => leptos::logging::warn!("torii: the value of `{name}` was left out"),
            None => leptos::logging::warn!("torii: there is no appearance variable `{name}`"),
        }
        self
    }

    /// Adds the application's classes to every element of `slot`, after the component's own.
    #[must_use]
    pub fn class(mut self, slot: Slot, classes: impl Into<String>) -> Self {
        let classes = classes.into();
        let classes = classes.trim();
        if !classes.is_empty() {
            let entry = self.classes.entry(slot).or_default();
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(classes);
        }
        self
    }

    /// A logo at the top of the sign-in and sign-up cards: its URL and its text alternative
    /// (usually the application's name).
    #[must_use]
    pub fn logo(mut self, url: impl Into<String>, alt: impl Into<String>) -> Self {
        self.logo = Some((url.into(), alt.into()));
        self
    }

    /// Where the provider buttons sit.
    #[must_use]
    pub fn social_buttons(mut self, placement: SocialButtons) -> Self {
        self.social_buttons = placement;
        self
    }

    /// The classes of `slot`: the component's own, then the application's.
    #[must_use]
    pub fn classes(&self, slot: Slot) -> String {
        match self.classes.get(&slot) {
            Some(extra) => format!("{} {extra}", slot.base()),
            None => slot.base().to_owned(),
        }
    }

    /// The style sheet the provider renders: the theme's and the application's variables.
    /// Empty for the default appearance.
    #[must_use]
    pub fn css(&self) -> String {
        let mut css = String::new();
        let dark = declarations(DARK.iter().map(|(name, value)| (*name, *value)));
        match self.theme {
            Theme::Light => {}
            Theme::Dark => {
                css.push_str(":root {\n");
                css.push_str(&dark);
                css.push_str("  color-scheme: dark;\n}\n");
            }
            Theme::System => {
                css.push_str("@media (prefers-color-scheme: dark) {\n:root {\n");
                css.push_str(&dark);
                css.push_str("  color-scheme: dark;\n}\n}\n");
            }
        }
        if !self.variables.is_empty() {
            css.push_str(":root {\n");
            css.push_str(&declarations(
                self.variables
                    .iter()
                    .map(|(name, value)| (*name, value.as_str())),
            ));
            css.push_str("}\n");
        }
        css
    }

    /// The logo, if one was given: URL and text alternative.
    #[must_use]
    pub fn logo_source(&self) -> Option<(&str, &str)> {
        self.logo
            .as_ref()
            .map(|(url, alt)| (url.as_str(), alt.as_str()))
    }

    /// Where the provider buttons sit.
    #[must_use]
    pub fn social_buttons_placement(&self) -> SocialButtons {
        self.social_buttons
    }
}

fn declarations<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .map(|(name, value)| format!("  --torii-{name}: {value};\n"))
        .collect()
}

/// A value that stays inside its declaration.
fn is_plain_value(value: &str) -> bool {
    !value.trim().is_empty()
        && !value
            .chars()
            .any(|c| matches!(c, ';' | '{' | '}' | '<' | '>' | '\\') || c.is_control())
}

/// The appearance of the nearest provider.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Looks(pub(crate) Signal<Appearance>);

/// The appearance of the nearest provider (the default without one).
pub(crate) fn use_appearance() -> Signal<Appearance> {
    use_context::<Looks>().map_or_else(|| Signal::stored(Appearance::default()), |l| l.0)
}

/// The classes of `slot` as a reactive attribute value.
pub(crate) fn slot(slot: Slot) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let appearance = use_appearance();
    move || appearance.with(|a| a.classes(slot))
}

/// The classes of `slot` and a modifier of the component's own (`torii-button-block`).
pub(crate) fn slot_with(
    slot: Slot,
    modifier: &'static str,
) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let appearance = use_appearance();
    move || appearance.with(|a| format!("{} {modifier}", a.classes(slot)))
}

/// Whether the provider buttons go below the form (tracked).
#[cfg(feature = "oauth")]
pub(crate) fn social_buttons_below() -> Signal<bool> {
    let appearance = use_appearance();
    Signal::derive(move || {
        appearance.with(|a| a.social_buttons_placement() == SocialButtons::Bottom)
    })
}

/// The appearance's logo, if it has one, at the top of a card.
#[component]
pub(crate) fn CardLogo() -> impl IntoView {
    let appearance = use_appearance();
    move || {
        appearance.with(|a| {
            a.logo_source().map(|(url, alt)| {
                let (url, alt) = (url.to_owned(), alt.to_owned());
                view! { <img class=slot(Slot::Logo) src=url alt=alt /> }
            })
        })
    }
}

/// The provider's `<style>` element: nothing for the default appearance.
#[component]
pub(crate) fn AppearanceStyle(appearance: Signal<Appearance>) -> impl IntoView {
    let css = Memo::new(move |_| appearance.with(Appearance::css));
    move || {
        let css = css.get();
        (!css.is_empty()).then(|| view! { <style data-torii-appearance="">{css}</style> })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_appearance_adds_nothing() {
        let appearance = Appearance::default();
        assert_eq!(appearance.css(), "");
        assert_eq!(appearance.classes(Slot::Card), "torii-card");
        assert_eq!(appearance.logo_source(), None);
        assert_eq!(appearance.social_buttons_placement(), SocialButtons::Top);
    }

    #[test]
    fn variables_become_custom_properties_after_the_theme() {
        let css = Appearance::default()
            .theme(Theme::Dark)
            .variable("color-primary", "#0f766e")
            .variable("radius", "2px")
            .css();
        let dark = css.find("--torii-color-primary: #818cf8;").unwrap();
        let own = css.find("--torii-color-primary: #0f766e;").unwrap();
        assert!(dark < own, "the application's value must come last:\n{css}");
        assert!(css.contains("--torii-radius: 2px;"));
        assert!(css.contains("color-scheme: dark;"));
    }

    #[test]
    fn the_system_theme_follows_the_media_query() {
        let css = Appearance::default().theme(Theme::System).css();
        assert!(css.starts_with("@media (prefers-color-scheme: dark) {"));
    }

    #[test]
    fn unknown_variables_and_values_that_escape_are_left_out() {
        let css = Appearance::default()
            .variable("position", "fixed")
            .variable("color-text", "red; } body { display: none")
            .variable("font", "</style><script>")
            .css();
        assert_eq!(css, "");
    }

    #[test]
    fn classes_are_added_to_their_slot_after_the_components_own() {
        let appearance = Appearance::default()
            .class(Slot::ButtonPrimary, "btn")
            .class(Slot::ButtonPrimary, " btn-lg ")
            .class(Slot::Input, "  ");
        assert_eq!(
            appearance.classes(Slot::ButtonPrimary),
            "torii-button torii-button-primary btn btn-lg"
        );
        assert_eq!(appearance.classes(Slot::Input), "torii-input");
    }

    #[test]
    fn every_variable_is_one_the_stylesheet_reads() {
        let stylesheet = include_str!("style.css");
        for name in VARIABLES.iter().chain(DARK.iter().map(|(name, _)| name)) {
            assert!(
                stylesheet.contains(&format!("var(--torii-{name})")),
                "style.css never reads --torii-{name}"
            );
        }
    }
}
