//! `<SignIn>`: the sign-in card, a small state machine on one card.
//!
//! - *Credentials* (the start): "Email" and "Password", and "Sign in" →
//!   `POST /v1/sign-in/password`; 200 makes the answer the auth state (signed in, so
//!   `<SignedOut>` unmounts the card), an error stays here, shown inline. When the environment
//!   enables magic links, "Email me a sign-in link" posts the Email field's address to
//!   `/v1/magic-links` → *Link sent* (an environment with links but no passwords shows only
//!   the email and that button). "Forgot password?" → *Reset email*, the email kept.
//! - *Link sent*: "Check your inbox". "Resend link" asks again (the newer link replaces the
//!   older one); "Back" returns to *Credentials*.
//! - *Reset email*: "Email" and "Send code" → `POST /v1/password-resets` → *Reset code*;
//!   "Back to sign in" returns to *Credentials*.
//! - *Reset code*: "Reset code" and "New password", "Set new password" →
//!   `POST /v1/password-resets/complete`: 200 signs in on a new session (the server revokes
//!   every other session of the user); a wrong or expired code, or a password the server
//!   refuses, stays here with its message. "Use a different email" → *Reset email*.
//!
//! When the environment offers OAuth providers, *Credentials* starts with a "Continue with …"
//! button per provider (a full-page navigation to the provider). Coming back with an
//! `oauthError` in the URL, the card shows its message inline; coming back with a pending
//! sign-up (`oauthSignUp`, when the app has no separate sign-up route) it calls `on_sign_up`
//! so that `<SignUp>` shows the consent step.
//!
//! When the environment enables passkeys (and the browser supports them), *Credentials* also
//! offers "Sign in with a passkey" (the browser's passkey dialog, no email typed), and, where
//! the browser offers passkeys in autofill, the Email field lists them too (conditional
//! mediation, started when the step shows and cancelled when it goes or the button is used).
//!
//! The server answers a link or code request the same whether or not the address has an
//! account, and so does the card: it never says that an account exists.

use super::oauth::{OAuthButtons, has_oauth_sign_up, take_oauth_error};
use super::passkey_ceremony::{PasskeyError, sign_in_with_passkey};
use super::second_factor::SecondFactor;
use super::{Field, FormAlert, FormErrors, field_error, unique_prefix, with_class};
use crate::api::ApiError;
use crate::appearance::{Slot, slot, slot_with};
use crate::i18n::{Message, Texts, use_locale};
use crate::provider::{Auth, use_auth};
use crate::webauthn::{self, Abort};
use leptos::prelude::*;
use leptos::task::spawn_local;
use torii_shared::{
    GateKey, MagicLinkRequest, PasswordResetComplete, PasswordResetRequest, PasswordSignInRequest,
    Secret, SignInMethod,
};

/// Where the card stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Credentials,
    LinkSent { email: String },
    ResetEmail,
    ResetCode { email: String },
}

/// Which request is in flight; one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    SigningIn,
    Passkey,
    SendingLink,
    SendingCode,
    Resetting,
}

/// The sign-in card: "Email" and "Password" fields and a "Sign in" button, posting to
/// `/v1/sign-in/password`. When the environment enables magic links, "Email me a sign-in
/// link" emails a link to the address in the Email field and shows "Check your inbox" (with
/// "Resend link"). "Forgot password?" resets the password on the same card: the email, then
/// the emailed "Reset code" and a "New password"; success signs the user in. Errors show
/// inline and are announced.
///
/// While the session is pending, the card steps aside: on the `second_factor` gate it shows
/// the second sign-in step ([`SecondFactor`](crate::SecondFactor)) in its place; on any other
/// gate it renders nothing, for `<RedirectToGates>` or the gate's own screen to take over.
#[component]
pub fn SignIn(
    /// When set, the card offers "Create an account", which calls it (e.g. to show `<SignUp>`).
    #[prop(optional, into)]
    on_sign_up: Option<Callback<()>>,
    /// The app's sign-up route (absolute or root-relative), where a new user who signed in
    /// with a provider accepts the Terms; default: this page.
    #[prop(optional, into)]
    sign_up_url: Option<String>,
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let pending_on = Memo::new(move |_| {
        auth.session.with(|session| {
            session
                .as_ref()
                .filter(|_| auth.is_pending.get())
                .map(|session| {
                    session
                        .info
                        .current_gate
                        .as_ref()
                        .map(|gate| gate.key.clone())
                })
        })
    });
    move || match pending_on.get() {
        None => view! {
            <SignInCard on_sign_up=on_sign_up sign_up_url=sign_up_url.clone() class=class />
        }
        .into_any(),
        Some(Some(GateKey::SecondFactor)) => view! { <SecondFactor class=class /> }.into_any(),
        Some(_) => ().into_any(),
    }
}

/// The card itself, for a visitor without a session.
#[component]
fn SignInCard(
    on_sign_up: Option<Callback<()>>,
    sign_up_url: Option<String>,
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("sign-in");
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    let card_class = with_class("torii-card", class);
    let form = SignInForm::new(auth);
    let step = form.step;
    // The address bar is the browser's: read it once mounted (or hydrated), never while
    // rendering, so the server's markup and the browser's first render agree.
    Effect::new(move |_| {
        untrack(|| {
            if let Some(message) = take_oauth_error() {
                form.errors.set(FormErrors::message(message));
            }
            if let Some(on_sign_up) = on_sign_up
                && has_oauth_sign_up()
            {
                request_animation_frame(move || on_sign_up.run(()));
            }
        });
    });
    let title_ref = NodeRef::<leptos::html::H2>::new();

    // A step that has no field of its own (the inbox notice) gives the focus to the title,
    // so the new text is read out and keyboard users start from the top of the card.
    Effect::new(move |_| {
        if let Some(title) = title_ref.get()
            && form.focus.get() == Some(Focus::Title)
        {
            form.focus.set(None);
            let _ = title.focus();
        }
    });

    let t = form.texts;
    let title = move || {
        t.with(|l| match step.get() {
            Step::Credentials => l.sign_in.title.to_string(),
            Step::LinkSent { .. } => l.sign_in.link_sent_title.to_string(),
            Step::ResetEmail | Step::ResetCode { .. } => l.sign_in.reset_title.to_string(),
        })
    };
    let app_name = move || {
        let on_start = step.with(|step| *step == Step::Credentials);
        auth.environment.with(|env| {
            env.as_ref().filter(|_| on_start).map(|env| {
                let subtitle = t.fill(|l| &l.sign_in.subtitle, vec![("app", env.name.clone())]);
                view! { <p class=slot(Slot::Subtitle)>{subtitle}</p> }
            })
        })
    };
    let body = move || match step.get() {
        Step::Credentials => {
            credentials_step(form, &prefix, on_sign_up, sign_up_url.clone()).into_any()
        }
        Step::LinkSent { email } => link_sent_step(form, email).into_any(),
        Step::ResetEmail => reset_email_step(form, &prefix).into_any(),
        Step::ResetCode { email } => reset_code_step(form, &prefix, email).into_any(),
    };

    view! {
        <section class=card_class aria-labelledby=labelled_by lang=t.lang()>
            <h2 class=slot(Slot::Title) id=title_id tabindex="-1" node_ref=title_ref>
                {title}
            </h2>
            {app_name}
            {body}
        </section>
    }
}

/// Where the focus goes once the next step is on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Focus {
    /// The card's title (a step without fields).
    Title,
    /// The step's first field.
    FirstField,
}

/// The card's state, shared by every step so that going back keeps what was typed.
#[derive(Clone, Copy)]
struct SignInForm {
    auth: Auth,
    texts: Texts,
    step: RwSignal<Step>,
    email: RwSignal<String>,
    password: RwSignal<String>,
    code: RwSignal<String>,
    new_password: RwSignal<String>,
    busy: RwSignal<Option<Busy>>,
    errors: RwSignal<FormErrors>,
    notice: RwSignal<Option<Message>>,
    /// Set when the user moved to another step: the element that had the focus is gone.
    focus: RwSignal<Option<Focus>>,
    /// Cancels the autofill (conditional) passkey request while it waits.
    autofill: StoredValue<Option<Abort>, LocalStorage>,
}

impl SignInForm {
    fn new(auth: Auth) -> Self {
        Self {
            auth,
            texts: use_locale(),
            step: RwSignal::new(Step::Credentials),
            email: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            code: RwSignal::new(String::new()),
            new_password: RwSignal::new(String::new()),
            busy: RwSignal::new(None),
            errors: RwSignal::new(FormErrors::default()),
            notice: RwSignal::new(None),
            focus: RwSignal::new(None),
            autofill: StoredValue::new_local(None),
        }
    }

    fn has_method(self, method: SignInMethod) -> bool {
        self.auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.methods.contains(&method))
        })
    }

    /// Passwords are offered unless the environment says otherwise (including before it
    /// has loaded, or when it could not be).
    fn offers_password(self) -> bool {
        self.auth.environment.with(|env| {
            env.as_ref()
                .is_none_or(|env| env.methods.contains(&SignInMethod::Password))
        })
    }

    fn offers_magic_link(self) -> bool {
        self.has_method(SignInMethod::MagicLink)
    }

    fn offers_passkey(self) -> bool {
        self.has_method(SignInMethod::Passkey) && webauthn::supported()
    }

    /// Cancels the autofill request, if one waits.
    fn stop_autofill(self) {
        if let Some(abort) = self.autofill.try_update_value(Option::take).flatten() {
            abort.abort();
        }
    }

    /// "Sign in with a passkey": the browser's dialog, then the server.
    fn sign_in_with_passkey(self) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::Passkey) {
            return;
        }
        self.stop_autofill();
        let auth = self.auth;
        spawn_local(async move {
            let result = sign_in_with_passkey(&api, false, None).await;
            self.busy.set(None);
            match result {
                Ok(me) => auth.accept(me),
                Err(err) => self.errors.set(err.errors()),
            }
        });
    }

    /// Offers passkeys in the Email field's autofill, when the browser can.
    fn start_autofill(self, input: &web_sys::HtmlInputElement) {
        let Some(api) = self.auth.api() else { return };
        if self.autofill.with_value(Option::is_some) {
            return;
        }
        let Some(abort) = Abort::new() else { return };
        self.autofill.set_value(Some(abort.clone()));
        // The browser lists passkeys only in a field marked for it.
        let _ = input.set_attribute("autocomplete", "username webauthn");
        let auth = self.auth;
        spawn_local(async move {
            if !webauthn::conditional_mediation_available().await {
                return;
            }
            let result = sign_in_with_passkey(&api, true, Some(&abort)).await;
            match result {
                Ok(me) => auth.accept(me),
                // Only the server's verdict on a passkey the user picked is worth showing; an
                // autofill that could not start, was dismissed or was cancelled by the page
                // leaves the card as it was.
                Err(PasskeyError::Api(err)) if err.code().is_some() => {
                    if self.busy.get_untracked().is_none() {
                        self.errors.set(FormErrors::from_api(&err));
                    }
                }
                Err(_) => {}
            }
        });
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
        self.errors.set(FormErrors::from_api(err));
    }

    fn is_busy(self, what: Busy) -> bool {
        self.busy.get() == Some(what)
    }

    fn go(self, step: Step, focus: Focus) {
        self.errors.set(FormErrors::default());
        self.notice.set(None);
        self.focus.set(Some(focus));
        self.step.set(step);
    }

    fn email_value(self) -> String {
        self.email.get_untracked().trim().to_owned()
    }

    fn sign_in(self) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::SigningIn) {
            return;
        }
        let request = PasswordSignInRequest {
            email: self.email_value(),
            password: Secret::new(self.password.get_untracked()),
        };
        let auth = self.auth;
        spawn_local(async move {
            let result = api.sign_in_with_password(&request).await;
            self.busy.set(None);
            match result {
                Ok(me) => {
                    self.password.set(String::new());
                    auth.accept(me);
                }
                Err(err) => self.fail(&err),
            }
        });
    }

    /// Emails a sign-in link that brings the browser back to this page's origin. From the
    /// credentials step it moves to *Link sent*; on *Link sent* ("Resend link") it says so.
    fn send_link(self) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::SendingLink) {
            return;
        }
        let email = self.email_value();
        let request = MagicLinkRequest {
            email: email.clone(),
            redirect_url: page_origin().map(|origin| format!("{origin}/")),
        };
        let resending = matches!(self.step.get_untracked(), Step::LinkSent { .. });
        spawn_local(async move {
            let result = api.request_magic_link(&request).await;
            self.busy.set(None);
            match result {
                Ok(_) if resending => {
                    self.notice
                        .set(Some(Message::Text(|l| &l.sign_in.link_resent)));
                }
                Ok(_) => self.go(Step::LinkSent { email }, Focus::Title),
                Err(err) => self.fail(&err),
            }
        });
    }

    fn send_reset_code(self) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::SendingCode) {
            return;
        }
        let email = self.email_value();
        let request = PasswordResetRequest {
            email: email.clone(),
        };
        spawn_local(async move {
            let result = api.request_password_reset(&request).await;
            self.busy.set(None);
            match result {
                Ok(_) => {
                    self.code.set(String::new());
                    self.new_password.set(String::new());
                    self.go(Step::ResetCode { email }, Focus::FirstField);
                }
                Err(err) => self.fail(&err),
            }
        });
    }

    fn complete_reset(self, email: String) {
        let Some(api) = self.auth.api() else { return };
        if !self.start(Busy::Resetting) {
            return;
        }
        let code: String = self
            .code
            .get_untracked()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let request = PasswordResetComplete {
            email,
            code: Secret::new(code),
            password: Secret::new(self.new_password.get_untracked()),
        };
        let auth = self.auth;
        spawn_local(async move {
            let result = api.complete_password_reset(&request).await;
            self.busy.set(None);
            match result {
                Ok(me) => {
                    self.password.set(String::new());
                    self.new_password.set(String::new());
                    self.code.set(String::new());
                    auth.accept(me);
                }
                Err(err) => self.fail(&err),
            }
        });
    }

    /// Focuses `input` if the step was just entered.
    fn focus_field(self, input: &web_sys::HtmlInputElement) {
        if self.focus.get_untracked() == Some(Focus::FirstField) {
            self.focus.set(None);
            let _ = input.focus();
        }
    }
}

/// The page's origin (`https://app.example.com`), where a sign-in link brings the browser.
fn page_origin() -> Option<String> {
    crate::browser::window()?.location().origin().ok()
}

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

fn credentials_step(
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

fn link_sent_step(form: SignInForm, email: String) -> impl IntoView {
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

fn reset_email_step(form: SignInForm, prefix: &str) -> impl IntoView {
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

fn reset_code_step(form: SignInForm, prefix: &str, email: String) -> impl IntoView {
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
