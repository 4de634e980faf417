//! *Link sent*, *Reset email* and *Reset code*: the sign-in card's other steps.

#[cfg(feature = "magic-link")]
use super::super::FormNotice;
use super::super::code_step::CodeStep;
#[cfg(feature = "magic-link")]
use super::super::kit::ButtonRole;
use super::super::kit::{BusyButton, EmailField, LinkButton};
use super::super::{Field, FieldKind, FormAlert};
use crate::appearance::{Slot, slot};
use crate::flows::{SignInBusy, SignInFlow};
use leptos::prelude::*;

#[cfg(feature = "magic-link")]
pub(super) fn link_sent_step(flow: SignInFlow, email: String) -> impl IntoView {
    let t = flow.texts;
    view! {
        <div class="torii-form">
            <p class="torii-text">
                {t.before(|l| &l.sign_in.link_sent, "email")} <strong>{email}</strong>
                {t.after(|l| &l.sign_in.link_sent, "email")}
            </p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_in.link_sent_hint)}</p>
            <FormAlert errors=flow.form.errors />
            <FormNotice notice=flow.form.notice />
            <div class="torii-row">
                <BusyButton
                    form=flow.form
                    what=SignInBusy::SendingLink
                    label=|l| &l.sign_in.resend_link
                    busy_label=|l| &l.common.sending
                    role=ButtonRole::Inline
                    on_click=Callback::new(move |()| flow.send_link())
                />
                <LinkButton label=|l| &l.common.back on_click=move |()| flow.back() />
            </div>
        </div>
    }
}

#[cfg(feature = "password")]
pub(super) fn reset_email_step(flow: SignInFlow, prefix: &str) -> impl IntoView {
    let t = flow.texts;
    let email_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = email_ref.get() {
            flow.focus_field(&input);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        flow.send_reset_code();
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_in.reset_intro)}</p>
            <FormAlert errors=flow.form.errors />
            <EmailField id=format!("{prefix}-email") form=flow.form value=flow.email node_ref=email_ref />
            <BusyButton
                form=flow.form
                what=SignInBusy::SendingCode
                label=|l| &l.common.send_code
                busy_label=|l| &l.common.sending
            />
        </form>
        <p class=slot(Slot::Footer)>
            <LinkButton label=|l| &l.sign_in.back_to_sign_in on_click=move |()| flow.back() />
        </p>
    }
}

#[cfg(feature = "password")]
pub(super) fn reset_code_step(flow: SignInFlow, prefix: &str, email: String) -> impl IntoView {
    let new_password_id = format!("{prefix}-new-password");
    let username = email.clone();
    view! {
        <CodeStep
            id=format!("{prefix}-reset-code")
            form=flow.form
            code=flow.code
            sent_to=|l| &l.sign_in.code_sent
            email=email
            intro=|l| &l.sign_in.reset_signs_out
            label=|l| &l.sign_in.reset_code
            submit=(|l| &l.sign_in.set_password, |l| &l.sign_in.setting_password)
            verifying=SignInBusy::Resetting
            on_submit=Callback::new(move |()| flow.complete_reset())
            fields=Box::new(move || {
                view! {
                    // For password managers: the account the new password belongs to.
                    <input
                        type="email"
                        name="username"
                        autocomplete="username"
                        value=username.clone()
                        hidden=true
                        readonly=true
                    />
                    <Field
                        id=new_password_id.clone()
                        kind=FieldKind::NEW_PASSWORD.labelled(|l| &l.sign_in.new_password)
                        value=flow.new_password
                        errors=flow.form.errors
                    />
                }
                .into_any()
            })
        >
            <LinkButton label=|l| &l.sign_in.different_email on_click=move |()| flow.forgot_password() />
            <LinkButton label=|l| &l.sign_in.back_to_sign_in on_click=move |()| flow.back() />
        </CodeStep>
    }
}
