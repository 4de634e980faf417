//! `<UserProfile>`: the signed-in user's account page, in sections.
//!
//! - *Account*: the display name (Save) and the email address. Changing the email is a small
//!   state machine: *Idle* → "Change email" → *Enter* (new address, Continue) → the server
//!   emails a code to it → *Code* (Verify, or Cancel) → the new address is the account's and
//!   the page says so. When the server answers `reauthentication_required` (the sign-in is
//!   older than the environment's window, 10 minutes by default), *Enter* gives way to the
//!   re-authentication prompt (password, passkey or linked provider; see
//!   [`super::reauthenticate`]), and once it is answered the code is sent as asked.
//! - *Security*: the password (current and new, and whether to sign out every other
//!   session; for an account without one, "Set a password", after a recent sign-in); the
//!   passkeys, when the environment offers them (the list of `<Passkeys>`); and the linked
//!   provider accounts, when it has providers (see [`super::linked_accounts`]).
//! - `children`: more sections of the application's own, after *Security*.
//! - *Sessions*: every session of the user with its device, IP address and times (in the
//!   browser's time zone and language), the current one marked "This device"; "Sign out" on
//!   each other one, and "Sign out of all other sessions".
//!
//! Every action shows its progress on its button and its outcome inline: errors in an alert
//! (announced at once), successes in a status line. Every change that needs a recent sign-in
//! opens the re-authentication prompt where it was asked for, and is made once it is answered.

mod account;
mod password;
mod sessions;

use super::linked_accounts::LinkedAccounts;
use super::oauth::{self, take_profile_return};
use super::passkeys::PasskeysSection;
use super::two_step::TwoStepSection;
use super::unique_prefix;
use crate::appearance::{Slot, slot, slot_with};
use crate::form::FormState;
use crate::i18n::{Pick, use_locale};
use crate::provider::use_auth;
use account::{EmailForm, NameForm};
use leptos::prelude::*;
use password::PasswordForm;
use sessions::SessionsList;
use torii_shared::{MfaPolicy, SignInMethod};

/// The signed-in user's profile: account, security and sessions, each a section with its own
/// heading. Renders nothing when signed out.
///
/// The security section holds the password, and, as the environment offers them, the
/// passkeys and the linked provider accounts. `children` are extra sections placed after
/// *Security*; `class` is added to the root element's classes.
#[component]
pub fn UserProfile(
    /// Extra classes on the root element, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
    /// More sections of the application's own, after the security section.
    #[prop(optional)]
    children: Option<ChildrenFn>,
) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let root_class = super::with_class("torii-profile", class);
    // Bumped when something ends sessions, so the list reads them again.
    let sessions_version = RwSignal::new(0_u32);
    let children = StoredValue::new(children);
    // Back from a provider (a link, or a re-authentication): shown by the linked accounts.
    let back = StoredValue::new(take_profile_return());
    let offers_passkeys = Memo::new(move |_| {
        auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.methods.contains(&SignInMethod::Passkey))
        })
    });
    let offers_providers = Memo::new(move |_| !oauth::providers(auth).is_empty());
    let offers_two_step = Memo::new(move |_| {
        auth.environment
            .with(|env| env.as_ref().is_some_and(|env| env.mfa != MfaPolicy::Off))
    });
    move || {
        // Rebuilt only when the user signs in or out, not on every profile change.
        auth.is_signed_in.get().then(|| {
            view! {
                <div class=root_class lang=t.lang()>
                    <ProfileSection title=|l| &l.profile.account_title slug="account">
                        <NameForm />
                        <EmailForm />
                    </ProfileSection>
                    <ProfileSection title=|l| &l.profile.security_title slug="security">
                        <PasswordForm sessions_version=sessions_version />
                        {move || offers_passkeys.get().then(|| view! { <PasskeysSection /> })}
                        {move || {
                            offers_providers
                                .get()
                                .then(|| {
                                    let back = back.try_update_value(Option::take).flatten();
                                    view! { <LinkedAccounts back=back /> }
                                })
                        }}
                    </ProfileSection>
                    {move || {
                        offers_two_step
                            .get()
                            .then(|| {
                                view! {
                                    <ProfileSection title=|l| &l.two_step.title slug="two-step">
                                        <TwoStepSection />
                                    </ProfileSection>
                                }
                            })
                    }}
                    {children.with_value(|children| children.as_ref().map(|c| c()))}
                    <ProfileSection title=|l| &l.sessions.title slug="sessions">
                        <SessionsList version=sessions_version />
                    </ProfileSection>
                </div>
            }
        })
    }
}

/// A section of the profile: a card with its heading, labelled by it.
#[component]
fn ProfileSection(title: Pick, slug: &'static str, children: Children) -> impl IntoView {
    let t = use_locale();
    let heading_id = format!("{}-title", unique_prefix(slug));
    let labelled_by = heading_id.clone();
    view! {
        <section
            class=slot_with(Slot::Card, "torii-profile-section")
            data-section=slug
            aria-labelledby=labelled_by
            lang=t.lang()
        >
            <h2 class=slot(Slot::Title) id=heading_id>
                {t.text(title)}
            </h2>
            {children()}
        </section>
    }
}

/// What one form of the profile keeps: whether its request runs, its errors and success
/// message (requests that may need a re-authentication first run by hand over it).
type SectionForm = FormState<()>;
