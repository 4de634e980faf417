//! *Code*, *Consent* and *Passkey*: the sign-up card's later steps.

#[cfg(any(feature = "oauth", feature = "passkeys"))]
use super::super::FormAlert;
use super::super::code_step::CodeStep;
#[cfg(any(feature = "oauth", feature = "passkeys"))]
use super::super::kit::BusyButton;
#[cfg(feature = "passkeys")]
use super::super::kit::ButtonRole;
use super::super::kit::LinkButton;
#[cfg(feature = "passkeys")]
use crate::appearance::{Slot, slot};
use crate::flows::{SignUpBusy, SignUpFlow};
use leptos::prelude::*;

pub(super) fn code_step(flow: SignUpFlow, prefix: &str, email: String) -> impl IntoView {
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
            <LinkButton label=|l| &l.sign_up.different_email on_click=move |()| flow.back_to_details() />
        </CodeStep>
    }
}

/// The consent step of a new user who came through an OAuth provider.
#[cfg(feature = "oauth")]
pub(super) fn consent_step(flow: SignUpFlow, prefix: &str) -> impl IntoView {
    let consent_id = format!("{prefix}-consent");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if flow.accepted.get_untracked() {
            flow.continue_sign_up();
        }
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit data-testid="oauth-consent">
            <p class="torii-text">{flow.texts.text(|l| &l.sign_up.one_more_step)}</p>
            <FormAlert errors=flow.form.errors />
            <super::details::Consent id=consent_id flow=flow />
            <BusyButton
                form=flow.form
                what=SignUpBusy::Continuing
                label=|l| &l.common.continue_
                busy_label=|l| &l.sign_up.continuing
                ready=flow.accepted
            />
        </form>
    }
}

#[cfg(feature = "passkeys")]
pub(super) fn passkey_step(flow: SignUpFlow) -> impl IntoView {
    let t = flow.texts;
    let skip = move |_| flow.skip_passkey();
    view! {
        <div class="torii-form">
            <p class="torii-text">{t.text(|l| &l.sign_up.email_confirmed)}</p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_up.create_passkey)}</p>
            <FormAlert errors=flow.form.errors />
            <BusyButton
                form=flow.form
                what=SignUpBusy::Passkey
                label=|l| &l.sign_up.try_again
                busy_label=|l| &l.sign_up.creating_passkey
                role=ButtonRole::Primary
                on_click=Callback::new(move |()| flow.create_passkey())
            />
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
