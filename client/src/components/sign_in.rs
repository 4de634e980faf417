//! `<SignIn>`: the sign-in card (email and password).
//!
//! Idle → submitting (button disabled, "Signing in…") → either signed in (the answer becomes
//! the auth state and `<SignedOut>` unmounts the card) or idle again with the server's
//! message in the alert line and field messages under their fields.

use super::{Field, FormAlert, FormErrors, field_error, unique_prefix};
use crate::provider::use_auth;
use leptos::prelude::*;
use leptos::task::spawn_local;
use torii_shared::{PasswordSignInRequest, Secret};

/// The sign-in card: "Email" and "Password" fields and a "Sign in" button, posting to
/// `/v1/sign-in/password`. Errors show inline and are announced.
#[component]
pub fn SignIn(
    /// When set, the card offers "Create an account", which calls it (e.g. to show `<SignUp>`).
    #[prop(optional, into)]
    on_sign_up: Option<Callback<()>>,
) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("sign-in");
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submitting = RwSignal::new(false);
    let errors = RwSignal::new(FormErrors::default());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.get_untracked() {
            return;
        }
        let Some(api) = auth.api() else { return };
        let request = PasswordSignInRequest {
            email: email.get_untracked().trim().to_owned(),
            password: Secret::new(password.get_untracked()),
        };
        submitting.set(true);
        errors.set(FormErrors::default());
        spawn_local(async move {
            let result = api.sign_in_with_password(&request).await;
            submitting.set(false);
            match result {
                Ok(me) => {
                    password.set(String::new());
                    auth.accept(me);
                }
                Err(err) => errors.set(FormErrors::from_api(&err)),
            }
        });
    };

    let app_name = move || {
        auth.environment.with(|env| {
            env.as_ref().map(|env| {
                view! { <p class="torii-card-subtitle">"to continue to " {env.name.clone()}</p> }
            })
        })
    };

    view! {
        <section class="torii-card" aria-labelledby=labelled_by>
            <h2 class="torii-card-title" id=title_id>
                "Sign in"
            </h2>
            {app_name}
            <form class="torii-form" novalidate=true on:submit=submit>
                <FormAlert errors=errors />
                <Field
                    id=format!("{prefix}-email")
                    name="email"
                    label="Email"
                    input_type="email"
                    autocomplete="username"
                    required=true
                    value=email
                    error=field_error(errors, "email")
                />
                <Field
                    id=format!("{prefix}-password")
                    name="password"
                    label="Password"
                    input_type="password"
                    autocomplete="current-password"
                    required=true
                    value=password
                    error=field_error(errors, "password")
                />
                <button
                    class="torii-button torii-button-primary"
                    type="submit"
                    disabled=move || submitting.get()
                    aria-busy=move || submitting.get().then_some("true")
                >
                    {move || if submitting.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            {on_sign_up
                .map(|on_sign_up| {
                    view! {
                        <p class="torii-card-footer">
                            "No account yet? "
                            <button
                                class="torii-link"
                                type="button"
                                on:click=move |_| on_sign_up.run(())
                            >
                                "Create an account"
                            </button>
                        </p>
                    }
                })}
        </section>
    }
}
