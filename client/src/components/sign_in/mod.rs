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

#[cfg(feature = "oauth")]
use super::oauth::{has_oauth_sign_up, take_oauth_error};
#[cfg(feature = "mfa")]
use super::second_factor::SecondFactor;
use super::{unique_prefix, with_class};
use crate::appearance::{CardLogo, Slot, slot};
use crate::completion::{self, Kind};
use crate::flows::sign_in::Focus;
use crate::flows::{SignInStep, use_sign_in};
use crate::provider::use_auth;
use leptos::prelude::*;
#[cfg(feature = "mfa")]
use torii_shared::GateKey;
use torii_shared::User;

mod credentials;
mod reset;

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
    sign_up_url: MaybeProp<String>,
    /// Where to go once signed in (every gate passed); default: the provider's
    /// `after_sign_in_url`. Same-origin destinations only.
    #[prop(optional, into)]
    after_sign_in_url: MaybeProp<String>,
    /// Called with the user once a sign-in made here completes (every gate passed).
    #[prop(optional, into)]
    on_signed_in: Option<Callback<User>>,
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    completion::register_card(auth, Kind::SignIn, after_sign_in_url, on_signed_in);
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
            <SignInCard on_sign_up=on_sign_up sign_up_url=sign_up_url class=class />
        }
        .into_any(),
        #[cfg(feature = "mfa")]
        Some(Some(GateKey::SecondFactor)) => view! { <SecondFactor class=class /> }.into_any(),
        Some(_) => ().into_any(),
    }
}

/// The card itself, for a visitor without a session.
#[component]
fn SignInCard(
    on_sign_up: Option<Callback<()>>,
    sign_up_url: MaybeProp<String>,
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("sign-in");
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    let card_class = with_class("torii-card", class);
    let flow = use_sign_in();
    let step = flow.step;
    // The address bar is the browser's: read it once mounted (or hydrated), never while
    // rendering, so the server's markup and the browser's first render agree.
    Effect::new(move |_| {
        untrack(|| {
            #[cfg(feature = "oauth")]
            {
                if let Some(message) = take_oauth_error() {
                    flow.fail_with(message);
                }
                if let Some(on_sign_up) = on_sign_up
                    && has_oauth_sign_up()
                {
                    request_animation_frame(move || on_sign_up.run(()));
                }
            }
        });
    });
    let title_ref = NodeRef::<leptos::html::H2>::new();

    // A step that has no field of its own (the inbox notice) gives the focus to the title,
    // so the new text is read out and keyboard users start from the top of the card.
    Effect::new(move |_| {
        if let Some(title) = title_ref.get()
            && flow.focus.get() == Some(Focus::Title)
        {
            flow.focus.set(None);
            let _ = title.focus();
        }
    });

    let t = flow.texts;
    let title = move || {
        t.with(|l| match step.get() {
            SignInStep::Credentials => l.sign_in.title.to_string(),
            SignInStep::LinkSent { .. } => l.sign_in.link_sent_title.to_string(),
            SignInStep::ResetEmail | SignInStep::ResetCode { .. } => {
                l.sign_in.reset_title.to_string()
            }
        })
    };
    let app_name = move || {
        let on_start = step.with(|step| *step == SignInStep::Credentials);
        auth.environment.with(|env| {
            env.as_ref().filter(|_| on_start).map(|env| {
                let subtitle = t.fill(|l| &l.sign_in.subtitle, vec![("app", env.name.clone())]);
                view! { <p class=slot(Slot::Subtitle)>{subtitle}</p> }
            })
        })
    };
    let body = move || match step.get() {
        SignInStep::Credentials => {
            credentials::credentials_step(flow, &prefix, on_sign_up, sign_up_url).into_any()
        }
        #[cfg(feature = "magic-link")]
        SignInStep::LinkSent { email } => reset::link_sent_step(flow, email).into_any(),
        #[cfg(feature = "password")]
        SignInStep::ResetEmail => reset::reset_email_step(flow, &prefix).into_any(),
        #[cfg(feature = "password")]
        SignInStep::ResetCode { email } => reset::reset_code_step(flow, &prefix, email).into_any(),
        // A step of a method this build leaves out is never entered.
        #[allow(unreachable_patterns)]
        _ => ().into_any(),
    };

    view! {
        <section class=card_class aria-labelledby=labelled_by lang=t.lang()>
            <CardLogo />
            <h2 class=slot(Slot::Title) id=title_id tabindex="-1" node_ref=title_ref>
                {title}
            </h2>
            {app_name}
            {body}
        </section>
    }
}
