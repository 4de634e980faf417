//! The views of the sign-up card's steps (see the card's module documentation); the state
//! they read and the requests they make are [`SignUpForm`]'s.

use super::*;

pub(super) fn details_step(
    form: SignUpForm,
    prefix: &str,
    on_sign_in: Option<Callback<()>>,
) -> impl IntoView {
    let consent_id = format!("{prefix}-consent");
    let email_ref = NodeRef::<leptos::html::Input>::new();
    // Coming back from the code step, whose button had the focus: give it to the email.
    Effect::new(move |_| {
        if let Some(input) = email_ref.get()
            && form.focus_email.get_untracked()
        {
            form.focus_email.set(false);
            let _ = input.focus();
        }
    });
    let t = form.texts;
    let password_id = format!("{prefix}-password");
    let password_field = move || {
        (!form.use_passkey.get()).then(|| {
            view! {
                <Field
                    id=password_id.clone()
                    name="password"
                    label=t.text(|l| &l.common.password)
                    input_type="password"
                    autocomplete="new-password"
                    required=true
                    hint=t.text(|l| &l.common.password_hint)
                    value=form.password
                    error=field_error(form.errors, "password")
                />
            }
        })
    };
    let passkey_toggle = move || {
        form.offers_passkey().then(|| {
            view! {
                <div class="torii-row">
                    <button
                        class=slot(Slot::Link)
                        type="button"
                        aria-pressed=move || form.use_passkey.get().to_string()
                        on:click=move |_| form.use_passkey.update(|on| *on = !*on)
                    >
                        {t.either(
                            move || form.use_passkey.get(),
                            |l| &l.sign_up.use_password,
                            |l| &l.sign_up.use_passkey,
                        )}
                    </button>
                </div>
                {move || {
                    form.use_passkey
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
        move || form.busy.get().is_none() && (!form.consent_required() || form.accepted.get());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if can_submit() {
            form.create();
        }
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <FormAlert errors=form.errors />
            <OAuthButtons auth=form.auth />
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
            {passkey_toggle}
            <Field
                id=format!("{prefix}-name")
                name="name"
                label=t.text(|l| &l.sign_up.name)
                input_type="text"
                autocomplete="name"
                value=form.name
                error=field_error(form.errors, "name")
            />
            <Show when=move || form.consent_required()>
                <Consent id=consent_id.clone() form=form />
            </Show>
            <button
                class=slot(Slot::ButtonPrimary)
                type="submit"
                disabled=move || !can_submit()
                aria-busy=move || form.is_busy(Busy::Creating).then_some("true")
            >
                {t.either(
                    move || form.is_busy(Busy::Creating),
                    |l| &l.sign_up.submitting,
                    |l| &l.sign_up.submit,
                )}
            </button>
        </form>
        {on_sign_in
            .map(|on_sign_in| {
                view! {
                    <p class=slot(Slot::Footer)>
                        {t.text(|l| &l.sign_up.have_account)}
                        <button class=slot(Slot::Link) type="button" on:click=move |_| on_sign_in.run(())>
                            {t.text(|l| &l.sign_up.sign_in)}
                        </button>
                    </p>
                }
            })}
    }
}

/// The Terms/Privacy checkbox. The label reads "I agree to the Terms of Service and Privacy
/// Policy"; each document's name links to it when the environment has its URL.
#[component]
fn Consent(id: String, form: SignUpForm) -> impl IntoView {
    let error_id = format!("{id}-error");
    let error = field_error(form.errors, "legalAccepted");
    let legal = move || {
        form.auth
            .environment
            .with(|env| env.as_ref().map(|env| env.legal.clone()))
    };
    let t = form.texts;
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
                bind:checked=form.accepted
            />
            <label class="torii-consent-label" for=id>
                {consent_part(0)}
                {terms}
                {consent_part(1)}
                {privacy}
                {consent_part(2)}
            </label>
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p class=slot(Slot::FieldError) id=error_id.clone()>
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

pub(super) fn code_step(
    form: SignUpForm,
    prefix: &str,
    sign_up_id: String,
    email: String,
) -> impl IntoView {
    let t = form.texts;
    let code_ref = NodeRef::<leptos::html::Input>::new();
    // Move focus to the new field: the step replaced the one the user was typing in.
    Effect::new(move |_| {
        if let Some(input) = code_ref.get() {
            let _ = input.focus();
        }
    });
    let verify_id = sign_up_id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.verify(verify_id.clone());
    };
    let resend_email = email.clone();
    let resend = move |_| form.resend(sign_up_id.clone(), resend_email.clone());
    let notice = move || {
        form.notice.get().map(|notice| {
            let notice = form.texts.with(|l| notice.render(l));
            view! {
                <p class=slot(Slot::Notice) role="status">
                    {notice}
                </p>
            }
        })
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <p class="torii-text">
                {t.before(|l| &l.sign_up.code_sent, "email")} <strong>{email}</strong>
                {t.after(|l| &l.sign_up.code_sent, "email")}
            </p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_up.code_intro)}</p>
            <FormAlert errors=form.errors />
            {notice}
            <Field
                id=format!("{prefix}-code")
                name="code"
                label=t.text(|l| &l.common.code_label)
                input_type="text"
                autocomplete="one-time-code"
                inputmode="numeric"
                maxlength="6"
                required=true
                value=form.code
                error=field_error(form.errors, "code")
                node_ref=code_ref
            />
            <button
                class=slot(Slot::ButtonPrimary)
                type="submit"
                disabled=move || form.busy.get().is_some()
                aria-busy=move || form.is_busy(Busy::Verifying).then_some("true")
            >
                {t.either(move || form.is_busy(Busy::Verifying), |l| &l.common.verifying, |l| &l.common.verify)}
            </button>
            <div class="torii-row">
                <button
                    class=slot(Slot::ButtonSecondary)
                    type="button"
                    disabled=move || form.busy.get().is_some()
                    on:click=resend
                >
                    {t.either(move || form.is_busy(Busy::Resending), |l| &l.common.sending, |l| &l.common.resend_code)}
                </button>
                <button class=slot(Slot::Link) type="button" on:click=move |_| form.back_to_details()>
                    {t.text(|l| &l.sign_up.different_email)}
                </button>
            </div>
        </form>
    }
}

/// The consent step of a new user who came through an OAuth provider.
pub(super) fn consent_step(form: SignUpForm, prefix: &str, sign_up_id: String) -> impl IntoView {
    let consent_id = format!("{prefix}-consent");
    let can_submit = move || form.busy.get().is_none() && form.accepted.get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if can_submit() {
            form.continue_sign_up(sign_up_id.clone());
        }
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit data-testid="oauth-consent">
            <p class="torii-text">{form.texts.text(|l| &l.sign_up.one_more_step)}</p>
            <FormAlert errors=form.errors />
            <Consent id=consent_id form=form />
            <button
                class=slot(Slot::ButtonPrimary)
                type="submit"
                disabled=move || !can_submit()
                aria-busy=move || form.is_busy(Busy::Continuing).then_some("true")
            >
                {form
                    .texts
                    .either(
                        move || form.is_busy(Busy::Continuing),
                        |l| &l.sign_up.continuing,
                        |l| &l.common.continue_,
                    )}
            </button>
        </form>
    }
}

pub(super) fn passkey_step(form: SignUpForm, me: Me) -> impl IntoView {
    let t = form.texts;
    let retry_me = me.clone();
    let skip = move |_| form.auth.accept(me.clone());
    view! {
        <div class="torii-form">
            <p class="torii-text">{t.text(|l| &l.sign_up.email_confirmed)}</p>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_up.create_passkey)}</p>
            <FormAlert errors=form.errors />
            <button
                class=slot(Slot::ButtonPrimary)
                type="button"
                disabled=move || form.busy.get().is_some()
                aria-busy=move || form.is_busy(Busy::Passkey).then_some("true")
                on:click=move |_| form.create_passkey(retry_me.clone())
            >
                {t.either(
                    move || form.is_busy(Busy::Passkey),
                    |l| &l.sign_up.creating_passkey,
                    |l| &l.sign_up.try_again,
                )}
            </button>
            <p class="torii-text torii-muted">{t.text(|l| &l.sign_up.without_passkey)}</p>
            <button
                class=slot(Slot::Link)
                type="button"
                disabled=move || form.busy.get().is_some()
                on:click=skip
            >
                {t.text(|l| &l.sign_up.skip)}
            </button>
        </div>
    }
}
