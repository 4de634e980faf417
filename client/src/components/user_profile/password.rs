//! The profile's password form: change it (current and new, and whether to sign out every
//! other session), or set one for an account without it, after a recent sign-in.

use super::{Action, notice_view};
use crate::components::reauthenticate::Reauth;
use crate::components::{Field, FormAlert, field_error, unique_prefix};
use crate::provider::use_auth;
use leptos::prelude::*;
use leptos::task::spawn_local;
use torii_shared::{ChangePasswordRequest, Secret};

#[component]
pub(super) fn PasswordForm(sessions_version: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("profile-password");
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let sign_out_others = RwSignal::new(false);
    let action = Action::new();
    let reauth = Reauth::new();
    let checkbox_id = format!("{prefix}-others");
    // Whether the account has a password: until the server says, as if it had one.
    let has_password = RwSignal::new(true);
    if let Some(api) = auth.api() {
        spawn_local(async move {
            if let Ok(methods) = api.account_methods().await {
                has_password.set(methods.password);
            }
        });
    }
    // The request, kept where it can call itself again after a re-authentication.
    let change_slot = StoredValue::new(None::<std::sync::Arc<dyn Fn() + Send + Sync>>);
    let change = move || {
        let Some(api) = auth.api() else { return };
        if reauth.is_open_untracked() || !action.start() {
            return;
        }
        reauth.note_focus();
        let current_value = current.get_untracked();
        let request = ChangePasswordRequest {
            current_password: (has_password.get_untracked() && !current_value.is_empty())
                .then(|| Secret::new(current_value)),
            new_password: Secret::new(new_password.get_untracked()),
            sign_out_other_sessions: sign_out_others.get_untracked(),
        };
        spawn_local(async move {
            match api.change_password(&request).await {
                Ok(changed) => {
                    let verb = if has_password.get_untracked() {
                        "changed"
                    } else {
                        "set"
                    };
                    current.set(String::new());
                    new_password.set(String::new());
                    has_password.set(true);
                    let message = match changed.revoked_sessions {
                        0 => format!("Your password was {verb}."),
                        1 => {
                            format!("Your password was {verb}, and 1 other session was signed out.")
                        }
                        n => format!(
                            "Your password was {verb}, and {n} other sessions were signed out."
                        ),
                    };
                    action.succeed(message);
                    sessions_version.update(|v| *v += 1);
                }
                // Only without a password: a current one is itself the proof.
                Err(err) if err.needs_reauthentication() => {
                    action.busy.set(false);
                    reauth.after(&err).ask(move || {
                        if let Some(again) = change_slot.get_value() {
                            again();
                        }
                    });
                }
                Err(err) => action.fail(&err),
            }
        });
    };
    change_slot.set_value(Some(std::sync::Arc::new(change)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change();
    };
    let current_id = format!("{prefix}-current");
    let current_field = move || {
        has_password.get().then(|| {
            view! {
                <Field
                    id=current_id.clone()
                    name="currentPassword"
                    label="Current password"
                    input_type="password"
                    autocomplete="current-password"
                    value=current
                    error=field_error(action.errors, "currentPassword")
                />
            }
        })
    };
    view! {
        <div class="torii-form torii-profile-password">
            <h3 class="torii-subtitle">
                {move || if has_password.get() { "Password" } else { "Set a password" }}
            </h3>
            {move || {
                (!has_password.get())
                    .then(|| {
                        view! {
                            <p class="torii-text torii-muted">
                                "Your account has no password yet: add one to sign in with your email too."
                            </p>
                        }
                    })
            }}
            <FormAlert errors=action.errors />
            {notice_view(action.notice)}
            // Outside the form below: the prompt has a form of its own.
            {reauth.view()}
            <form class="torii-form" novalidate=true on:submit=submit>
                {current_field}
                <Field
                    id=format!("{prefix}-new")
                    name="newPassword"
                    label="New password"
                    input_type="password"
                    autocomplete="new-password"
                    hint="At least 8 characters."
                    required=true
                    value=new_password
                    error=field_error(action.errors, "newPassword")
                />
                <div class="torii-field torii-consent">
                    <input
                        class="torii-checkbox"
                        id=checkbox_id.clone()
                        type="checkbox"
                        bind:checked=sign_out_others
                    />
                    <label for=checkbox_id>"Sign out of all other sessions"</label>
                </div>
                <button
                    class="torii-button torii-button-primary"
                    type="submit"
                    disabled=move || action.busy.get() || reauth.is_open()
                    aria-busy=move || action.busy.get().then_some("true")
                >
                    {move || match (action.busy.get(), has_password.get()) {
                        (true, _) => "Saving…",
                        (false, true) => "Change password",
                        (false, false) => "Set password",
                    }}
                </button>
            </form>
        </div>
    }
}
