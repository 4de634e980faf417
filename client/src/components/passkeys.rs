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

use super::oauth::{ProfileReturn, ProfileTrip, take_profile_return};
use super::passkey_ceremony::{PasskeyError, add_passkey};
use super::reauthenticate::Reauth;
use super::{FormAlert, FormErrors, FormNotice, local_date, unique_prefix, with_class};
use crate::appearance::{Slot, slot};
use crate::i18n::{Message, fill, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use leptos::task::spawn_local;
use torii_shared::{PasskeyInfo, RenamePasskeyRequest};

/// Which request is in flight; one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Busy {
    Loading,
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
    let t = use_locale();
    let heading_id = format!("{}-title", unique_prefix("passkeys"));
    let labelled_by = heading_id.clone();
    view! {
        <section
            class="torii-profile-part torii-passkeys"
            aria-labelledby=labelled_by
            lang=t.lang()
        >
            <h3 class="torii-subtitle" id=heading_id>
                {t.text(|l| &l.passkeys.title)}
            </h3>
            <PasskeysBody back=None />
        </section>
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
    let passkeys = RwSignal::new(Vec::<PasskeyInfo>::new());
    let busy = RwSignal::new(Some(Busy::Loading));
    let errors = RwSignal::new(FormErrors::default());
    let notice = RwSignal::new(None::<Message>);
    let reauth = Reauth::new();
    show_return(back, notice, errors);

    let reload = move || {
        let Some(api) = auth.api() else { return };
        spawn_local(async move {
            let result = api.list_passkeys().await;
            busy.set(None);
            match result {
                Ok(list) => passkeys.set(list),
                Err(err) => errors.set(FormErrors::from_api(&err)),
            }
        });
    };
    reload();

    let add = move |_| {
        let Some(api) = auth.api() else { return };
        if busy.get_untracked().is_some() || reauth.is_open_untracked() {
            return;
        }
        reauth.note_focus();
        busy.set(Some(Busy::Adding));
        errors.set(FormErrors::default());
        notice.set(None);
        spawn_local(async move {
            match add_passkey(&api).await {
                Ok(added) => {
                    notice.set(Some(Message::Fill(
                        |l| &l.passkeys.added,
                        vec![("name", added.name)],
                    )));
                    reload();
                }
                Err(err) if err.needs_reauthentication() => {
                    busy.set(None);
                    if let PasskeyError::Api(refusal) = &err {
                        reauth.after(refusal);
                    }
                    // The browser's dialog needs a fresh press of the button.
                    reauth.ask(move || {
                        notice.set(Some(Message::Text(|l| &l.passkeys.add_again)));
                    });
                }
                Err(err) => {
                    busy.set(None);
                    errors.set(err.errors());
                }
            }
        });
    };

    let remove = StoredValue::new(None::<std::sync::Arc<dyn Fn(PasskeyInfo) + Send + Sync>>);
    remove.set_value(Some(std::sync::Arc::new(move |passkey: PasskeyInfo| {
        let Some(api) = auth.api() else { return };
        if busy.get_untracked().is_some() || reauth.is_open_untracked() {
            return;
        }
        reauth.note_focus();
        busy.set(Some(Busy::Removing(passkey.id.clone())));
        errors.set(FormErrors::default());
        notice.set(None);
        spawn_local(async move {
            match api.delete_passkey(&passkey.id).await {
                Ok(()) => {
                    notice.set(Some(Message::Fill(
                        |l| &l.passkeys.removed,
                        vec![("name", passkey.name.clone())],
                    )));
                    reload();
                }
                Err(err) if err.needs_reauthentication() => {
                    busy.set(None);
                    reauth.after(&err).ask(move || {
                        if let Some(again) = remove.get_value() {
                            again(passkey.clone());
                        }
                    });
                }
                Err(err) => {
                    busy.set(None);
                    errors.set(FormErrors::from_api(&err));
                }
            }
        });
    })));
    let remove = move |passkey: PasskeyInfo| {
        if let Some(remove) = remove.get_value() {
            remove(passkey);
        }
    };

    // The passkey being renamed, and the name typed so far.
    let editing = RwSignal::new(None::<String>);
    let new_name = RwSignal::new(String::new());
    let save_name = move |id: String| {
        let Some(api) = auth.api() else { return };
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(Busy::Renaming(id.clone())));
        errors.set(FormErrors::default());
        notice.set(None);
        let request = RenamePasskeyRequest {
            name: new_name.get_untracked(),
        };
        spawn_local(async move {
            match api.rename_passkey(&id, &request).await {
                Ok(renamed) => {
                    editing.set(None);
                    notice.set(Some(Message::Fill(
                        |l| &l.passkeys.renamed,
                        vec![("name", renamed.name)],
                    )));
                    reload();
                }
                Err(err) => {
                    busy.set(None);
                    errors.set(FormErrors::from_api(&err));
                }
            }
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
                            disabled=move || busy.get().is_some()
                        >
                            {t.text(|l| &l.common.save)}
                        </button>
                        <button class=slot(Slot::Link) type="button" on:click=move |_| editing.set(None)>
                            {t.text(|l| &l.common.cancel)}
                        </button>
                    </form>
                }
            })
        };
        let (created_at, last_used_at) = (passkey.created_at, passkey.last_used_at);
        let dates = move || {
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
        };
        let label = t.fill(
            |l| &l.passkeys.remove_label,
            vec![("name", passkey.name.clone())],
        );
        let removing_id = passkey.id.clone();
        let removing =
            Signal::derive(move || busy.get() == Some(Busy::Removing(removing_id.clone())));
        view! {
            <li class="torii-passkey" data-testid="passkey">
                <span class="torii-passkey-name">{passkey.name.clone()}</span>
                <span class="torii-muted">{dates}</span>
                {rename_form}
                <button
                    class=slot(Slot::Link)
                    type="button"
                    aria-label=rename_label
                    disabled=move || busy.get().is_some() || reauth.is_open()
                    on:click=start_rename
                >
                    {t.text(|l| &l.passkeys.rename)}
                </button>
                <button
                    class=slot(Slot::ButtonSecondary)
                    type="button"
                    aria-label=label
                    disabled=move || busy.get().is_some() || reauth.is_open()
                    aria-busy=move || removing.get().then_some("true")
                    on:click=move |_| remove(passkey.clone())
                >
                    {t.either(
                        move || removing.get(),
                        |l| &l.common.removing,
                        |l| &l.common.remove,
                    )}
                </button>
            </li>
        }
    };

    view! {
        <div class="torii-passkeys-body">
            <p class="torii-text torii-muted">
                {t.text(|l| &l.passkeys.intro)}
            </p>
            <FormAlert errors=errors />
            {reauth.view()}
            <FormNotice notice=notice />
            {move || {
                if busy.get() == Some(Busy::Loading) {
                    view! {
                        <p class="torii-text" role="status">
                            {t.text(|l| &l.common.loading)}
                        </p>
                    }
                    .into_any()
                } else if passkeys.with(Vec::is_empty) {
                    view! { <p class="torii-text">{t.text(|l| &l.passkeys.none)}</p> }.into_any()
                } else {
                    view! { <ul class="torii-passkey-list">{passkeys.get().into_iter().map(item).collect_view()}</ul> }
                        .into_any()
                }
            }}
            <button
                class=slot(Slot::ButtonPrimary)
                type="button"
                disabled=move || busy.get().is_some() || reauth.is_open()
                aria-busy=move || (busy.get() == Some(Busy::Adding)).then_some("true")
                on:click=add
            >
                {t.either(
                    move || busy.get() == Some(Busy::Adding),
                    |l| &l.passkeys.adding,
                    |l| &l.passkeys.add,
                )}
            </button>
        </div>
    }
}
