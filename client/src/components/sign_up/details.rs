//! *Details*: the sign-up card's start, with the consent checkbox.

use super::super::kit::{BusyButton, EmailField};
#[cfg(feature = "oauth")]
use super::super::oauth::OAuthButtons;
use super::super::{Field, FieldErrorLine, FieldKind, FormAlert, SwitchCardLine, field_error};
use crate::appearance::{Slot, slot};
#[cfg(feature = "oauth")]
use crate::completion::Kind;
use crate::flows::{SignUpBusy, SignUpFlow};
use crate::i18n::Pick;
use leptos::prelude::*;

pub(super) fn details_step(
    flow: SignUpFlow,
    prefix: &str,
    on_sign_in: Option<Callback<()>>,
) -> AnyView {
    let consent_id = format!("{prefix}-consent");
    let email_ref = NodeRef::<leptos::html::Input>::new();
    // Coming back from the code step, whose button had the focus: give it to the email.
    Effect::new(move |_| {
        if let Some(input) = email_ref.get()
            && flow.focus_email.get_untracked()
        {
            flow.focus_email.set(false);
            let _ = input.focus();
        }
    });
    let t = flow.texts;
    let password_id = format!("{prefix}-password");
    let password_field = move || {
        (!flow.use_passkey.get()).then(|| {
            view! {
                <Field
                    id=password_id.clone()
                    kind=FieldKind::NEW_PASSWORD
                    value=flow.password
                    errors=flow.form.errors
                />
            }
        })
    };
    let passkey_toggle = move || {
        flow.offers_passkey().then(|| {
            view! {
                <div class="torii-row">
                    <button
                        class=slot(Slot::Link)
                        type="button"
                        aria-pressed=move || flow.use_passkey.get().to_string()
                        on:click=move |_| flow.use_passkey.update(|on| *on = !*on)
                    >
                        {t.either(
                            move || flow.use_passkey.get(),
                            |l| &l.sign_up.use_password,
                            |l| &l.sign_up.use_passkey,
                        )}
                    </button>
                </div>
                {move || {
                    flow.use_passkey
                        .get()
                        .then(|| {
                            view! {
                                <p class=slot(Slot::Hint)>{t.text(|l| &l.sign_up.passkey_hint)}</p>
                            }
                        })
                }}
            }
        })
    };
    let can_submit =
        move || flow.busy().is_none() && (!flow.consent_required() || flow.accepted.get());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if can_submit() {
            flow.create();
        }
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <FormAlert errors=flow.form.errors />
            {oauth_buttons(flow, false)}
            <EmailField id=format!("{prefix}-email") form=flow.form value=flow.email node_ref=email_ref />
            {password_field}
            {passkey_toggle}
            <Field
                id=format!("{prefix}-name")
                kind=FieldKind::NAME
                value=flow.name
                errors=flow.form.errors
                optional=true
            />
            <Show when=move || flow.consent_required()>
                <Consent id=consent_id.clone() flow=flow />
            </Show>
            <BusyButton
                form=flow.form
                what=SignUpBusy::Creating
                label=|l| &l.sign_up.submit
                busy_label=|l| &l.sign_up.submitting
                ready=Signal::derive(move || !flow.consent_required() || flow.accepted.get())
            />
            {oauth_buttons(flow, true)}
        </form>
        <SwitchCardLine text=|l| &l.sign_up.have_account action=|l| &l.sign_up.sign_in on_click=on_sign_in />
    }
    .into_any()
}

/// The Terms/Privacy checkbox. The label reads "I agree to the Terms of Service and Privacy
/// Policy"; each document's name links to it when the environment has its URL.
#[component]
pub(super) fn Consent(id: String, flow: SignUpFlow) -> impl IntoView {
    let error_id = format!("{id}-error");
    let error = field_error(flow.form.errors, "legalAccepted");
    let legal = move || {
        flow.auth
            .environment
            .with(|env| env.as_ref().map(|env| env.legal.clone()))
    };
    let t = flow.texts;
    let document_link = move |text: Pick, url: Option<String>| match url {
        Some(url) => view! {
            <a href=url target="_blank" rel="noopener">
                {t.text(text)}
            </a>
        }
        .into_any(),
        None => t.text(text).into_any(),
    };
    let terms = move || {
        document_link(
            |l| &l.sign_up.terms_of_service,
            legal().and_then(|l| l.terms_url),
        )
    };
    let privacy = move || {
        document_link(
            |l| &l.sign_up.privacy_policy,
            legal().and_then(|l| l.privacy_url),
        )
    };
    // "I agree to the {terms} and {privacy}": the words between the two links.
    let consent_part = move |part: usize| {
        move || {
            t.with(|l| {
                let (before, rest) = crate::i18n::split(&l.sign_up.consent, "terms");
                let (between, after) = crate::i18n::split(&rest, "privacy");
                [before, between, after]
                    .into_iter()
                    .nth(part)
                    .unwrap_or_default()
            })
        }
    };
    let describedby = {
        let error_id = error_id.clone();
        move || error.with(Option::is_some).then(|| error_id.clone())
    };
    view! {
        <div class="torii-field torii-consent">
            <input
                class="torii-checkbox"
                type="checkbox"
                id=id.clone()
                name="legalAccepted"
                required=true
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby=describedby
                bind:checked=flow.accepted
            />
            <label class="torii-consent-label" for=id>
                {consent_part(0)}
                {terms}
                {consent_part(1)}
                {privacy}
                {consent_part(2)}
            </label>
            <FieldErrorLine id=error_id error=error />
        </div>
    }
}

#[cfg(feature = "oauth")]
fn oauth_buttons(flow: SignUpFlow, at_bottom: bool) -> impl IntoView {
    view! { <OAuthButtons auth=flow.auth kind=Kind::SignUp at_bottom=at_bottom /> }
}

#[cfg(not(feature = "oauth"))]
fn oauth_buttons(_: SignUpFlow, _: bool) {}
