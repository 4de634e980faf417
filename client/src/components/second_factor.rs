//! `<SecondFactor>`: the second step of a sign-in, for a session pending on the
//! `second_factor` gate.
//!
//! *Authenticator code* (the start): "Authentication code" (six digits, one-time-code
//! autofill) and "Verify" → `POST /v1/session/second-factor` `{method: "totp"}`; 200 makes the
//! answer the state (the gate cleared, so `<SignedIn>` renders). "Use a backup code instead"
//! → *Backup code*, the same with `{method: "backup_code"}` and "Use your authenticator app
//! instead" back. "Use a passkey" (when the environment offers passkeys and the browser
//! supports them) asks the browser for an assertion of one of the user's own passkeys
//! (`POST /v1/session/second-factor/passkey/options`, then `…/passkey`). A wrong, reused or
//! malformed code stays on the step with the server's message; too many tries say when to
//! try again. "Sign out" leaves the half-finished sign-in.
//!
//! `<SignIn>` shows this step itself when its sign-in comes back pending on the gate; apps
//! that route gates through `gate_urls` and `<RedirectToGates>` mount it on the gate's route,
//! inside `<SignedOut>`.

use super::kit::BusyButton;
#[cfg(feature = "passkeys")]
use super::kit::ButtonRole;
#[cfg(feature = "passkeys")]
use super::passkey_ceremony::second_factor_with_passkey;
use super::{Field, FieldKind, FormAlert, FormErrors, GateCard, unique_prefix};
use crate::appearance::{Slot, slot};
use crate::form::FormState;
use crate::i18n::{Pick, Texts, use_locale};
use crate::provider::{Auth, use_auth};
#[cfg(feature = "passkeys")]
use crate::webauthn;
use leptos::prelude::*;
#[cfg(feature = "passkeys")]
use torii_shared::SignInMethod;
use torii_shared::{Me, SecondFactorMethod, SecondFactorRequest, Secret};

/// Which request is in flight; one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Code,
    #[cfg(feature = "passkeys")]
    Passkey,
}

/// The second sign-in step: an authenticator code, a backup code, or a passkey. Errors show
/// inline and are announced.
#[component]
pub fn SecondFactor(
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("second-factor");
    let choice = CodeChoice::new();
    let code = choice.code;
    let t = use_locale();
    let form = FormState::<Busy>::new();
    let errors = form.errors;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(api) = auth.api() else { return };
        let request = choice.request();
        let request = async move { api.verify_second_factor(&request).await };
        form.run(Busy::Code, request, move |me| signed_in(auth, code, me));
    };
    let switch = move |_| {
        choice.switch();
        errors.set(FormErrors::default());
    };
    let code_id = format!("{prefix}-code");
    let field = move || {
        let shape = CodeShape::of(choice.method.get());
        view! {
            <Field
                id=code_id.clone()
                kind=FieldKind::second_factor(shape)
                value=code
                errors=errors
            />
        }
    };
    let email = move || auth.user.with(|u| u.as_ref().map(|u| u.email.clone()));
    view! {
        <GateCard class=class title=|l| &l.second_factor.title step="second-factor">
            <p class=slot(Slot::Subtitle)>
                {t.before(|l| &l.second_factor.signing_in_as, "email")} <strong>{email}</strong>
                {t.after(|l| &l.second_factor.signing_in_as, "email")}
            </p>
            <form class="torii-form" novalidate=true on:submit=submit>
                <FormAlert errors=errors />
                {field}
                <BusyButton
                    form=form
                    what=Busy::Code
                    label=|l| &l.common.verify
                    busy_label=|l| &l.common.verifying
                />
            </form>
            <div class="torii-form">
                {passkey_button(auth, form, code)}
                <button class=slot(Slot::Link) type="button" on:click=switch>
                    {move || choice.switch_label(t)}
                </button>
            </div>
            <p class=slot(Slot::Footer)>
                {t.text(|l| &l.second_factor.not_you)}
                <button
                    class=slot(Slot::Link)
                    type="button"
                    on:click=move |_| {
                        auth.sign_out();
                    }
                >
                    {t.text(|l| &l.common.sign_out)}
                </button>
            </p>
        </GateCard>
    }
}

/// The step is done: the answer (the gate cleared) becomes the state, for every tab.
/// "Use a passkey", when the environment offers passkeys and the browser supports them.
#[cfg(feature = "passkeys")]
fn passkey_button(auth: Auth, form: FormState<Busy>, code: RwSignal<String>) -> impl IntoView {
    let use_passkey = move |()| {
        let Some(api) = auth.api() else { return };
        let request = async move {
            second_factor_with_passkey(&api)
                .await
                .map_err(|err| err.errors())
        };
        form.run(Busy::Passkey, request, move |me| signed_in(auth, code, me));
    };
    let passkeys_offered = move || {
        auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.methods.contains(&SignInMethod::Passkey))
        }) && webauthn::supported()
    };
    move || {
        passkeys_offered().then(|| {
            view! {
                <BusyButton
                    form=form
                    what=Busy::Passkey
                    label=|l| &l.second_factor.use_passkey
                    busy_label=|l| &l.common.passkey_waiting
                    role=ButtonRole::Secondary
                    on_click=Callback::new(use_passkey)
                />
            }
        })
    }
}

#[cfg(not(feature = "passkeys"))]
fn passkey_button(_: Auth, _: FormState<Busy>, _: RwSignal<String>) {}

fn signed_in(auth: Auth, code: RwSignal<String>, me: Me) {
    code.set(String::new());
    auth.accept(me);
}

/// The code a second-factor form takes (authenticator or backup code) and what was typed:
/// shared by the second sign-in step and the re-authentication prompt. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeChoice {
    pub(crate) method: RwSignal<SecondFactorMethod>,
    pub(crate) code: RwSignal<String>,
}

impl CodeChoice {
    /// An authenticator code, nothing typed.
    pub(crate) fn new() -> Self {
        Self {
            method: RwSignal::new(SecondFactorMethod::Totp),
            code: RwSignal::new(String::new()),
        }
    }

    /// The other kind of code; what was typed is dropped.
    pub(crate) fn switch(self) {
        self.method.update(|m| {
            *m = match m {
                SecondFactorMethod::Totp => SecondFactorMethod::BackupCode,
                SecondFactorMethod::BackupCode => SecondFactorMethod::Totp,
            };
        });
        self.code.set(String::new());
    }

    /// The switch's text (a tracked read, for views).
    pub(crate) fn switch_label(self, texts: Texts) -> String {
        let method = self.method.get();
        texts.with(|l| match method {
            SecondFactorMethod::Totp => l.second_factor.use_backup_code.to_string(),
            SecondFactorMethod::BackupCode => l.second_factor.use_authenticator.to_string(),
        })
    }

    /// The typed code as the server reads it, with its kind.
    pub(crate) fn request(self) -> SecondFactorRequest {
        let method = self.method.get_untracked();
        SecondFactorRequest {
            method,
            code: Secret::new(normalize_code(method, &self.code.get_untracked())),
        }
    }
}

/// How the code field looks for each kind of code.
#[derive(Clone, Copy)]
pub(crate) struct CodeShape {
    pub(crate) label: Pick,
    pub(crate) inputmode: &'static str,
    pub(crate) maxlength: &'static str,
    pub(crate) hint: Pick,
}

impl CodeShape {
    pub(crate) fn of(method: SecondFactorMethod) -> Self {
        match method {
            SecondFactorMethod::Totp => Self {
                label: |l| &l.second_factor.authenticator_code,
                inputmode: "numeric",
                maxlength: "6",
                hint: |l| &l.second_factor.authenticator_hint,
            },
            SecondFactorMethod::BackupCode => Self {
                label: |l| &l.second_factor.backup_code,
                inputmode: "text",
                maxlength: "11",
                hint: |l| &l.second_factor.backup_hint,
            },
        }
    }
}

/// What the user typed, as the server reads it: spaces never count, and an authenticator
/// code keeps its digits only ("123 456" and "123-456" are "123456").
fn normalize_code(method: SecondFactorMethod, typed: &str) -> String {
    match method {
        SecondFactorMethod::Totp => crate::form::normalise_code(typed),
        SecondFactorMethod::BackupCode => typed.chars().filter(|c| !c.is_whitespace()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sent_as_the_server_reads_them() {
        assert_eq!(
            normalize_code(SecondFactorMethod::Totp, " 123 456 "),
            "123456"
        );
        assert_eq!(
            normalize_code(SecondFactorMethod::Totp, "123-456"),
            "123456"
        );
        assert_eq!(
            normalize_code(SecondFactorMethod::BackupCode, " abcde-12345\n"),
            "abcde-12345"
        );
    }
}
