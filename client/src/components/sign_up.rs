//! `<SignUp>`: the sign-up card, a two-step state machine on one card.
//!
//! - *Details*: email, password, optional name, and the Terms/Privacy checkbox when the
//!   environment requires consent ("Create account" stays disabled until it is ticked).
//!   `POST /v1/sign-ups` → 201 moves to *Code*; an error stays here, shown inline.
//! - *Code*: "We sent a 6-digit code to …". "Verify" posts the code: 200 makes the answer the
//!   auth state (signed in, so `<SignedOut>` unmounts the card); a wrong code stays here with
//!   the server's message (which says how many tries are left). "Resend code" asks for a new
//!   code (202, or 429 with the cooldown message). "Use a different email" returns to
//!   *Details* with the fields as they were.
//! - *Consent*: mounted at once when the page's URL carries `oauthSignUp` (a new user who
//!   came back from an OAuth provider in an environment with Terms/Privacy): the checkbox and
//!   "Continue" → `POST /v1/sign-ups/{id}/continue`; 200 signs in, an error stays here.
//! - *Passkey* (when the user chose "Use a passkey instead of a password", offered when the
//!   environment enables passkeys and the browser supports them): the sign-up asked for no
//!   password; once the code is verified the user is signed in (so the passkey is bound to a
//!   verified address) and the browser's passkey dialog opens at once. Success makes the new
//!   state the auth state; a failure stays here with "Try again" and "Skip for now".
//!
//! *Details* also offers a "Continue with …" button per OAuth provider of the environment.

use super::oauth::{OAuthButtons, take_oauth_error, take_oauth_sign_up};
use super::passkey_ceremony::add_passkey;
use super::{Field, FormAlert, FormErrors, field_error, unique_prefix, with_class};
use crate::api::ApiError;
use crate::appearance::{Slot, slot};
use crate::i18n::{Message, Pick, Texts, use_locale};
use crate::provider::{Auth, use_auth};
use crate::webauthn;
use leptos::prelude::*;
use leptos::task::spawn_local;
use torii_shared::{
    ContinueSignUpRequest, ErrorCode, Me, Secret, SignInMethod, SignUpRequest, VerifyCodeRequest,
};

/// Where the card stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Details,
    Code { sign_up_id: String, email: String },
    Consent { sign_up_id: String },
    Passkey { me: Me },
}

/// The sign-up card: details, then the emailed 6-digit code on the same card.
#[component]
pub fn SignUp(
    /// When set, the card offers "Already have an account? Sign in", which calls it.
    #[prop(optional, into)]
    on_sign_in: Option<Callback<()>>,
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("sign-up");
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    let card_class = with_class("torii-card", class);
    let form = SignUpForm::new(auth);
    let step = form.step;
    // Read once mounted (or hydrated), never while rendering: see `SignIn`.
    Effect::new(move |_| {
        if let Some(sign_up_id) = take_oauth_sign_up() {
            step.set(Step::Consent { sign_up_id });
        }
        // A provider sign-up started here that failed (e.g. an unverified email) comes back
        // here.
        if let Some(message) = take_oauth_error() {
            form.errors.set(FormErrors::message(message));
        }
    });

    let body = move || match step.get() {
        Step::Details => details_step(form, &prefix, on_sign_in).into_any(),
        Step::Code { sign_up_id, email } => code_step(form, &prefix, sign_up_id, email).into_any(),
        Step::Consent { sign_up_id } => consent_step(form, &prefix, sign_up_id).into_any(),
        Step::Passkey { me } => passkey_step(form, me).into_any(),
    };

    view! {
        <section class=card_class aria-labelledby=labelled_by lang=form.texts.lang()>
            <h2 class=slot(Slot::Title) id=title_id>
                {form.texts.text(|l| &l.sign_up.title)}
            </h2>
            {body}
        </section>
    }
}

/// The card's state, shared by both steps so that going back keeps what was typed.
#[derive(Clone, Copy)]
struct SignUpForm {
    auth: Auth,
    texts: Texts,
    step: RwSignal<Step>,
    email: RwSignal<String>,
    password: RwSignal<String>,
    name: RwSignal<String>,
    accepted: RwSignal<bool>,
    /// A passkey instead of a password.
    use_passkey: RwSignal<bool>,
    /// Set when the server asked for consent although the environment did not say so
    /// (e.g. it could not be loaded): the checkbox then shows anyway.
    consent_demanded: RwSignal<bool>,
    /// Set when going back from the code step, whose field had the focus.
    focus_email: RwSignal<bool>,
    code: RwSignal<String>,
    busy: RwSignal<Option<Busy>>,
    errors: RwSignal<FormErrors>,
    notice: RwSignal<Option<Message>>,
}

/// Which request is in flight; one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Creating,
    Verifying,
    Resending,
    Continuing,
    Passkey,
}

impl SignUpForm {
    fn new(auth: Auth) -> Self {
        Self {
            auth,
            texts: use_locale(),
            step: RwSignal::new(Step::Details),
            email: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            accepted: RwSignal::new(false),
            use_passkey: RwSignal::new(false),
            consent_demanded: RwSignal::new(false),
            focus_email: RwSignal::new(false),
            code: RwSignal::new(String::new()),
            busy: RwSignal::new(None),
            errors: RwSignal::new(FormErrors::default()),
            notice: RwSignal::new(None),
        }
    }

    fn offers_passkey(self) -> bool {
        // The environment first: unknown while the server renders and at hydration, so both
        // render the same markup before the browser is asked.
        self.auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.methods.contains(&SignInMethod::Passkey))
        }) && webauthn::supported()
    }

    fn consent_required(self) -> bool {
        self.consent_demanded.get()
            || self
                .auth
                .environment
                .with(|env| env.as_ref().is_some_and(|env| env.legal.required))
    }

    /// Marks `busy` and clears the previous outcome; false when another request runs.
    fn start(self, what: Busy) -> bool {
        if self.busy.get_untracked().is_some() {
            return false;
        }
        self.busy.set(Some(what));
        self.errors.set(FormErrors::default());
        self.notice.set(None);
        true
    }

    fn fail(self, err: &ApiError) {
        if err.code() == Some(ErrorCode::ConsentRequired) {
            self.consent_demanded.set(true);
        }
        self.errors.set(FormErrors::from_api(err));
    }

    fn create(self) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::Creating) {
            return;
        }
        let email = self.email.get_untracked().trim().to_owned();
        let name = self.name.get_untracked().trim().to_owned();
        let consent_shown = self.consent_required();
        let passkey = self.use_passkey.get_untracked() && self.offers_passkey();
        let request = SignUpRequest {
            email: email.clone(),
            password: (!passkey).then(|| Secret::new(self.password.get_untracked())),
            name: (!name.is_empty()).then_some(name),
            legal_accepted: consent_shown.then(|| self.accepted.get_untracked()),
            passkey,
        };
        spawn_local(async move {
            let result = api.start_sign_up(&request).await;
            self.busy.set(None);
            match result {
                Ok(created) => {
                    self.code.set(String::new());
                    self.step.set(Step::Code {
                        sign_up_id: created.sign_up_id,
                        email,
                    });
                }
                Err(err) => self.fail(&err),
            }
        });
    }

    fn verify(self, sign_up_id: String) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::Verifying) {
            return;
        }
        let code: String = self
            .code
            .get_untracked()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let request = VerifyCodeRequest {
            code: Secret::new(code),
        };
        let auth = self.auth;
        spawn_local(async move {
            let result = api.verify_sign_up(&sign_up_id, &request).await;
            self.busy.set(None);
            match result {
                Ok(me) if self.use_passkey.get_untracked() => {
                    self.step.set(Step::Passkey { me: me.clone() });
                    self.create_passkey(me);
                }
                Ok(me) => {
                    self.password.set(String::new());
                    auth.accept(me);
                }
                Err(err) => self.fail(&err),
            }
        });
    }

    /// The signed-in (but not yet shown as such) user creates their passkey; success shows
    /// them signed in.
    fn create_passkey(self, me: Me) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::Passkey) {
            return;
        }
        let auth = self.auth;
        spawn_local(async move {
            let result = add_passkey(&api).await;
            self.busy.set(None);
            match result {
                Ok(_) => auth.accept(me),
                Err(err) => self.errors.set(err.errors()),
            }
        });
    }

    fn resend(self, sign_up_id: String, email: String) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::Resending) {
            return;
        }
        spawn_local(async move {
            let result = api.resend_sign_up_code(&sign_up_id).await;
            self.busy.set(None);
            match result {
                Ok(_) => self.notice.set(Some(Message::Fill(
                    |l| &l.common.new_code_sent_to,
                    vec![("email", email)],
                ))),
                Err(err) => self.fail(&err),
            }
        });
    }

    fn continue_sign_up(self, sign_up_id: String) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::Continuing) {
            return;
        }
        let request = ContinueSignUpRequest {
            legal_accepted: self.accepted.get_untracked(),
        };
        let auth = self.auth;
        spawn_local(async move {
            let result = api.continue_sign_up(&sign_up_id, &request).await;
            self.busy.set(None);
            match result {
                Ok(me) => auth.accept(me),
                Err(err) => self.fail(&err),
            }
        });
    }

    fn back_to_details(self) {
        self.errors.set(FormErrors::default());
        self.notice.set(None);
        self.code.set(String::new());
        self.focus_email.set(true);
        self.step.set(Step::Details);
    }

    fn is_busy(self, what: Busy) -> bool {
        self.busy.get() == Some(what)
    }
}

fn details_step(form: SignUpForm, prefix: &str, on_sign_in: Option<Callback<()>>) -> impl IntoView {
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

fn code_step(form: SignUpForm, prefix: &str, sign_up_id: String, email: String) -> impl IntoView {
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
fn consent_step(form: SignUpForm, prefix: &str, sign_up_id: String) -> impl IntoView {
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

fn passkey_step(form: SignUpForm, me: Me) -> impl IntoView {
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
