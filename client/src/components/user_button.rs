//! `<UserButton>`: the signed-in user's avatar (their initials) opening a menu with their name
//! and email, "Manage account" and "Sign out".
//!
//! The menu follows the WAI-ARIA menu button pattern: the button says `aria-haspopup="menu"`
//! and `aria-expanded`; Enter, Space or ArrowDown open the menu on its first item, ArrowUp on
//! its last; in the menu ArrowDown/ArrowUp move (wrapping), Home/End jump, Escape closes it
//! and gives the focus back to the button, and focus leaving the menu (Tab, a click
//! elsewhere) closes it.

use super::buttons::sign_out_through;
use super::unique_prefix;
use crate::appearance::{Slot, slot};
use crate::form::FormState;
use crate::i18n::use_locale;
use crate::provider::use_auth;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The initials an avatar shows: the first letters of the first and last words of the name,
/// else the first letter of the email.
pub(crate) fn initials(name: Option<&str>, email: &str) -> String {
    let words: Vec<&str> = name.unwrap_or_default().split_whitespace().collect();
    let first_letter = |word: &str| word.chars().next().map(|c| c.to_uppercase().collect());
    match words.as_slice() {
        [] => email
            .chars()
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_else(|| "?".to_owned()),
        [only] => first_letter(only).unwrap_or_default(),
        [first, .., last] => {
            let mut out: String = first_letter(first).unwrap_or_default();
            out.push_str(&first_letter(last).unwrap_or_default());
            out
        }
    }
}

/// Which item of the menu to focus when it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Focus {
    First,
    Last,
}

/// The avatar button and its account menu; renders nothing when signed out.
///
/// "Manage account" goes to `profile_url` (through the provider's `navigate`, else a page
/// load) and is left out without one. "Sign out" signs out, and every other tab of the
/// origin follows. `class` is added to the root element's classes.
#[component]
pub fn UserButton(
    /// Where the user's profile (`<UserProfile>`) is, e.g. `/profile`.
    #[prop(optional, into)]
    profile_url: Option<String>,
    /// Extra classes on the root element, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let prefix = unique_prefix("user-button");
    let open = RwSignal::new(false);
    let signing_out = FormState::<()>::new();
    let button_ref = NodeRef::<html::Button>::new();
    let menu_ref = NodeRef::<html::Div>::new();
    let root_ref = NodeRef::<html::Div>::new();
    let menu_id = format!("{prefix}-menu");
    let root_class = super::with_class("torii-user-button", class);
    let profile_url = StoredValue::new(profile_url);

    let items = move || -> Vec<web_sys::HtmlElement> {
        let Some(menu) = menu_ref.get_untracked() else {
            return Vec::new();
        };
        let Ok(list) = menu.query_selector_all("[role=menuitem]") else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
            .collect()
    };
    let focus_item = move |which: Focus| {
        request_animation_frame(move || {
            let items = items();
            let item = match which {
                Focus::First => items.first(),
                Focus::Last => items.last(),
            };
            if let Some(item) = item {
                let _ = item.focus();
            }
        });
    };
    let close = move |refocus: bool| {
        open.set(false);
        if refocus && let Some(button) = button_ref.get_untracked() {
            let _ = button.focus();
        }
    };
    let open_at = move |which: Focus| {
        signing_out.clear();
        open.set(true);
        focus_item(which);
    };

    let on_button_click = move |_| {
        if open.get_untracked() {
            close(false);
        } else {
            open_at(Focus::First);
        }
    };
    let on_button_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" => {
            ev.prevent_default();
            open_at(Focus::First);
        }
        "ArrowUp" => {
            ev.prevent_default();
            open_at(Focus::Last);
        }
        _ => {}
    };
    let on_menu_key = move |ev: leptos::ev::KeyboardEvent| {
        let items = items();
        let active = document().active_element();
        let index = items
            .iter()
            .position(|item| active.as_ref().is_some_and(|a| a == item.unchecked_ref()));
        let target = match ev.key().as_str() {
            "Escape" => {
                ev.prevent_default();
                close(true);
                return;
            }
            "Tab" => {
                close(false);
                return;
            }
            "ArrowDown" => index.map_or(0, |i| (i + 1) % items.len().max(1)),
            "ArrowUp" => index.map_or(items.len().saturating_sub(1), |i| {
                (i + items.len().saturating_sub(1)) % items.len().max(1)
            }),
            "Home" => 0,
            "End" => items.len().saturating_sub(1),
            _ => return,
        };
        ev.prevent_default();
        if let Some(item) = items.get(target) {
            let _ = item.focus();
        }
    };
    // Focus moving outside the component (Tab, a click elsewhere) closes the menu.
    let on_focus_out = move |ev: leptos::ev::FocusEvent| {
        let inside = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
            .zip(root_ref.get_untracked())
            .is_some_and(|(target, root)| root.contains(Some(&target)));
        if !inside {
            open.set(false);
        }
    };
    let manage = move |_| {
        close(false);
        if let Some(url) = profile_url.get_value() {
            auth.navigate_to(&url);
        }
    };
    let sign_out = move |_| sign_out_through(signing_out, auth, move || open.set(false));

    move || {
        let user = auth.user.get()?;
        let label = t.fill(
            |l| &l.user_button.menu_button,
            vec![(
                "name",
                user.name.clone().unwrap_or_else(|| user.email.clone()),
            )],
        );
        let avatar = initials(user.name.as_deref(), &user.email);
        let menu_id = menu_id.clone();
        let controls = menu_id.clone();
        let has_profile = profile_url.with_value(Option::is_some);
        Some(view! {
            <div class=root_class node_ref=root_ref on:focusout=on_focus_out lang=t.lang()>
                <button
                    class="torii-user-button-trigger"
                    type="button"
                    aria-haspopup="menu"
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    aria-controls=move || open.get().then(|| controls.clone())
                    aria-label=label
                    node_ref=button_ref
                    on:click=on_button_click
                    on:keydown=on_button_key
                >
                    <span class="torii-avatar" aria-hidden="true">
                        {avatar}
                    </span>
                </button>
                <div class="torii-user-menu" hidden=move || !open.get() lang=t.lang()>
                    <div class="torii-user-menu-header">
                        {user
                            .name
                            .clone()
                            .map(|name| view! { <p class="torii-user-menu-name">{name}</p> })}
                        <p class="torii-user-menu-email">{user.email.clone()}</p>
                    </div>
                    <div
                        role="menu"
                        id=menu_id
                        aria-label=t.text(|l| &l.user_button.menu)
                        node_ref=menu_ref
                        on:keydown=on_menu_key
                    >
                        {has_profile
                            .then(|| {
                                view! {
                                    <button
                                        class="torii-user-menu-item"
                                        type="button"
                                        role="menuitem"
                                        tabindex="-1"
                                        on:click=manage
                                    >
                                        {t.text(|l| &l.user_button.manage_account)}
                                    </button>
                                }
                            })}
                        <button
                            class="torii-user-menu-item"
                            type="button"
                            role="menuitem"
                            tabindex="-1"
                            aria-disabled=move || signing_out.is_any_busy().then_some("true")
                            on:click=sign_out
                        >
                            {t.either(
                                move || signing_out.is_any_busy(),
                                |l| &l.common.signing_out,
                                |l| &l.common.sign_out,
                            )}
                        </button>
                    </div>
                    {move || {
                        signing_out
                            .error_text(t)
                            .map(|message| {
                                view! {
                                    <p class=slot(Slot::Alert) role="alert">
                                        {message}
                                    </p>
                                }
                            })
                    }}
                </div>
            </div>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_come_from_the_name_else_the_email() {
        assert_eq!(initials(Some("Ada Lovelace"), "ada@example.com"), "AL");
        assert_eq!(
            initials(Some("Grace Brewster Hopper"), "g@example.com"),
            "GH"
        );
        assert_eq!(initials(Some("  émile "), "e@example.com"), "É");
        assert_eq!(initials(None, "zoe@example.com"), "Z");
        assert_eq!(initials(Some("   "), "bob@example.com"), "B");
        assert_eq!(initials(None, ""), "?");
    }
}
