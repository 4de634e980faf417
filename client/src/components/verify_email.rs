//! `<VerifyEmail>`: the ready-made screen for the `email_verification` gate.
//!
//! Start ("Send code") → sending → code step ("We sent a 6-digit code to <email>", with
//! "Verify" and "Resend code") → verifying → either verified (the session is refreshed; with
//! no gate left it is active and `<SignedIn>` renders, else `<RedirectToGates>` moves on to
//! the next gate) or the code step again with the server's message (tries left, expired).
//!
//! The code is sent on a click, not on mount: a reload or a remount of the page must not
//! email the user again, and within the server's 30-second cooldown a send made at mount
//! would only fail. A send refused by that cooldown still moves to the code step, since the
//! code sent moments ago is the one to enter; "I already have a code" goes there directly.

use super::code_step::CodeStep;
use super::kit::{BusyButton, ButtonRole};
use super::{FormAlert, FormErrors, GateCard, unique_prefix};
use crate::api::ApiError;
use crate::appearance::{Slot, slot};
use crate::form::FormState;
use crate::i18n::{Message, Texts, use_locale};
use crate::provider::{Auth, use_auth};
use leptos::prelude::*;
use torii_shared::{ErrorCode, Secret, VerifyCodeRequest};

/// The screen that clears the `email_verification` gate: a "Send code" button that emails
/// the signed-in user a 6-digit code (`/v1/email-verification/send`), then a "Verification
/// code" field with "Verify" (`/v1/email-verification/verify`, then a session refresh) and
/// "Resend code". Errors show inline and are announced; a wrong code says how many tries are
/// left.
///
/// Mount it on the route given for [`GateKey::EmailVerification`](crate::GateKey) in the
/// provider's `gate_urls`, inside `<SignedOut>` (a pending session counts as signed out).
#[component]
pub fn VerifyEmail(
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("verify-email");
    let form = VerifyForm::new(auth);
    let body = move || {
        if form.code_step.get() {
            code_step(form, &prefix).into_any()
        } else {
            start_step(form).into_any()
        }
    };
    view! {
        <GateCard class=class title=|l| &l.gates.verify_title>
            {body}
        </GateCard>
    }
}

/// Which request is in flight; one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Sending,
    Verifying,
    Resending,
}

/// The screen's state, shared by both steps.
#[derive(Clone, Copy)]
struct VerifyForm {
    auth: Auth,
    texts: Texts,
    code_step: RwSignal<bool>,
    code: RwSignal<String>,
    form: FormState<Busy>,
}

impl VerifyForm {
    fn new(auth: Auth) -> Self {
        Self {
            auth,
            texts: use_locale(),
            code_step: RwSignal::new(false),
            code: RwSignal::new(String::new()),
            form: FormState::new(),
        }
    }

    fn email(self) -> Option<String> {
        self.auth.user.with(|u| u.as_ref().map(|u| u.email.clone()))
    }

    /// Sends a code ("Send code", or "Resend code" on the code step).
    fn send(self, what: Busy) {
        let Some(api) = self.auth.api() else { return };
        let request = async move {
            match api.send_email_verification().await {
                Ok(_) => Ok(None),
                // The first send of this page, refused by the cooldown: a code went out
                // moments ago (another tab, a reload), and it is the one to enter.
                Err(err) if what == Busy::Sending && err.code() == Some(ErrorCode::RateLimited) => {
                    Ok(Some(match err.retry_after_secs() {
                        Some(secs) => Message::Count(|l| &l.gates.recent_code_wait, secs),
                        None => Message::Text(|l| &l.gates.recent_code),
                    }))
                }
                Err(err) => Err(err),
            }
        };
        self.form.run(what, request, move |recent| {
            let notice = recent.or_else(|| {
                (what == Busy::Resending).then(|| {
                    let to = self
                        .email()
                        .unwrap_or_else(|| self.texts.now(|l| &l.gates.your_address));
                    Message::Fill(|l| &l.common.new_code_sent_to, vec![("email", to)])
                })
            });
            self.form.notice.set(notice);
            self.code.set(String::new());
            self.code_step.set(true);
        });
    }

    fn verify(self) {
        let Some(api) = self.auth.api() else { return };
        let code = crate::form::normalise_code(&self.code.get_untracked());
        let request = VerifyCodeRequest {
            code: Secret::new(code),
        };
        let auth = self.auth;
        // The session is refreshed before the step lets go: the gate is cleared when the
        // button stops saying "Verifying…".
        let request = async move {
            let me = api
                .verify_email(&request)
                .await
                .map_err(|err| verify_errors(&err))?;
            auth.refresh_after(me).await;
            Ok::<_, FormErrors>(())
        };
        self.form.run(Busy::Verifying, request, move |()| {
            self.code.set(String::new())
        });
    }
}

/// A verification failure as the form shows it. The server answers 404 when no code is
/// waiting (none sent yet, or it was used): say what to do about it.
fn verify_errors(err: &ApiError) -> FormErrors {
    let mut errors = FormErrors::from_api(err);
    if err.code() == Some(ErrorCode::NotFound) {
        errors.message = Some(Message::Text(|l| &l.gates.no_code_waiting));
    }
    errors
}

fn start_step(form: VerifyForm) -> impl IntoView {
    let t = form.texts;
    let email = move || form.email();
    view! {
        <div class="torii-form">
            <p class="torii-text">
                {t.before(|l| &l.gates.verify_intro, "email")} <strong>{email}</strong>
                {t.after(|l| &l.gates.verify_intro, "email")}
            </p>
            <FormAlert errors=form.form.errors />
            <BusyButton
                form=form.form
                what=Busy::Sending
                label=|l| &l.common.send_code
                busy_label=|l| &l.common.sending
                role=ButtonRole::Primary
                on_click=Callback::new(move |()| form.send(Busy::Sending))
            />
            <p class=slot(Slot::Footer)>
                <button
                    class=slot(Slot::Link)
                    type="button"
                    on:click=move |_| {
                        form.form.errors.set(FormErrors::default());
                        form.code_step.set(true);
                    }
                >
                    {t.text(|l| &l.gates.have_code)}
                </button>
            </p>
        </div>
    }
}

fn code_step(form: VerifyForm, prefix: &str) -> impl IntoView {
    let email = Signal::derive(move || {
        form.email()
            .unwrap_or_else(|| form.texts.now(|l| &l.gates.your_address))
    });
    view! {
        <CodeStep
            id=format!("{prefix}-code")
            form=form.form
            code=form.code
            sent_to=|l| &l.gates.verify_code_sent
            email=email
            verifying=Busy::Verifying
            on_submit=Callback::new(move |()| form.verify())
            resend=(Busy::Resending, Callback::new(move |()| form.send(Busy::Resending)))
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Locale;

    #[test]
    fn a_missing_code_says_to_send_one() {
        let err = ApiError::from_status_and_body(
            404,
            r#"{"error":{"code":"not_found","message":"This sign-up was not found."}}"#,
        );
        assert_eq!(
            verify_errors(&err)
                .message
                .map(|m| m.render(&Locale::en()))
                .as_deref(),
            Some("No code is waiting for this address. Send a new code.")
        );
    }

    #[test]
    fn a_wrong_code_keeps_the_message_with_the_tries_left() {
        let err = ApiError::from_status_and_body(
            422,
            r#"{"error":{"code":"invalid_code","message":"That code is not right. 4 tries left.","triesLeft":4}}"#,
        );
        assert_eq!(
            verify_errors(&err)
                .message
                .map(|m| m.render(&Locale::en()))
                .as_deref(),
            Some("That code is not right. 4 tries left.")
        );
    }
}
