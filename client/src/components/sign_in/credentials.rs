//! *Credentials*: the sign-in card's start.

use super::super::kit::{BusyButton, ButtonRole, EmailField, LinkButton};
use super::super::oauth::OAuthButtons;
use super::super::{Field, FieldKind, FormAlert, SwitchCardLine, or_line};
use crate::flows::{SignInBusy, SignInFlow};
use crate::last_method::{LastUsedBadge, Method};
use leptos::prelude::*;

pub(super) fn credentials_step(
    flow: SignInFlow,
    prefix: &str,
    on_sign_up: Option<Callback<()>>,
    sign_up_url: MaybeProp<String>,
) -> AnyView {
    let email_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = email_ref.get() {
            flow.focus_field(&input);
        }
    });
    // The environment may load after the card: start the autofill once it says passkeys.
    Effect::new(move |_| {
        if let Some(input) = email_ref.get()
            && flow.offers_passkey()
        {
            flow.start_autofill(&input);
        }
    });
    on_cleanup(move || flow.stop_autofill());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if flow.offers_password() {
            flow.sign_in_with_password();
        } else {
            flow.send_link();
        }
    };
    let password_id = format!("{prefix}-password");
    let password_field = move || {
        flow.offers_password().then(|| {
            view! {
                <Field
                    id=password_id.clone()
                    kind=FieldKind::CURRENT_PASSWORD
                    value=flow.password
                    errors=flow.form.errors
                />
                <div class="torii-row torii-row-end">
                    <LinkButton label=|l| &l.sign_in.forgot_password on_click=move |()| flow.forgot_password() />
                </div>
                <BusyButton
                    form=flow.form
                    what=SignInBusy::Password
                    label=|l| &l.sign_in.submit
                    busy_label=|l| &l.sign_in.submitting
                />
                <LastUsedBadge auth=flow.auth method=Method::Password />
            }
            .into_any()
        })
    };
    let link_button = move || {
        flow.offers_magic_link().then(|| {
            // With passwords, the link is the other way in: a secondary button that does not
            // submit the form (Enter still signs in with the password).
            let with_password = flow.offers_password();
            let role = if with_password {
                ButtonRole::Secondary
            } else {
                ButtonRole::Submit
            };
            // Without passwords it submits the form, whose handler sends the link.
            let on_click = Callback::new(move |()| {
                if with_password {
                    flow.send_link();
                }
            });
            view! {
                {with_password.then(or_line)}
                <BusyButton
                    form=flow.form
                    what=SignInBusy::SendingLink
                    label=|l| &l.sign_in.email_link
                    busy_label=|l| &l.sign_in.sending_link
                    role=role
                    on_click=on_click
                />
                <LastUsedBadge auth=flow.auth method=Method::MagicLink />
            }
            .into_any()
        })
    };
    let oauth_buttons = move |at_bottom: bool| {
        view! { <OAuthButtons auth=flow.auth sign_up_url=sign_up_url at_bottom=at_bottom /> }
    };
    let passkey_button = move || {
        flow.offers_passkey().then(|| {
            view! {
                {or_line()}
                <BusyButton
                    form=flow.form
                    what=SignInBusy::Passkey
                    label=|l| &l.sign_in.passkey
                    busy_label=|l| &l.common.passkey_waiting
                    role=ButtonRole::Secondary
                    on_click=Callback::new(move |()| flow.sign_in_with_passkey())
                />
                <LastUsedBadge auth=flow.auth method=Method::Passkey />
            }
            .into_any()
        })
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <FormAlert errors=flow.form.errors />
            {oauth_buttons(false)}
            <EmailField id=format!("{prefix}-email") form=flow.form value=flow.email node_ref=email_ref />
            {password_field}
            {link_button}
            {passkey_button}
            {oauth_buttons(true)}
        </form>
        <SwitchCardLine text=|l| &l.sign_in.no_account action=|l| &l.sign_in.create_account on_click=on_sign_up />
    }
    .into_any()
}
