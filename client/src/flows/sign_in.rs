//! [`use_sign_in`]: the sign-in ceremony without its card.
//!
//! *Credentials* (email and password, or an emailed sign-in link, or a passkey) →
//! *Link sent*; "Forgot password?" → *Reset email* → *Reset code* (the emailed code and a new
//! password, which signs in). Signing in hands the session to the provider: the app is then
//! signed in, or pending on a gate (a second factor, the Terms…) like after any sign-in.

use super::FlowState;
use crate::completion::{self, Kind};
#[cfg(feature = "passkeys")]
use crate::components::{PasskeyError, sign_in_with_passkey};
#[cfg(feature = "oauth")]
use crate::form::FormErrors;
#[cfg(feature = "password")]
use crate::form::normalise_code;
#[cfg(any(feature = "oauth", feature = "magic-link"))]
use crate::i18n::Message;
use crate::last_method::Method;
#[cfg(feature = "passkeys")]
use crate::webauthn::{self, Abort};
use leptos::prelude::*;
#[cfg(feature = "passkeys")]
use leptos::task::spawn_local;
#[cfg(feature = "magic-link")]
use torii_shared::MagicLinkRequest;
use torii_shared::SignInMethod;
#[cfg(feature = "password")]
use torii_shared::{PasswordResetComplete, PasswordResetRequest, PasswordSignInRequest, Secret};

/// Where a sign-in stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInStep {
    /// The start: email and password, a sign-in link, or a passkey.
    Credentials,
    /// A sign-in link was emailed to `email`.
    LinkSent {
        /// Where the link went.
        email: String,
    },
    /// "Forgot password?": the address to send a reset code to.
    ResetEmail,
    /// A reset code was emailed to `email`: the code and a new password sign in.
    ResetCode {
        /// Where the code went.
        email: String,
    },
}

/// The request in flight; a flow runs one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInBusy {
    /// Signing in with the password.
    Password,
    /// Waiting for the browser's passkey dialog, then the server.
    Passkey,
    /// Emailing a sign-in link.
    SendingLink,
    /// Emailing a password reset code.
    SendingCode,
    /// Setting the new password with the code.
    Resetting,
}

/// Where the focus goes once the next step is on the page (for the built-in card).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    /// The card's title (a step without fields).
    Title,
    /// The step's first field.
    FirstField,
}

/// A sign-in in progress: the fields, the step, what is in flight and what went wrong, and
/// the actions. `Copy`: hand it to every view and closure. The errors and notices come in the
/// provider's language.
///
/// ```no_run
/// use leptos::prelude::*;
/// use torii_client::{SignInBusy, use_sign_in};
///
/// #[component]
/// fn MySignIn() -> impl IntoView {
///     let flow = use_sign_in();
///     view! {
///         <form on:submit=move |ev| {
///             ev.prevent_default();
///             flow.sign_in_with_password();
///         }>
///             <input type="email" bind:value=flow.email />
///             <input type="password" bind:value=flow.password />
///             <button disabled=move || flow.is_busy(SignInBusy::Password)>"Go"</button>
///             <p role="alert">{move || flow.error()}</p>
///         </form>
///     }
/// }
/// ```
#[derive(Clone, Copy)]
pub struct SignInFlow {
    state: FlowState<SignInStep, SignInBusy>,
    /// The Email field (kept across steps).
    pub email: RwSignal<String>,
    /// The Password field.
    pub password: RwSignal<String>,
    /// The emailed reset code.
    pub code: RwSignal<String>,
    /// The new password on *Reset code*.
    pub new_password: RwSignal<String>,
    /// Set when the flow moved to another step: the element that had the focus is gone.
    pub(crate) focus: RwSignal<Option<Focus>>,
    /// Cancels the autofill (conditional) passkey request while it waits.
    #[cfg(feature = "passkeys")]
    autofill: StoredValue<Option<Abort>, LocalStorage>,
}

/// A new sign-in flow, owned by the calling component (its state goes with it). Needs a
/// [`ToriiProvider`](crate::ToriiProvider) above.
pub fn use_sign_in() -> SignInFlow {
    SignInFlow {
        state: FlowState::new(SignInStep::Credentials),
        email: RwSignal::new(String::new()),
        password: RwSignal::new(String::new()),
        code: RwSignal::new(String::new()),
        new_password: RwSignal::new(String::new()),
        focus: RwSignal::new(None),
        #[cfg(feature = "passkeys")]
        autofill: StoredValue::new_local(None),
    }
}

impl std::fmt::Debug for SignInFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state.debug("SignInFlow", f)
    }
}

impl std::ops::Deref for SignInFlow {
    type Target = FlowState<SignInStep, SignInBusy>;

    fn deref(&self) -> &Self::Target {
        &self.state
    }
}

impl SignInFlow {
    fn has_method(self, method: SignInMethod) -> bool {
        self.auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.methods.contains(&method))
        })
    }

    /// Whether passwords are offered: unless the environment says otherwise (including
    /// before it has loaded, or when it could not be). Never in a build without the
    /// `password` feature.
    pub fn offers_password(self) -> bool {
        cfg!(feature = "password")
            && self.auth.environment.with(|env| {
                env.as_ref()
                    .is_none_or(|env| env.methods.contains(&SignInMethod::Password))
            })
    }

    /// Whether the environment emails sign-in links (and the build has `magic-link`).
    pub fn offers_magic_link(self) -> bool {
        cfg!(feature = "magic-link") && self.has_method(SignInMethod::MagicLink)
    }

    /// Whether the environment takes passkeys and this browser has them (and the build has
    /// `passkeys`).
    pub fn offers_passkey(self) -> bool {
        #[cfg(feature = "passkeys")]
        return self.has_method(SignInMethod::Passkey) && webauthn::supported();
        #[cfg(not(feature = "passkeys"))]
        false
    }

    #[cfg(feature = "password")]
    /// Signs in with the Email and Password fields.
    pub fn sign_in_with_password(self) {
        let Some(api) = self.auth.api() else { return };
        let request = PasswordSignInRequest {
            email: self.email_value(),
            password: Secret::new(self.password.get_untracked()),
        };
        let auth = self.auth;
        let request = async move { api.sign_in_with_password(&request).await };
        self.form.run(SignInBusy::Password, request, move |me| {
            self.password.set(String::new());
            completion::begin(auth, Kind::SignIn, Some(Method::Password));
            auth.accept(me);
        });
    }

    #[cfg(feature = "passkeys")]
    /// Signs in with a passkey the user picks in the browser's dialog (no email typed).
    pub fn sign_in_with_passkey(self) {
        let Some(api) = self.auth.api() else { return };
        if self.form.is_any_busy() {
            return;
        }
        self.stop_autofill();
        let auth = self.auth;
        let request = async move {
            sign_in_with_passkey(&api, false, None)
                .await
                .map_err(|err| err.errors())
        };
        self.form.run(SignInBusy::Passkey, request, move |me| {
            completion::begin(auth, Kind::SignIn, Some(Method::Passkey));
            auth.accept(me);
        });
    }

    #[cfg(feature = "magic-link")]
    /// Emails a sign-in link to the Email field's address, bringing the browser back to this
    /// page's origin: from *Credentials* to *Link sent*; on *Link sent* it sends a new one
    /// and says so.
    pub fn send_link(self) {
        let Some(api) = self.auth.api() else { return };
        let email = self.email_value();
        let request = MagicLinkRequest {
            email: email.clone(),
            redirect_url: page_origin().map(|origin| format!("{origin}/")),
        };
        let resending = matches!(self.step.get_untracked(), SignInStep::LinkSent { .. });
        // The link may be opened in another tab: the mark is stored before it is sent.
        completion::begin(self.auth, Kind::SignIn, Some(Method::MagicLink));
        let request = async move { api.request_magic_link(&request).await };
        self.form.run(SignInBusy::SendingLink, request, move |_| {
            if resending {
                let sent = Message::Text(|l| &l.sign_in.link_resent);
                self.form.notice.set(Some(sent));
            } else {
                self.go(SignInStep::LinkSent { email }, Focus::Title);
            }
        });
    }

    #[cfg(feature = "password")]
    /// "Forgot password?": to *Reset email*, the address kept.
    pub fn forgot_password(self) {
        self.go(SignInStep::ResetEmail, Focus::FirstField);
    }

    /// Back to *Credentials*, what was typed kept.
    pub fn back(self) {
        self.go(SignInStep::Credentials, Focus::FirstField);
    }

    #[cfg(feature = "password")]
    /// Emails a password reset code to the Email field's address → *Reset code*.
    pub fn send_reset_code(self) {
        let Some(api) = self.auth.api() else { return };
        let email = self.email_value();
        let request = PasswordResetRequest {
            email: email.clone(),
        };
        let request = async move { api.request_password_reset(&request).await };
        self.form.run(SignInBusy::SendingCode, request, move |_| {
            self.code.set(String::new());
            self.new_password.set(String::new());
            self.go(SignInStep::ResetCode { email }, Focus::FirstField);
        });
    }

    #[cfg(feature = "password")]
    /// On *Reset code*: sets the new password with the emailed code, which signs in (and
    /// signs out every other session of the user).
    pub fn complete_reset(self) {
        let Some(api) = self.auth.api() else { return };
        let SignInStep::ResetCode { email } = self.step.get_untracked() else {
            return;
        };
        let request = PasswordResetComplete {
            email,
            code: Secret::new(normalise_code(&self.code.get_untracked())),
            password: Secret::new(self.new_password.get_untracked()),
        };
        let auth = self.auth;
        let request = async move { api.complete_password_reset(&request).await };
        self.form.run(SignInBusy::Resetting, request, move |me| {
            self.password.set(String::new());
            self.new_password.set(String::new());
            self.code.set(String::new());
            completion::begin(auth, Kind::SignIn, Some(Method::Password));
            auth.accept(me);
        });
    }

    #[cfg(feature = "oauth")]
    /// Shows `message` as the form's error (the card reads an OAuth error from the address).
    pub(crate) fn fail_with(self, message: Message) {
        self.form.fail(FormErrors::message(message));
    }

    pub(crate) fn go(self, step: SignInStep, focus: Focus) {
        self.form.clear();
        self.focus.set(Some(focus));
        self.step.set(step);
    }

    fn email_value(self) -> String {
        self.email.get_untracked().trim().to_owned()
    }

    #[cfg(feature = "passkeys")]
    /// Cancels the autofill request, if one waits.
    pub(crate) fn stop_autofill(self) {
        if let Some(abort) = self.autofill.try_update_value(Option::take).flatten() {
            abort.abort();
        }
    }

    #[cfg(feature = "passkeys")]
    /// Offers passkeys in the Email field's autofill, when the browser can.
    pub(crate) fn start_autofill(self, input: &web_sys::HtmlInputElement) {
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
            match sign_in_with_passkey(&api, true, Some(&abort)).await {
                Ok(me) => {
                    completion::begin(auth, Kind::SignIn, Some(Method::Passkey));
                    auth.accept(me);
                }
                // Only the server's verdict on a passkey the user picked is worth showing; an
                // autofill that could not start, was dismissed or was cancelled by the page
                // leaves the card as it was.
                Err(PasskeyError::Api(err)) if err.code().is_some() => {
                    if self.form.busy.get_untracked().is_none() {
                        self.form.fail(err);
                    }
                }
                Err(_) => {}
            }
        });
    }

    /// Focuses `input` if the step was just entered.
    pub(crate) fn focus_field(self, input: &web_sys::HtmlInputElement) {
        if self.focus.get_untracked() == Some(Focus::FirstField) {
            self.focus.set(None);
            let _ = input.focus();
        }
    }
}

/// The page's origin (`https://app.example.com`), where a sign-in link brings the browser.
#[cfg(feature = "magic-link")]
fn page_origin() -> Option<String> {
    crate::browser::window()?.location().origin().ok()
}
