//! The profile's password form: change it (current and new, and whether to sign out every
//! other session), or set one for an account without it, after a recent sign-in.

use crate::api::ApiError;
use crate::appearance::{Slot, slot};
use crate::components::guarded::{GuardedForm, Retry};
use crate::components::{Field, FieldKind, unique_prefix};
use crate::i18n::{Message, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::{ChangePasswordRequest, PasswordChanged, Secret};

#[component]
pub(super) fn PasswordForm(sessions_version: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let prefix = unique_prefix("profile-password");
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let sign_out_others = RwSignal::new(false);
    let guarded = GuardedForm::<()>::new();
    let action = guarded.form;
    let checkbox_id = format!("{prefix}-others");
    // Whether the account has a password: until the server says, as if it had one.
    let has_password = RwSignal::new(true);
    let methods = LocalResource::new(move || {
        let api = auth.api();
        async move { api.ok_or(ApiError::Network)?.account_methods().await }
    });
    Effect::new(move |_| {
        if let Some(Ok(found)) = methods.get() {
            has_password.set(found.password);
        }
    });
    // The request, kept where it can make itself again after a re-authentication (only
    // without a password: a current one is itself the proof).
    let change = Retry::new(move |(), again| {
        let Some(api) = auth.api() else { return };
        let current_value = current.get_untracked();
        let request = ChangePasswordRequest {
            current_password: (has_password.get_untracked() && !current_value.is_empty())
                .then(|| Secret::new(current_value)),
            new_password: Secret::new(new_password.get_untracked()),
            sign_out_other_sessions: sign_out_others.get_untracked(),
        };
        let request = async move { api.change_password(&request).await };
        let done = move |changed: PasswordChanged| {
            let had_password = has_password.get_untracked();
            current.set(String::new());
            new_password.set(String::new());
            has_password.set(true);
            let message = match (changed.revoked_sessions, had_password) {
                (0, true) => Message::Text(|l| &l.profile.password_changed),
                (0, false) => Message::Text(|l| &l.profile.password_set),
                (n, true) => Message::Count(|l| &l.profile.password_changed_sessions, n),
                (n, false) => Message::Count(|l| &l.profile.password_set_sessions, n),
            };
            action.notice.set(Some(message));
            sessions_version.update(|v| *v += 1);
        };
        guarded.run((), request, done, move || again.call(()));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change.call(());
    };
    let current_id = format!("{prefix}-current");
    let current_field = move || {
        has_password.get().then(|| {
            view! {
                <Field
                    id=current_id.clone()
                    kind=FieldKind::CURRENT_PASSWORD
                        .named("currentPassword")
                        .labelled(|l| &l.profile.current_password)
                    value=current
                    errors=action.errors
                    optional=true
                />
            }
        })
    };
    view! {
        <div class="torii-form torii-profile-password">
            <h3 class="torii-subtitle">
                {t.either(
                    move || has_password.get(),
                    |l| &l.common.password,
                    |l| &l.profile.set_password_title,
                )}
            </h3>
            {move || {
                (!has_password.get())
                    .then(|| {
                        view! {
                            <p class="torii-text torii-muted">
                                {t.text(|l| &l.profile.no_password)}
                            </p>
                        }
                    })
            }}
            // Outside the form below: the prompt has a form of its own.
            {guarded.outcome()}
            <form class="torii-form" novalidate=true on:submit=submit>
                {current_field}
                <Field
                    id=format!("{prefix}-new")
                    kind=FieldKind::NEW_PASSWORD
                        .named("newPassword")
                        .labelled(|l| &l.profile.new_password)
                    value=new_password
                    errors=action.errors
                />
                <div class="torii-field torii-consent">
                    <input
                        class="torii-checkbox"
                        id=checkbox_id.clone()
                        type="checkbox"
                        bind:checked=sign_out_others
                    />
                    <label for=checkbox_id>{t.text(|l| &l.sessions.sign_out_others)}</label>
                </div>
                <button
                    class=slot(Slot::ButtonPrimary)
                    type="submit"
                    disabled=move || guarded.is_locked()
                    aria-busy=move || action.is_any_busy().then_some("true")
                >
                    {move || {
                        let pick: crate::i18n::Pick = match (action.is_any_busy(), has_password.get()) {
                            (true, _) => |l| &l.common.saving,
                            (false, true) => |l| &l.profile.change_password,
                            (false, false) => |l| &l.profile.set_password,
                        };
                        t.text(pick)()
                    }}
                </button>
            </form>
        </div>
    }
}
