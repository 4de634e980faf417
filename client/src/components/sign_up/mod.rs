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

#[cfg(feature = "oauth")]
use super::oauth::{take_oauth_error, take_oauth_sign_up};
use super::{unique_prefix, with_class};
use crate::appearance::{CardLogo, Slot, slot};
use crate::completion::{self, Kind};
use crate::flows::{SignUpStep, use_sign_up};
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::User;

mod details;
mod steps;

/// The sign-up card: details, then the emailed 6-digit code on the same card.
#[component]
pub fn SignUp(
    /// When set, the card offers "Already have an account? Sign in", which calls it.
    #[prop(optional, into)]
    on_sign_in: Option<Callback<()>>,
    /// Where to go once signed up (every gate passed); default: the provider's
    /// `after_sign_up_url`, then `after_sign_in_url`. Same-origin destinations only.
    #[prop(optional, into)]
    after_sign_up_url: MaybeProp<String>,
    /// Called with the new user once a sign-up made here completes (every gate passed).
    #[prop(optional, into)]
    on_signed_in: Option<Callback<User>>,
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    completion::register_card(use_auth(), Kind::SignUp, after_sign_up_url, on_signed_in);
    let prefix = unique_prefix("sign-up");
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    let card_class = with_class("torii-card", class);
    let flow = use_sign_up();
    let step = flow.step;
    // Read once mounted (or hydrated), never while rendering: see `SignIn`.
    #[cfg(feature = "oauth")]
    Effect::new(move |_| {
        if let Some(sign_up_id) = take_oauth_sign_up() {
            step.set(SignUpStep::Consent { sign_up_id });
        }
        // A provider sign-up started here that failed (e.g. an unverified email) comes back
        // here.
        if let Some(message) = take_oauth_error() {
            flow.fail_with(message);
        }
    });

    let body = move || match step.get() {
        SignUpStep::Details => details::details_step(flow, &prefix, on_sign_in).into_any(),
        SignUpStep::Code { email, .. } => steps::code_step(flow, &prefix, email).into_any(),
        #[cfg(feature = "oauth")]
        SignUpStep::Consent { .. } => steps::consent_step(flow, &prefix).into_any(),
        #[cfg(feature = "passkeys")]
        SignUpStep::Passkey { .. } => steps::passkey_step(flow).into_any(),
        // A step of a method this build leaves out is never entered.
        #[allow(unreachable_patterns)]
        _ => ().into_any(),
    };

    view! {
        <section class=card_class aria-labelledby=labelled_by lang=flow.texts.lang()>
            <CardLogo />
            <h2 class=slot(Slot::Title) id=title_id>
                {flow.texts.text(|l| &l.sign_up.title)}
            </h2>
            {body}
        </section>
    }
}
