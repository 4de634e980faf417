//! `<Passkeys>`: the signed-in user's passkeys (name, added, last used), "Add a passkey",
//! and "Rename" (inline) and "Remove" for each (the ceremonies are in
//! [`super::passkey_ceremony`]).
//! The same list is a part of `<UserProfile>`'s security section ([`PasskeysSection`]).
//!
//! Adding runs `POST /v1/passkeys/registration/options` → the browser's passkey dialog →
//! `POST /v1/passkeys`, then lists again. Removing the last way to sign in is refused by the
//! server, and its message is shown. Adding and removing need a recent sign-in: when the
//! server asks for one, the re-authentication prompt opens in the list; afterwards a removal
//! goes on by itself, while an addition waits for the user to press "Add a passkey" again
//! (browsers only open their passkey dialog right after a press).

use super::guarded::{GuardedForm, Retry};
use super::item_list::{ItemRow, item_list, listing};
use super::kit::{BusyButton, ButtonRole, LinkButton};
use super::oauth::{ProfileReturn, ProfileTrip, take_profile_return};
use super::passkey_ceremony::add_passkey;
use super::{FormErrors, ProfilePart, local_date, unique_prefix, with_class};
use crate::appearance::{Slot, slot};
use crate::i18n::{Message, fill, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::{PasskeyInfo, RenamePasskeyRequest};

/// Which change is in flight; one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Busy {
    Adding,
    Removing(String),
    Renaming(String),
}

/// The signed-in user's passkeys, with "Add a passkey" and a "Remove" button for each, as a
/// card of its own. Render it inside `<SignedIn>`. (`<UserProfile>` shows the same list in
/// its security section when the environment offers passkeys.)
#[component]
pub fn Passkeys(
    /// Extra classes on the root element, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let t = use_locale();
    let heading_id = format!("{}-title", unique_prefix("passkeys"));
    let root_class = with_class("torii-card torii-passkeys", class);
    // Back from confirming who the user is with a provider (see `<UserProfile>`, which reads
    // this itself when it holds the list).
    let back = take_profile_return();
    let labelled_by = heading_id.clone();
    view! {
        <section class=root_class aria-labelledby=labelled_by lang=t.lang()>
            <h2 class=slot(Slot::Title) id=heading_id>
                {t.text(|l| &l.passkeys.title)}
            </h2>
            <PasskeysBody back=back />
        </section>
    }
}

/// The list inside `<UserProfile>`'s security section: a sub-section with its own heading.
#[component]
pub(crate) fn PasskeysSection() -> impl IntoView {
    view! {
        <ProfilePart class="torii-passkeys" title=|l| &l.passkeys.title>
            <PasskeysBody back=None />
        </ProfilePart>
    }
}

/// What a trip to a provider came back with, as the list's notice or error.
fn show_return(
    back: Option<ProfileReturn>,
    notice: RwSignal<Option<Message>>,
    errors: RwSignal<FormErrors>,
) {
    match back {
        Some(ProfileReturn::Done(ProfileTrip::Reauthenticate)) => {
            notice.set(Some(Message::Text(|l| &l.reauth.confirmed)));
        }
        Some(ProfileReturn::Failed(message)) => errors.set(FormErrors::message(message)),
        Some(ProfileReturn::Done(ProfileTrip::Link)) | None => {}
    }
}

#[component]
fn PasskeysBody(back: Option<ProfileReturn>) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let passkeys = listing(|api| async move { api.list_passkeys().await });
    let guarded = GuardedForm::<Busy>::new();
    let form = guarded.form;
    show_return(back, form.notice, form.errors);
    let open = Signal::derive(move || !guarded.reauth.is_open());

    let add = move || {
        let Some(api) = auth.api() else { return };
        let request = async move { add_passkey(&api).await };
        let done = move |added: PasskeyInfo| {
            let name = vec![("name", added.name)];
            form.notice
                .set(Some(Message::Fill(|l| &l.passkeys.added, name)));
            passkeys.refetch();
        };
        // The browser's dialog needs a fresh press of the button.
        let again = move || {
            form.notice
                .set(Some(Message::Text(|l| &l.passkeys.add_again)));
        };
        guarded.run(Busy::Adding, request, done, again);
    };

    let remove = Retry::new(move |passkey: PasskeyInfo, again| {
        let Some(api) = auth.api() else { return };
        let id = passkey.id.clone();
        let request = async move { api.delete_passkey(&id).await };
        let name = passkey.name.clone();
        let done = move |()| {
            let name = vec![("name", name)];
            form.notice
                .set(Some(Message::Fill(|l| &l.passkeys.removed, name)));
            passkeys.refetch();
        };
        let what = Busy::Removing(passkey.id.clone());
        guarded.run(what, request, done, move || again.call(passkey.clone()));
    });

    // The passkey being renamed, and the name typed so far.
    let editing = RwSignal::new(None::<String>);
    let new_name = RwSignal::new(String::new());
    let save_name = move |id: String| {
        let Some(api) = auth.api() else { return };
        let request = RenamePasskeyRequest {
            name: new_name.get_untracked(),
        };
        let what = Busy::Renaming(id.clone());
        let request = async move { api.rename_passkey(&id, &request).await };
        form.run(what, request, move |renamed| {
            editing.set(None);
            let name = vec![("name", renamed.name)];
            form.notice
                .set(Some(Message::Fill(|l| &l.passkeys.renamed, name)));
            passkeys.refetch();
        });
    };

    let item = move |passkey: PasskeyInfo| {
        let rename_id = passkey.id.clone();
        let is_editing = {
            let id = passkey.id.clone();
            Signal::derive(move || editing.with(|e| e.as_deref() == Some(id.as_str())))
        };
        let start_rename = {
            let id = passkey.id.clone();
            let name = passkey.name.clone();
            move |_| {
                new_name.set(name.clone());
                editing.set(Some(id.clone()));
            }
        };
        let rename_label = t.fill(
            |l| &l.passkeys.rename_label,
            vec![("name", passkey.name.clone())],
        );
        let rename_form = move || {
            let id = rename_id.clone();
            is_editing.get().then(|| {
                // The field replaces nothing the focus was on: take it, for keyboard users.
                let input = NodeRef::<leptos::html::Input>::new();
                Effect::new(move |_| {
                    if let Some(input) = input.get() {
                        let _ = input.focus();
                    }
                });
                view! {
                    <form
                        class="torii-row"
                        on:submit=move |ev: leptos::ev::SubmitEvent| {
                            ev.prevent_default();
                            save_name(id.clone());
                        }
                    >
                        <input
                            class=slot(Slot::Input)
                            aria-label=t.text(|l| &l.passkeys.name_label)
                            maxlength="64"
                            node_ref=input
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "Escape" {
                                    editing.set(None);
                                }
                            }
                            bind:value=new_name
                        />
                        <button
                            class=slot(Slot::ButtonSecondary)
                            type="submit"
                            disabled=move || form.is_any_busy()
                        >
                            {t.text(|l| &l.common.save)}
                        </button>
                        <LinkButton label=|l| &l.common.cancel on_click=move |()| editing.set(None) />
                    </form>
                }
            })
        };
        let (created_at, last_used_at) = (passkey.created_at, passkey.last_used_at);
        let dates = Signal::derive(move || {
            t.with(|l| {
                let last_used = last_used_at
                    .map_or_else(|| l.passkeys.never.to_string(), |at| local_date(l, at));
                format!(
                    "{} · {}",
                    fill(
                        &l.passkeys.added_on,
                        &[("date", &local_date(l, created_at))]
                    ),
                    fill(&l.passkeys.last_used, &[("date", &last_used)]),
                )
            })
        });
        let remove_label = t.fill(
            |l| &l.passkeys.remove_label,
            vec![("name", passkey.name.clone())],
        );
        let what = Busy::Removing(passkey.id.clone());
        let name = passkey.name.clone();
        view! {
            <ItemRow class="torii-passkey" testid="passkey" name=name details=dates>
                {rename_form}
                <button
                    class=slot(Slot::Link)
                    type="button"
                    aria-label=rename_label
                    disabled=move || guarded.is_locked()
                    on:click=start_rename
                >
                    {t.text(|l| &l.passkeys.rename)}
                </button>
                <BusyButton
                    form=form
                    what=what
                    label=|l| &l.common.remove
                    busy_label=|l| &l.common.removing
                    role=ButtonRole::Inline
                    ready=open
                    aria_label=remove_label
                    on_click=Callback::new({
                        let passkey = passkey.clone();
                        move |()| remove.call(passkey.clone())
                    })
                />
            </ItemRow>
        }
    };

    view! {
        <div class="torii-passkeys-body">
            <p class="torii-text torii-muted">
                {t.text(|l| &l.passkeys.intro)}
            </p>
            {guarded.outcome()}
            {item_list(passkeys, "torii-passkey-list", |l| &l.common.loading, |l| &l.passkeys.none, item)}
            <BusyButton
                form=form
                what=Busy::Adding
                label=|l| &l.passkeys.add
                busy_label=|l| &l.passkeys.adding
                role=ButtonRole::Primary
                ready=open
                on_click=Callback::new(move |()| add())
            />
        </div>
    }
}
