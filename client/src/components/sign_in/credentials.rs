//! *Credentials*: the sign-in card's start.

use super::super::oauth::OAuthButtons;
use super::super::{Field, FormAlert, field_error};
use crate::appearance::{Slot, slot, slot_with};
use crate::flows::{SignInBusy, SignInFlow};
use leptos::prelude::*;

pub(super) fn credentials_step(
    flow: SignInFlow,
    prefix: &str,
    on_sign_up: Option<Callback<()>>,
    sign_up_url: Option<String>,
) -> impl IntoView {
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
    let t = flow.texts;
    let password_id = format!("{prefix}-password");
    let password_field = move || {
        flow.offers_password().then(|| {
            view! {
                <Field
                    id=password_id.clone()
                    name="password"
                    label=t.text(|l| &l.common.password)
                    input_type="password"
                    autocomplete="current-password"
                    required=true
                    value=flow.password
                    error=field_error(flow.form.errors, "password")
                />
                <div class="torii-row torii-row-end">
                    <button
                        class=slot(Slot::Link)
                        type="button"
                        on:click=move |_| flow.forgot_password()
                    >
                        {t.text(|l| &l.sign_in.forgot_password)}
                    </button>
                </div>
                <button
                    class=slot(Slot::ButtonPrimary)
                    type="submit"
                    disabled=move || flow.busy().is_some()
                    aria-busy=move || flow.is_busy(SignInBusy::Password).then_some("true")
                >
                    {move || {
                        t.with(|l| {
                            if flow.is_busy(SignInBusy::Password) {
                                l.sign_in.submitting.to_string()
                            } else {
                                l.sign_in.submit.to_string()
                            }
                        })
                    }}
                </button>
            }
        })
    };
    let link_button = move || {
        flow.offers_magic_link().then(|| {
            // With passwords, the link is the other way in: a secondary button that does not
            // submit the flow (Enter still signs in with the password).
            let with_password = flow.offers_password();
            let secondary = slot_with(Slot::ButtonSecondary, "torii-button-block");
            let primary = slot(Slot::ButtonPrimary);
            let class = move || {
                if with_password {
                    secondary()
                } else {
                    primary()
                }
            };
            let button_type = if with_password { "button" } else { "submit" };
            view! {
                {with_password
                    .then(|| {
                        view! {
                            <p class=slot(Slot::Divider) aria-hidden="true">
                                <span>{t.text(|l| &l.common.or)}</span>
                            </p>
                        }
                    })}
                <button
                    class=class
                    type=button_type
                    disabled=move || flow.busy().is_some()
                    aria-busy=move || flow.is_busy(SignInBusy::SendingLink).then_some("true")
                    on:click=move |_| {
                        if with_password {
                            flow.send_link();
                        }
                    }
                >
                    {move || {
                        t.with(|l| {
                            if flow.is_busy(SignInBusy::SendingLink) {
                                l.sign_in.sending_link.to_string()
                            } else {
                                l.sign_in.email_link.to_string()
                            }
                        })
                    }}
                </button>
            }
        })
    };
    let oauth_buttons = move |at_bottom: bool| match sign_up_url.clone() {
        Some(url) => {
            view! { <OAuthButtons auth=flow.auth sign_up_url=url at_bottom=at_bottom /> }.into_any()
        }
        None => view! { <OAuthButtons auth=flow.auth at_bottom=at_bottom /> }.into_any(),
    };
    let passkey_button = move || {
        flow.offers_passkey().then(|| {
            view! {
                <p class=slot(Slot::Divider) aria-hidden="true">
                    <span>{t.text(|l| &l.common.or)}</span>
                </p>
                <button
                    class=slot_with(Slot::ButtonSecondary, "torii-button-block")
                    type="button"
                    disabled=move || flow.busy().is_some()
                    aria-busy=move || flow.is_busy(SignInBusy::Passkey).then_some("true")
                    on:click=move |_| flow.sign_in_with_passkey()
                >
                    {move || {
                        t.with(|l| {
                            if flow.is_busy(SignInBusy::Passkey) {
                                l.common.passkey_waiting.to_string()
                            } else {
                                l.sign_in.passkey.to_string()
                            }
                        })
                    }}
                </button>
            }
        })
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <FormAlert errors=flow.form.errors />
            {oauth_buttons(false)}
            <Field
                id=format!("{prefix}-email")
                name="email"
                label=t.text(|l| &l.common.email)
                input_type="email"
                autocomplete="username"
                required=true
                value=flow.email
                error=field_error(flow.form.errors, "email")
                node_ref=email_ref
            />
            {password_field}
            {link_button}
            {passkey_button}
            {oauth_buttons(true)}
        </form>
        {on_sign_up
            .map(|on_sign_up| {
                view! {
                    <p class=slot(Slot::Footer)>
                        {t.text(|l| &l.sign_in.no_account)}
                        <button class=slot(Slot::Link) type="button" on:click=move |_| on_sign_up.run(())>
                            {t.text(|l| &l.sign_in.create_account)}
                        </button>
                    </p>
                }
            })}
    }
}
