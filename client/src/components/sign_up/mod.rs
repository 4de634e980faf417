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

mod steps;

use crate::api::ApiError;
use crate::appearance::{Slot, slot};
use crate::components::oauth::{OAuthButtons, take_oauth_error, take_oauth_sign_up};
use crate::components::passkey_ceremony::add_passkey;
use crate::components::{Field, FormAlert, FormErrors, field_error, unique_prefix, with_class};
use crate::i18n::{Message, Pick, Texts, use_locale};
use crate::provider::{Auth, use_auth};
use crate::webauthn;
use leptos::prelude::*;
use leptos::task::spawn_local;
use steps::{code_step, consent_step, details_step, passkey_step};
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
