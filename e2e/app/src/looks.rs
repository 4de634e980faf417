//! The header's controls for how the components look and speak: the forest theme (custom
//! properties on the root), the dark appearance (set from Rust through the provider), and
//! the language.

use leptos::prelude::*;
use torii_client::{Appearance, Locale, Slot, SocialButtons, Theme};

/// The second theme, set as `data-theme` on the root element.
const ALT_THEME: &str = "forest";

/// The components' language: `?lang=fr` in the address starts in French, else English.
pub fn initial_locale() -> Locale {
    let query = window().location().search().unwrap_or_default();
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Locale::builtin)
        .unwrap_or_default()
}

/// Switches the components between the default theme and [`ALT_THEME`], which only sets
/// `--torii-*` custom properties on the root element. `?theme=forest` starts on it.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let from_query = window()
        .location()
        .search()
        .is_ok_and(|query| query.contains(&format!("theme={ALT_THEME}")));
    let alt = RwSignal::new(from_query);
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = if alt.get() {
                root.set_attribute("data-theme", ALT_THEME)
            } else {
                root.remove_attribute("data-theme")
            };
        }
    });
    view! {
        <button
            class="demo-theme-toggle"
            type="button"
            aria-pressed=move || if alt.get() { "true" } else { "false" }
            on:click=move |_| alt.update(|alt| *alt = !*alt)
        >
            "Forest theme"
        </button>
    }
}

/// Whether the address's query holds `pair` (`appearance=dark`).
pub fn query_has(pair: &str) -> bool {
    let query = window().location().search().unwrap_or_default();
    query.trim_start_matches('?').split('&').any(|p| p == pair)
}

/// The demo's dark appearance, set from Rust: the dark theme, a rounder card, a class of the
/// demo's own on every card, a logo, and the provider buttons below the form.
pub fn dark_appearance() -> Appearance {
    Appearance::default()
        .theme(Theme::Dark)
        .variable("radius", "14px")
        .class(Slot::Card, "demo-card-dark")
        .logo(DEMO_LOGO, "Torii demo")
        .social_buttons(SocialButtons::Bottom)
}

/// The logo the dark appearance shows on the sign-in and sign-up cards.
const DEMO_LOGO: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' \
     viewBox='0 0 96 32'%3E%3Crect width='96' height='32' rx='8' fill='%23818cf8'/%3E\
     %3Ctext x='48' y='22' font-family='sans-serif' font-size='16' font-weight='700' \
     text-anchor='middle' fill='%23111827'%3ETorii%3C/text%3E%3C/svg%3E";

/// Switches the components between the default appearance and [`dark_appearance`].
/// `?appearance=dark` starts on it.
#[component]
pub fn DarkToggle(dark: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            class="demo-theme-toggle"
            type="button"
            data-testid="dark-appearance"
            aria-pressed=move || if dark.get() { "true" } else { "false" }
            on:click=move |_| dark.update(|dark| *dark = !*dark)
        >
            "Dark cards"
        </button>
    }
}

/// Switches the components' language in place (the demo's own words stay English).
#[component]
pub fn LanguagePicker(locale: RwSignal<Locale>) -> impl IntoView {
    let on_change = move |ev: leptos::ev::Event| {
        let tag = event_target_value(&ev);
        locale.set(Locale::builtin(&tag).unwrap_or_default());
    };
    let selected = move |tag: &'static str| move || locale.with(|l| l.lang == tag);
    view! {
        <label class="demo-language">
            <span class="demo-visually-hidden">"Language"</span>
            <select class="demo-language-select" on:change=on_change data-testid="language">
                <option value="en" selected=selected("en")>
                    "English"
                </option>
                <option value="fr" selected=selected("fr") lang="fr">
                    "Français"
                </option>
            </select>
        </label>
    }
}
