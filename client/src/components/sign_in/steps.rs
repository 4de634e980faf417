//! The views of the sign-in card's steps (see the card's module documentation); the state
//! they read and the requests they make are [`SignInForm`]'s.

use super::*;

/// The notice line (`role="status"`): a success worth announcing, not an error.
fn notice_line(form: SignInForm) -> impl IntoView {
    move || {
        form.notice.get().map(|notice| {
            let notice = form.texts.with(|l| notice.render(l));
            view! {
                <p class=slot(Slot::Notice) role="status">
                    {notice}
                </p>
            }
        })
    }
}

pub(super) fn credentials_step(
    form: SignInForm,
    prefix: &str,
    on_sign_up: Option<Callback<()>>,
    sign_up_url: Option<String>,
) -> impl IntoView {
    let email_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = email_ref.get() {
            form.focus_field(&input);
        }
    });
    // The environment may load after the card: start the autofill once it says passkeys.
    Effect::new(move |_| {
        if let Some(input) = email_ref.get()
            && form.offers_passkey()
        {
            form.start_autofill(&input);
        }
    });
    on_cleanup(move || form.stop_autofill());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if form.offers_password() {
            form.sign_in();
        } else {
            form.send_link();
        }
    };
    let t = form.texts;
    let password_id = format!("{prefix}-password");
    let password_field = move || {
        form.offers_password().then(|| {
            view! {
                <Field
                    id=password_id.clone()
                    name="password"
                    label=t.text(|l| &l.common.password)
                    input_type="password"
                    autocomplete="current-password"
                    required=true
                    value=form.password
                    error=field_error(form.errors, "password")
                />
                <div class="torii-row torii-row-end">
                    <button
                        class=slot(Slot::Link)
                        type="button"
                        on:click=move |_| form.go(Step::ResetEmail, Focus::FirstField)
                    >
                        {t.text(|l| &l.sign_in.forgot_password)}
                    </button>
                </div>
                <button
                    class=slot(Slot::ButtonPrimary)
                    type="submit"
                    disabled=move || form.busy.get().is_some()
                    aria-busy=move || form.is_busy(Busy::SigningIn).then_some("true")
                >
                    {move || {
                        t.with(|l| {
                            if form.is_busy(Busy::SigningIn) {
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
        form.offers_magic_link().then(|| {
            // With passwords, the link is the other way in: a secondary button that does not
            // submit the form (Enter still signs in with the password).
            let with_password = form.offers_password();
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
                    disabled=move || form.busy.get().is_some()
                    aria-busy=move || form.is_busy(Busy::SendingLink).then_some("true")
                    on:click=move |_| {
                        if with_password {
                            form.send_link();
                        }
                    }
                >
                    {move || {
                        t.with(|l| {
                            if form.is_busy(Busy::SendingLink) {
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
    let oauth_buttons = match sign_up_url {
        Some(url) => view! { <OAuthButtons auth=form.auth sign_up_url=url /> }.into_any(),
        None => view! { <OAuthButtons auth=form.auth /> }.into_any(),
    };
    let passkey_button = move || {
        form.offers_passkey().then(|| {
            view! {
                <p class=slot(Slot::Divider) aria-hidden="true">
                    <span>{t.text(|l| &l.common.or)}</span>
                </p>
                <button
                    class=slot_with(Slot::ButtonSecondary, "torii-button-block")
                    type="button"
                    disabled=move || form.busy.get().is_some()
                    aria-busy=move || form.is_busy(Busy::Passkey).then_some("true")
                    on:click=move |_| form.sign_in_with_passkey()
                >
                    {move || {
                        t.with(|l| {
                            if form.is_busy(Busy::Passkey) {
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
            <FormAlert errors=form.errors />
            {oauth_buttons}
            <Field
                id=format!("{prefix}-email")
                name="email"
                label=t.text(|l| &l.common.email)
                input_type="email"
                autocomplete="username"
                required=true
                value=form.email
                error=field_error(form.errors, "email")
                node_ref=email_ref
            />
            {password_field}
            {link_button}
            {passkey_button}
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

pub(super) fn link_sent_step(form: SignInForm, email: String) -> impl IntoView {
    let t = form.texts;
    view! {
        <div class="torii-form">
            <p class="torii-text">
                {t.before(|l| &l.sign_in.link_sent, "email")} <strong>{email}</strong>
                {t.after(|l| &l.sign_in.link_sent, "email")}
            </p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_in.link_sent_hint)}</p>
            <FormAlert errors=form.errors />
            {notice_line(form)}
            <div class="torii-row">
                <button
                    class=slot(Slot::ButtonSecondary)
                    type="button"
                    disabled=move || form.busy.get().is_some()
                    aria-busy=move || form.is_busy(Busy::SendingLink).then_some("true")
                    on:click=move |_| form.send_link()
                >
                    {move || {
                        t.with(|l| {
                            if form.is_busy(Busy::SendingLink) {
                                l.common.sending.to_string()
                            } else {
                                l.sign_in.resend_link.to_string()
                            }
                        })
                    }}
                </button>
                <button
                    class=slot(Slot::Link)
                    type="button"
                    on:click=move |_| form.go(Step::Credentials, Focus::FirstField)
                >
                    {t.text(|l| &l.common.back)}
                </button>
            </div>
        </div>
    }
}

pub(super) fn reset_email_step(form: SignInForm, prefix: &str) -> impl IntoView {
    let t = form.texts;
    let email_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = email_ref.get() {
            form.focus_field(&input);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.send_reset_code();
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_in.reset_intro)}</p>
            <FormAlert errors=form.errors />
            <Field
                id=format!("{prefix}-email")
                name="email"
                label=t.text(|l| &l.common.email)
                input_type="email"
                autocomplete="username"
                required=true
                value=form.email
                error=field_error(form.errors, "email")
                node_ref=email_ref
            />
            <button
                class=slot(Slot::ButtonPrimary)
                type="submit"
                disabled=move || form.busy.get().is_some()
                aria-busy=move || form.is_busy(Busy::SendingCode).then_some("true")
            >
                {move || {
                    t.with(|l| {
                        if form.is_busy(Busy::SendingCode) {
                            l.common.sending.to_string()
                        } else {
                            l.common.send_code.to_string()
                        }
                    })
                }}
            </button>
        </form>
        <p class=slot(Slot::Footer)>
            <button
                class=slot(Slot::Link)
                type="button"
                on:click=move |_| form.go(Step::Credentials, Focus::FirstField)
            >
                {t.text(|l| &l.sign_in.back_to_sign_in)}
            </button>
        </p>
    }
}

pub(super) fn reset_code_step(form: SignInForm, prefix: &str, email: String) -> impl IntoView {
    let t = form.texts;
    let code_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = code_ref.get() {
            form.focus_field(&input);
        }
    });
    let reset_email = email.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.complete_reset(reset_email.clone());
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <p class="torii-text">
                {t.before(|l| &l.sign_in.code_sent, "email")} <strong>{email.clone()}</strong>
                {t.after(|l| &l.sign_in.code_sent, "email")}
            </p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_in.reset_signs_out)}</p>
            <FormAlert errors=form.errors />
            // For password managers: the account the new password belongs to.
            <input
                type="email"
                name="username"
                autocomplete="username"
                value=email
                hidden=true
                readonly=true
            />
            <Field
                id=format!("{prefix}-reset-code")
                name="code"
                label=t.text(|l| &l.sign_in.reset_code)
                input_type="text"
                autocomplete="one-time-code"
                inputmode="numeric"
                maxlength="6"
                required=true
                value=form.code
                error=field_error(form.errors, "code")
                node_ref=code_ref
            />
            <Field
                id=format!("{prefix}-new-password")
                name="password"
                label=t.text(|l| &l.sign_in.new_password)
                input_type="password"
                autocomplete="new-password"
                required=true
                hint=t.text(|l| &l.common.password_hint)
                value=form.new_password
                error=field_error(form.errors, "password")
            />
            <button
                class=slot(Slot::ButtonPrimary)
                type="submit"
                disabled=move || form.busy.get().is_some()
                aria-busy=move || form.is_busy(Busy::Resetting).then_some("true")
            >
                {move || {
                    t.with(|l| {
                        if form.is_busy(Busy::Resetting) {
                            l.sign_in.setting_password.to_string()
                        } else {
                            l.sign_in.set_password.to_string()
                        }
                    })
                }}
            </button>
            <div class="torii-row">
                <button
                    class=slot(Slot::Link)
                    type="button"
                    on:click=move |_| form.go(Step::ResetEmail, Focus::FirstField)
                >
                    {t.text(|l| &l.sign_in.different_email)}
                </button>
                <button
                    class=slot(Slot::Link)
                    type="button"
                    on:click=move |_| form.go(Step::Credentials, Focus::FirstField)
                >
                    {t.text(|l| &l.sign_in.back_to_sign_in)}
                </button>
            </div>
        </form>
    }
}
