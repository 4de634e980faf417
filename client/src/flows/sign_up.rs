//! [`use_sign_up`]: the sign-up ceremony without its card.
//!
//! *Details* (email, password or a passkey, optional name, consent when the environment asks
//! for it) → *Code* (the emailed 6-digit code, which signs in) → with a passkey, *Passkey*
//! (the browser's dialog, then signed in). A new user who came back from an OAuth provider in
//! an environment with Terms starts on *Consent*.

use super::FlowState;
use crate::completion::{self, Kind};
#[cfg(feature = "passkeys")]
use crate::components::add_passkey;
#[cfg(feature = "oauth")]
use crate::form::FormErrors;
use crate::form::normalise_code;
use crate::i18n::Message;
use crate::last_method::Method;
#[cfg(feature = "passkeys")]
use crate::webauthn;
use leptos::prelude::*;
#[cfg(feature = "oauth")]
use torii_shared::ContinueSignUpRequest;
#[cfg(feature = "passkeys")]
use torii_shared::SignInMethod;
use torii_shared::{ErrorCode, Me, Secret, SignUpRequest, VerifyCodeRequest};

/// Where a sign-up stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignUpStep {
    /// Email, password (or a passkey), name, consent.
    Details,
    /// The 6-digit code emailed to `email`.
    Code {
        /// The pending sign-up.
        sign_up_id: String,
        /// Where the code went.
        email: String,
    },
    /// A provider's new user accepts the Terms.
    Consent {
        /// The pending sign-up.
        sign_up_id: String,
    },
    /// Signed in (not yet shown as such): the browser creates the passkey.
    Passkey {
        /// The session, handed to the provider once the passkey exists (or is skipped).
        me: Me,
    },
}

/// The request in flight; a flow runs one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignUpBusy {
    /// Creating the sign-up (which emails the code).
    Creating,
    /// Verifying the code.
    Verifying,
    /// Sending a new code.
    Resending,
    /// Accepting the Terms for a provider's new user.
    Continuing,
    /// Creating the passkey.
    Passkey,
}

/// A sign-up in progress: the fields, the step, what is in flight and what went wrong, and
/// the actions. `Copy`; errors and notices come in the provider's language.
#[derive(Clone, Copy)]
pub struct SignUpFlow {
    state: FlowState<SignUpStep, SignUpBusy>,
    /// The Email field.
    pub email: RwSignal<String>,
    /// The Password field (unused with a passkey).
    pub password: RwSignal<String>,
    /// The optional Name field.
    pub name: RwSignal<String>,
    /// The consent checkbox.
    pub accepted: RwSignal<bool>,
    /// A passkey instead of a password.
    pub use_passkey: RwSignal<bool>,
    /// The emailed code.
    pub code: RwSignal<String>,
    /// Set when the server asked for consent although the environment did not say so
    /// (e.g. it could not be loaded): the checkbox then shows anyway.
    consent_demanded: RwSignal<bool>,
    /// Set when going back from the code step, whose field had the focus.
    pub(crate) focus_email: RwSignal<bool>,
}

impl std::fmt::Debug for SignUpFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state.debug("SignUpFlow", f)
    }
}

impl std::ops::Deref for SignUpFlow {
    type Target = FlowState<SignUpStep, SignUpBusy>;

    fn deref(&self) -> &Self::Target {
        &self.state
    }
}

/// A new sign-up flow, owned by the calling component. Needs a
/// [`ToriiProvider`](crate::ToriiProvider) above.
pub fn use_sign_up() -> SignUpFlow {
    SignUpFlow {
        state: FlowState::new(SignUpStep::Details),
        email: RwSignal::new(String::new()),
        password: RwSignal::new(String::new()),
        name: RwSignal::new(String::new()),
        accepted: RwSignal::new(false),
        use_passkey: RwSignal::new(false),
        code: RwSignal::new(String::new()),
        consent_demanded: RwSignal::new(false),
        focus_email: RwSignal::new(false),
    }
}

impl SignUpFlow {
    /// Whether the environment takes passkeys and this browser has them. Unknown (false)
    /// while the server renders and at hydration, so both render the same markup.
    /// Never in a build without the `passkeys` feature.
    pub fn offers_passkey(self) -> bool {
        #[cfg(feature = "passkeys")]
        return self.auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.methods.contains(&SignInMethod::Passkey))
        }) && webauthn::supported();
        #[cfg(not(feature = "passkeys"))]
        false
    }

    /// Whether the consent checkbox must be shown and ticked (tracked).
    pub fn consent_required(self) -> bool {
        self.consent_demanded.get()
            || self
                .auth
                .environment
                .with(|env| env.as_ref().is_some_and(|env| env.legal.required))
    }

    /// Creates the sign-up from *Details*, which emails the code → *Code*.
    pub fn create(self) {
        let Some(api) = self.auth.api() else { return };
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
        let demanded = self.consent_demanded;
        let request = async move { note_consent(demanded, api.start_sign_up(&request).await) };
        self.form
            .run(SignUpBusy::Creating, request, move |created| {
                self.code.set(String::new());
                self.step.set(SignUpStep::Code {
                    sign_up_id: created.sign_up_id,
                    email,
                });
            });
    }

    /// On *Code*: verifies the code, which signs in (with a passkey: → *Passkey*, and the
    /// browser's dialog opens).
    pub fn verify(self) {
        let Some(api) = self.auth.api() else { return };
        let SignUpStep::Code { sign_up_id, .. } = self.step.get_untracked() else {
            return;
        };
        let request = VerifyCodeRequest {
            code: Secret::new(normalise_code(&self.code.get_untracked())),
        };
        let auth = self.auth;
        let demanded = self.consent_demanded;
        let request =
            async move { note_consent(demanded, api.verify_sign_up(&sign_up_id, &request).await) };
        self.form.run(SignUpBusy::Verifying, request, move |me| {
            let with_password = !self.use_passkey.get_untracked();
            completion::begin(
                auth,
                Kind::SignUp,
                with_password.then_some(Method::Password),
            );
            #[cfg(feature = "passkeys")]
            if self.use_passkey.get_untracked() {
                self.step.set(SignUpStep::Passkey { me });
                self.create_passkey();
                return;
            }
            self.password.set(String::new());
            auth.accept(me);
        });
    }

    /// On *Passkey*: the browser creates the passkey; success shows the user signed in.
    #[cfg(feature = "passkeys")]
    pub fn create_passkey(self) {
        let Some(api) = self.auth.api() else { return };
        let SignUpStep::Passkey { me } = self.step.get_untracked() else {
            return;
        };
        let auth = self.auth;
        let request = async move { add_passkey(&api).await.map_err(|err| err.errors()) };
        self.form
            .run(SignUpBusy::Passkey, request, move |_| auth.accept(me));
    }

    /// On *Passkey*: "Skip for now", signed in without one.
    pub fn skip_passkey(self) {
        if let SignUpStep::Passkey { me } = self.step.get_untracked() {
            self.auth.accept(me);
        }
    }

    /// On *Code*: emails a new code (the server's cooldown applies).
    pub fn resend(self) {
        let Some(api) = self.auth.api() else { return };
        let SignUpStep::Code { sign_up_id, email } = self.step.get_untracked() else {
            return;
        };
        let request = async move { api.resend_sign_up_code(&sign_up_id).await };
        self.form.run(SignUpBusy::Resending, request, move |_| {
            let sent = Message::Fill(|l| &l.common.new_code_sent_to, vec![("email", email)]);
            self.form.notice.set(Some(sent));
        });
    }

    /// On *Consent*: accepts the Terms, which signs the provider's new user in.
    #[cfg(feature = "oauth")]
    pub fn continue_sign_up(self) {
        let Some(api) = self.auth.api() else { return };
        let SignUpStep::Consent { sign_up_id } = self.step.get_untracked() else {
            return;
        };
        let request = ContinueSignUpRequest {
            legal_accepted: self.accepted.get_untracked(),
        };
        let auth = self.auth;
        let request = async move { api.continue_sign_up(&sign_up_id, &request).await };
        self.form
            .run(SignUpBusy::Continuing, request, move |me| auth.accept(me));
    }

    /// "Use a different email": back to *Details*, the fields as they were.
    pub fn back_to_details(self) {
        self.form.clear();
        self.code.set(String::new());
        self.focus_email.set(true);
        self.step.set(SignUpStep::Details);
    }

    /// Shows `message` as the form's error (the card reads an OAuth error from the address).
    #[cfg(feature = "oauth")]
    pub(crate) fn fail_with(self, message: Message) {
        self.form.fail(FormErrors::message(message));
    }
}

/// A refusal for want of consent makes the checkbox show from then on.
fn note_consent<T>(
    demanded: RwSignal<bool>,
    outcome: Result<T, crate::api::ApiError>,
) -> Result<T, crate::api::ApiError> {
    if let Err(err) = &outcome
        && err.code() == Some(ErrorCode::ConsentRequired)
    {
        demanded.set(true);
    }
    outcome
}
