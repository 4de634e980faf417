//! `/custom-sign-in`: the application's own sign-in form, drawn over `use_sign_in()` (no
//! Torii markup at all): a password, or "Forgot password?" with the emailed code.

use leptos::prelude::*;
use torii_client::{SignInBusy, SignInStep, use_sign_in};

/// Where the custom form lives.
pub const CUSTOM_SIGN_IN_URL: &str = "/custom-sign-in";

/// The custom form: each step of the flow as plain inputs and buttons.
#[component]
pub fn CustomSignIn() -> impl IntoView {
    let flow = use_sign_in();
    let error = move || {
        flow.error()
            .map(|error| view! { <p class="demo-custom-error" role="alert" data-testid="custom-error">{error}</p> })
    };
    let field_error = move |name: &'static str| {
        move || {
            flow.field_error(name).map(|error| {
                view! { <p class="demo-custom-error" data-testid=format!("custom-{name}-error")>{error}</p> }
            })
        }
    };
    let step = move || {
        match flow.step() {
        SignInStep::ResetEmail => view! {
            <form on:submit=move |ev| {
                ev.prevent_default();
                flow.send_reset_code();
            }>
                <label>"Your email" <input type="email" bind:value=flow.email data-testid="custom-email" /></label>
                {field_error("email")}
                <button type="submit" data-testid="custom-send-code" disabled=move || flow.busy().is_some()>
                    {move || if flow.is_busy(SignInBusy::SendingCode) { "Sending…" } else { "Email me a code" }}
                </button>
                <button type="button" on:click=move |_| flow.back()>"Back"</button>
            </form>
        }
        .into_any(),
        SignInStep::ResetCode { email } => view! {
            <form on:submit=move |ev| {
                ev.prevent_default();
                flow.complete_reset();
            }>
                <p data-testid="custom-code-sent">"A code is on its way to " {email}</p>
                <label>"Code" <input inputmode="numeric" bind:value=flow.code data-testid="custom-code" /></label>
                {field_error("code")}
                <label>"New password" <input type="password" bind:value=flow.new_password data-testid="custom-new-password" /></label>
                {field_error("password")}
                <button type="submit" data-testid="custom-reset" disabled=move || flow.busy().is_some()>
                    "Set it and sign in"
                </button>
            </form>
        }
        .into_any(),
        _ => view! {
            <form on:submit=move |ev| {
                ev.prevent_default();
                flow.sign_in_with_password();
            }>
                <label>"Your email" <input type="email" bind:value=flow.email data-testid="custom-email" /></label>
                {field_error("email")}
                <label>"Your password" <input type="password" bind:value=flow.password data-testid="custom-password" /></label>
                {field_error("password")}
                <button type="submit" data-testid="custom-submit" aria-busy=move || flow.is_busy(SignInBusy::Password).then_some("true")>
                    "Let me in"
                </button>
                <button type="button" data-testid="custom-forgot" on:click=move |_| flow.forgot_password()>
                    "I forgot it"
                </button>
            </form>
        }
        .into_any(),
    }
    };
    view! {
        <section class="demo-custom-sign-in" data-testid="custom-sign-in" aria-label="Custom sign-in">
            <h2>"Our own sign-in form"</h2>
            {error}
            {step}
        </section>
    }
}
