//! *Code*, *Consent* and *Passkey*: the sign-up card's later steps.

use super::super::FormAlert;
use super::super::code_step::CodeStep;
use crate::appearance::{Slot, slot};
use crate::flows::{SignUpBusy, SignUpFlow};
use leptos::prelude::*;

pub(super) fn code_step(flow: SignUpFlow, prefix: &str, email: String) -> impl IntoView {
    let t = flow.texts;
    view! {
        <CodeStep
            id=format!("{prefix}-code")
            form=flow.form
            code=flow.code
            sent_to=|l| &l.sign_up.code_sent
            email=email
            intro=|l| &l.sign_up.code_intro
            verifying=SignUpBusy::Verifying
            on_submit=Callback::new(move |()| flow.verify())
            resend=(SignUpBusy::Resending, Callback::new(move |()| flow.resend()))
        >
            <button class=slot(Slot::Link) type="button" on:click=move |_| flow.back_to_details()>
                {t.text(|l| &l.sign_up.different_email)}
            </button>
        </CodeStep>
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
