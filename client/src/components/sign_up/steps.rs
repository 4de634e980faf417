//! *Code*, *Consent* and *Passkey*: the sign-up card's later steps.

use super::super::{Field, FormAlert, field_error};
use crate::appearance::{Slot, slot};
use crate::flows::{SignUpBusy, SignUpFlow};
use leptos::prelude::*;

pub(super) fn code_step(flow: SignUpFlow, prefix: &str, email: String) -> impl IntoView {
    let t = flow.texts;
    let code_ref = NodeRef::<leptos::html::Input>::new();
    // Move focus to the new field: the step replaced the one the user was typing in.
    Effect::new(move |_| {
        if let Some(input) = code_ref.get() {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        flow.verify();
    };
    let resend = move |_| flow.resend();
    let notice = move || {
        flow.notice().map(|notice| {
            view! {
                <p class=slot(Slot::Notice) role="status">
                    {notice}
                </p>
            }
        })
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <p class="torii-text">
                {t.before(|l| &l.sign_up.code_sent, "email")} <strong>{email}</strong>
                {t.after(|l| &l.sign_up.code_sent, "email")}
            </p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_up.code_intro)}</p>
            <FormAlert errors=flow.form.errors />
            {notice}
            <Field
                id=format!("{prefix}-code")
                name="code"
                label=t.text(|l| &l.common.code_label)
                input_type="text"
                autocomplete="one-time-code"
                inputmode="numeric"
                maxlength="6"
                required=true
                value=flow.code
                error=field_error(flow.form.errors, "code")
                node_ref=code_ref
            />
            <button
                class=slot(Slot::ButtonPrimary)
                type="submit"
                disabled=move || flow.busy().is_some()
                aria-busy=move || flow.is_busy(SignUpBusy::Verifying).then_some("true")
            >
                {t.either(move || flow.is_busy(SignUpBusy::Verifying), |l| &l.common.verifying, |l| &l.common.verify)}
            </button>
            <div class="torii-row">
                <button
                    class=slot(Slot::ButtonSecondary)
                    type="button"
                    disabled=move || flow.busy().is_some()
                    on:click=resend
                >
                    {t.either(move || flow.is_busy(SignUpBusy::Resending), |l| &l.common.sending, |l| &l.common.resend_code)}
                </button>
                <button class=slot(Slot::Link) type="button" on:click=move |_| flow.back_to_details()>
                    {t.text(|l| &l.sign_up.different_email)}
                </button>
            </div>
        </form>
    }
}

/// The consent step of a new user who came through an OAuth provider.
pub(super) fn consent_step(flow: SignUpFlow, prefix: &str) -> impl IntoView {
    let consent_id = format!("{prefix}-consent");
    let can_submit = move || flow.busy().is_none() && flow.accepted.get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if can_submit() {
            flow.continue_sign_up();
        }
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit data-testid="oauth-consent">
            <p class="torii-text">{flow.texts.text(|l| &l.sign_up.one_more_step)}</p>
            <FormAlert errors=flow.form.errors />
            <super::details::Consent id=consent_id flow=flow />
            <button
                class=slot(Slot::ButtonPrimary)
                type="submit"
                disabled=move || !can_submit()
                aria-busy=move || flow.is_busy(SignUpBusy::Continuing).then_some("true")
            >
                {flow
                    .texts
                    .either(
                        move || flow.is_busy(SignUpBusy::Continuing),
                        |l| &l.sign_up.continuing,
                        |l| &l.common.continue_,
                    )}
            </button>
        </form>
    }
}

pub(super) fn passkey_step(flow: SignUpFlow) -> impl IntoView {
    let t = flow.texts;
    let skip = move |_| flow.skip_passkey();
    view! {
        <div class="torii-form">
            <p class="torii-text">{t.text(|l| &l.sign_up.email_confirmed)}</p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_up.create_passkey)}</p>
            <FormAlert errors=flow.form.errors />
            <button
                class=slot(Slot::ButtonPrimary)
                type="button"
                disabled=move || flow.busy().is_some()
                aria-busy=move || flow.is_busy(SignUpBusy::Passkey).then_some("true")
                on:click=move |_| flow.create_passkey()
            >
                {t.either(
                    move || flow.is_busy(SignUpBusy::Passkey),
                    |l| &l.sign_up.creating_passkey,
                    |l| &l.sign_up.try_again,
                )}
            </button>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_up.without_passkey)}</p>
            <button
                class=slot(Slot::Link)
                type="button"
                disabled=move || flow.busy().is_some()
                on:click=skip
            >
                {t.text(|l| &l.sign_up.skip)}
            </button>
        </div>
    }
}
