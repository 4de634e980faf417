//! *Credentials*: the sign-in card's start. Each way in is its own piece, compiled only with
//! its feature; a method the environment enables but the build lacks is simply not offered.

#[cfg(any(feature = "magic-link", feature = "passkeys"))]
use super::super::kit::ButtonRole;
use super::super::kit::{BusyButton, EmailField, LinkButton};
#[cfg(feature = "oauth")]
use super::super::oauth::OAuthButtons;
#[cfg(any(feature = "magic-link", feature = "passkeys"))]
use super::super::or_line;
use super::super::{Field, FieldKind, FormAlert, SwitchCardLine};
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
    passkey_autofill(flow, email_ref);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submit(flow);
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <FormAlert errors=flow.form.errors />
            {oauth_buttons(flow, sign_up_url, false)}
            <EmailField id=format!("{prefix}-email") form=flow.form value=flow.email node_ref=email_ref />
            {password_field(flow, format!("{prefix}-password"))}
            {link_button(flow)}
            {passkey_button(flow)}
            {oauth_buttons(flow, sign_up_url, true)}
        </form>
        <SwitchCardLine text=|l| &l.sign_in.no_account action=|l| &l.sign_in.create_account on_click=on_sign_up />
    }
    .into_any()
}

/// Enter in the form: the password when it is offered, else the sign-in link.
fn submit(flow: SignInFlow) {
    #[cfg(feature = "password")]
    if flow.offers_password() {
        flow.sign_in_with_password();
        return;
    }
    #[cfg(feature = "magic-link")]
    if flow.offers_magic_link() {
        flow.send_link();
    }
    let _ = flow;
}

/// The environment may load after the card: start the autofill once it says passkeys.
#[cfg(feature = "passkeys")]
fn passkey_autofill(flow: SignInFlow, email_ref: NodeRef<leptos::html::Input>) {
    Effect::new(move |_| {
        if let Some(input) = email_ref.get()
            && flow.offers_passkey()
        {
            flow.start_autofill(&input);
        }
    });
    on_cleanup(move || flow.stop_autofill());
}

#[cfg(not(feature = "passkeys"))]
fn passkey_autofill(_: SignInFlow, _: NodeRef<leptos::html::Input>) {}

#[cfg(feature = "password")]
fn password_field(flow: SignInFlow, password_id: String) -> impl IntoView {
    move || {
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
    }
}

#[cfg(not(feature = "password"))]
fn password_field(_: SignInFlow, _: String) {}

#[cfg(feature = "magic-link")]
fn link_button(flow: SignInFlow) -> impl IntoView {
    move || {
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
    }
}

#[cfg(not(feature = "magic-link"))]
fn link_button(_: SignInFlow) {}

#[cfg(feature = "passkeys")]
fn passkey_button(flow: SignInFlow) -> impl IntoView {
    move || {
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
    }
}

#[cfg(not(feature = "passkeys"))]
fn passkey_button(_: SignInFlow) {}

#[cfg(feature = "oauth")]
fn oauth_buttons(
    flow: SignInFlow,
    sign_up_url: MaybeProp<String>,
    at_bottom: bool,
) -> impl IntoView {
    view! { <OAuthButtons auth=flow.auth sign_up_url=sign_up_url at_bottom=at_bottom /> }
}

#[cfg(not(feature = "oauth"))]
fn oauth_buttons(_: SignInFlow, _: MaybeProp<String>, _: bool) {}
