//! The profile's *Account* section: the display name and the email address (the change and
//! its states are described in the profile's module documentation).

use super::SectionForm;
use crate::appearance::{Slot, slot};
use crate::components::guarded::{GuardedForm, Retry};
use crate::components::kit::BusyButton;
use crate::components::{Field, FieldKind, FormAlert, FormNotice, unique_prefix};
use crate::form::normalise_code;
use crate::i18n::{Message, Pick, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::{ChangeEmailRequest, Secret, UpdateProfileRequest, VerifyCodeRequest};

#[component]
pub(super) fn NameForm() -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("profile-name");
    let current = move || {
        auth.user
            .with_untracked(|u| u.as_ref().and_then(|u| u.name.clone()))
    };
    let name = RwSignal::new(current().unwrap_or_default());
    let action = SectionForm::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(api) = auth.api() else { return };
        let request = UpdateProfileRequest {
            name: Some(name.get_untracked()),
        };
        let request = async move { api.update_profile(&request).await };
        action.run((), request, move |me| {
            let saved = me
                .user
                .as_ref()
                .and_then(|u| u.name.clone())
                .unwrap_or_default();
            name.set(saved);
            auth.accept(me);
            action
                .notice
                .set(Some(Message::Text(|l| &l.profile.name_saved)));
        });
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <FormAlert errors=action.errors />
            <FormNotice notice=action.notice />
            <Field
                id=format!("{prefix}-name")
                kind=FieldKind::NAME.labelled(|l| &l.profile.name)
                value=name
                errors=action.errors
                optional=true
            />
            <BusyButton
                form=action
                what=()
                label=|l| &l.profile.save_name
                busy_label=|l| &l.common.saving
            />
        </form>
    }
}

/// Where the email change stands; see the module documentation. (The re-authentication
/// prompt, when the server asks for it, stands in for *Enter* while it is open.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EmailStep {
    Idle,
    Enter,
    Code,
}

#[component]
pub(super) fn EmailForm() -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let prefix = unique_prefix("profile-email");
    let step = RwSignal::new(EmailStep::Idle);
    let new_email = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let guarded = GuardedForm::<()>::new();
    let (action, reauth) = (guarded.form, guarded.reauth);
    let email = move || auth.user.with(|u| u.as_ref().map(|u| u.email.clone()));
    let verified = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.email_verified))
    };

    // The request, kept where it can make itself again after a re-authentication.
    let send_code = Retry::new(move |(), again| {
        let Some(api) = auth.api() else { return };
        let email = new_email.get_untracked();
        let request = ChangeEmailRequest {
            email: email.clone(),
        };
        let request = async move { api.start_email_change(&request).await };
        let done = move |_| {
            code.set(String::new());
            step.set(EmailStep::Code);
            let sent = vec![("email", email.trim().to_owned())];
            action
                .notice
                .set(Some(Message::Fill(|l| &l.common.code_sent_to, sent)));
        };
        guarded.run((), request, done, move || again.call(()));
    });
    let verify = move |()| {
        let Some(api) = auth.api() else { return };
        let request = VerifyCodeRequest {
            code: Secret::new(normalise_code(&code.get_untracked())),
        };
        let request = async move { api.verify_email_change(&request).await };
        action.run((), request, move |me| {
            let now = me
                .user
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default();
            auth.accept(me);
            step.set(EmailStep::Idle);
            new_email.set(String::new());
            let changed = Message::Fill(|l| &l.profile.email_changed, vec![("email", now)]);
            action.notice.set(Some(changed));
        });
    };

    let cancel = Callback::new(move |()| {
        step.set(EmailStep::Idle);
        action.clear();
    });
    // A step of one field: its button, then "Cancel".
    let one_field_step = move |(id, kind, value): (String, FieldKind, RwSignal<String>),
                               form: SectionForm,
                               (label, busy_label): (Pick, Pick),
                               submit: Callback<()>| {
        view! {
            <form
                class="torii-form"
                novalidate=true
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    submit.run(());
                }
            >
                <Field id=id kind=kind value=value errors=form.errors autofocus=true />
                <div class="torii-row">
                    <BusyButton form=form what=() label=label busy_label=busy_label />
                    <button
                        class=slot(Slot::ButtonSecondary)
                        type="button"
                        on:click=move |_| cancel.run(())
                    >
                        {t.text(|l| &l.common.cancel)}
                    </button>
                </div>
            </form>
        }
    };
    let body = move || {
        if reauth.is_open() {
            return reauth.view().into_any();
        }
        match step.get() {
            EmailStep::Idle => view! {
                <button
                    class=slot(Slot::ButtonSecondary)
                    type="button"
                    on:click=move |_| {
                        action.clear();
                        step.set(EmailStep::Enter);
                    }
                >
                    {t.text(|l| &l.profile.change_email)}
                </button>
            }
            .into_any(),
            EmailStep::Enter => one_field_step(
                (format!("{prefix}-new"), FieldKind::NEW_EMAIL, new_email),
                action,
                (|l| &l.common.send_code, |l| &l.common.sending),
                Callback::new(move |()| send_code.call(())),
            )
            .into_any(),
            EmailStep::Code => one_field_step(
                (format!("{prefix}-code"), FieldKind::CODE, code),
                action,
                (|l| &l.common.verify, |l| &l.common.verifying),
                Callback::new(verify),
            )
            .into_any(),
        }
    };
    view! {
        <div class="torii-form torii-profile-email">
            <p class="torii-text">
                {t.before(|l| &l.profile.current_email, "email")}
                <strong data-testid="profile-email">{email}</strong>
                {t.after(|l| &l.profile.current_email, "email")} " "
                {move || {
                    if verified() {
                        view! { <span class="torii-badge">{t.text(|l| &l.profile.verified)}</span> }
                            .into_any()
                    } else {
                        view! {
                            <span class="torii-badge torii-badge-muted">
                                {t.text(|l| &l.profile.not_verified)}
                            </span>
                        }
                            .into_any()
                    }
                }}
            </p>
            <FormAlert errors=action.errors />
            <FormNotice notice=action.notice />
            {body}
        </div>
    }
}
