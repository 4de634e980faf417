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

use super::linked_accounts::LinkedAccounts;
use super::oauth::{self, take_profile_return};
use super::passkeys::PasskeysSection;
use super::reauthenticate::Reauth;
use super::two_step::TwoStepSection;
use super::{AutoFocusField, Field, FormAlert, FormErrors, field_error, unique_prefix};
use crate::api::ApiError;
use crate::provider::use_auth;
use leptos::prelude::*;
use leptos::task::spawn_local;
use torii_shared::{
    ChangeEmailRequest, ChangePasswordRequest, MfaPolicy, Secret, SessionSummary, SignInMethod,
    UpdateProfileRequest, VerifyCodeRequest,
};

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
                <div class=root_class>
                    <ProfileSection title="Account" slug="account">
                        <NameForm />
                        <EmailForm />
                    </ProfileSection>
                    <ProfileSection title="Security" slug="security">
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
                                    <ProfileSection title="Two-step verification" slug="two-step">
                                        <TwoStepSection />
                                    </ProfileSection>
                                }
                            })
                    }}
                    {children.with_value(|children| children.as_ref().map(|c| c()))}
                    <ProfileSection title="Sessions" slug="sessions">
                        <SessionsList version=sessions_version />
                    </ProfileSection>
                </div>
            }
        })
    }
}

/// A section of the profile: a card with its heading, labelled by it.
#[component]
fn ProfileSection(title: &'static str, slug: &'static str, children: Children) -> impl IntoView {
    let heading_id = format!("{}-title", unique_prefix(slug));
    let labelled_by = heading_id.clone();
    view! {
        <section
            class="torii-card torii-profile-section"
            data-section=slug
            aria-labelledby=labelled_by
        >
            <h2 class="torii-card-title" id=heading_id>
                {title}
            </h2>
            {children()}
        </section>
    }
}

/// A status line for a success, announced politely.
fn notice_view(notice: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        notice.get().map(|message| {
            view! {
                <p class="torii-notice" role="status">
                    {message}
                </p>
            }
        })
    }
}

/// What one form of the profile keeps: its busy flag, errors and success message.
#[derive(Clone, Copy)]
struct Action {
    busy: RwSignal<bool>,
    errors: RwSignal<FormErrors>,
    notice: RwSignal<Option<String>>,
}

impl Action {
    fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            errors: RwSignal::new(FormErrors::default()),
            notice: RwSignal::new(None),
        }
    }

    /// Marks the action under way and clears the last outcome; false when it already is.
    fn start(self) -> bool {
        if self.busy.get_untracked() {
            return false;
        }
        self.busy.set(true);
        self.errors.set(FormErrors::default());
        self.notice.set(None);
        true
    }

    fn fail(self, err: &ApiError) {
        self.busy.set(false);
        self.errors.set(FormErrors::from_api(err));
    }

    fn succeed(self, message: impl Into<String>) {
        self.busy.set(false);
        self.notice.set(Some(message.into()));
    }
}

#[component]
fn NameForm() -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("profile-name");
    let current = move || {
        auth.user
            .with_untracked(|u| u.as_ref().and_then(|u| u.name.clone()))
    };
    let name = RwSignal::new(current().unwrap_or_default());
    let action = Action::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(api) = auth.api() else { return };
        if !action.start() {
            return;
        }
        let request = UpdateProfileRequest {
            name: Some(name.get_untracked()),
        };
        spawn_local(async move {
            match api.update_profile(&request).await {
                Ok(me) => {
                    let saved = me
                        .user
                        .as_ref()
                        .and_then(|u| u.name.clone())
                        .unwrap_or_default();
                    name.set(saved);
                    auth.accept(me);
                    action.succeed("Your name was saved.");
                }
                Err(err) => action.fail(&err),
            }
        });
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=submit>
            <FormAlert errors=action.errors />
            {notice_view(action.notice)}
            <Field
                id=format!("{prefix}-name")
                name="name"
                label="Name"
                input_type="text"
                autocomplete="name"
                maxlength="100"
                value=name
                error=field_error(action.errors, "name")
            />
            <button
                class="torii-button torii-button-primary"
                type="submit"
                disabled=move || action.busy.get()
                aria-busy=move || action.busy.get().then_some("true")
            >
                {move || if action.busy.get() { "Saving…" } else { "Save name" }}
            </button>
        </form>
    }
}

/// Where the email change stands; see the module documentation. (The re-authentication
/// prompt, when the server asks for it, stands in for *Enter* while it is open.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EmailStep {
    Idle,
    Enter,
    Code,
}

#[component]
fn EmailForm() -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("profile-email");
    let step = RwSignal::new(EmailStep::Idle);
    let new_email = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let action = Action::new();
    let reauth = Reauth::new();
    let email = move || auth.user.with(|u| u.as_ref().map(|u| u.email.clone()));
    let verified = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.email_verified))
    };

    // The request, kept where it can call itself again after a re-authentication.
    let send_code_slot = StoredValue::new(None::<std::sync::Arc<dyn Fn() + Send + Sync>>);
    let send_code = move || {
        let Some(api) = auth.api() else { return };
        if !action.start() {
            return;
        }
        let request = ChangeEmailRequest {
            email: new_email.get_untracked(),
        };
        spawn_local(async move {
            match api.start_email_change(&request).await {
                Ok(_) => {
                    code.set(String::new());
                    step.set(EmailStep::Code);
                    action.succeed(format!(
                        "We sent a 6-digit code to {}.",
                        request.email.trim()
                    ));
                }
                Err(err) if err.needs_reauthentication() => {
                    action.busy.set(false);
                    reauth.after(&err).ask(move || {
                        if let Some(again) = send_code_slot.get_value() {
                            again();
                        }
                    });
                }
                Err(err) => action.fail(&err),
            }
        });
    };
    send_code_slot.set_value(Some(std::sync::Arc::new(send_code)));
    let on_enter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send_code();
    };
    let on_verify = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(api) = auth.api() else { return };
        if !action.start() {
            return;
        }
        let request = VerifyCodeRequest {
            code: Secret::new(code.get_untracked().trim().to_owned()),
        };
        spawn_local(async move {
            match api.verify_email_change(&request).await {
                Ok(me) => {
                    let now = me
                        .user
                        .as_ref()
                        .map(|u| u.email.clone())
                        .unwrap_or_default();
                    auth.accept(me);
                    step.set(EmailStep::Idle);
                    new_email.set(String::new());
                    action.succeed(format!("Your email address is now {now}."));
                }
                Err(err) => action.fail(&err),
            }
        });
    };
    let cancel = move |_| {
        step.set(EmailStep::Idle);
        action.errors.set(FormErrors::default());
        action.notice.set(None);
    };
    let busy_label = move |idle: &'static str, busy: &'static str| {
        move || if action.busy.get() { busy } else { idle }
    };

    let body = move || {
        if reauth.is_open() {
            return reauth.view().into_any();
        }
        match step.get() {
        EmailStep::Idle => view! {
            <button
                class="torii-button torii-button-secondary"
                type="button"
                on:click=move |_| {
                    action.errors.set(FormErrors::default());
                    action.notice.set(None);
                    step.set(EmailStep::Enter);
                }
            >
                "Change email"
            </button>
        }
        .into_any(),
        EmailStep::Enter => view! {
            <form class="torii-form" novalidate=true on:submit=on_enter>
                <AutoFocusField
                    id=format!("{prefix}-new")
                    name="email"
                    label="New email"
                    input_type="email"
                    autocomplete="email"
                    value=new_email
                    error=field_error(action.errors, "email")
                />
                <div class="torii-row">
                    <button
                        class="torii-button torii-button-primary"
                        type="submit"
                        disabled=move || action.busy.get()
                        aria-busy=move || action.busy.get().then_some("true")
                    >
                        {busy_label("Send code", "Sending…")}
                    </button>
                    <button class="torii-button torii-button-secondary" type="button" on:click=cancel>
                        "Cancel"
                    </button>
                </div>
            </form>
        }
        .into_any(),
        EmailStep::Code => view! {
            <form class="torii-form" novalidate=true on:submit=on_verify>
                <AutoFocusField
                    id=format!("{prefix}-code")
                    name="code"
                    label="Verification code"
                    input_type="text"
                    autocomplete="one-time-code"
                    inputmode="numeric"
                    maxlength="6"
                    value=code
                    error=field_error(action.errors, "code")
                />
                <div class="torii-row">
                    <button
                        class="torii-button torii-button-primary"
                        type="submit"
                        disabled=move || action.busy.get()
                        aria-busy=move || action.busy.get().then_some("true")
                    >
                        {busy_label("Verify", "Verifying…")}
                    </button>
                    <button class="torii-button torii-button-secondary" type="button" on:click=cancel>
                        "Cancel"
                    </button>
                </div>
            </form>
        }
        .into_any(),
    }
    };
    view! {
        <div class="torii-form torii-profile-email">
            <p class="torii-text">
                "Email: " <strong data-testid="profile-email">{email}</strong> " "
                {move || {
                    if verified() {
                        view! { <span class="torii-badge">"Verified"</span> }.into_any()
                    } else {
                        view! { <span class="torii-badge torii-badge-muted">"Not verified"</span> }
                            .into_any()
                    }
                }}
            </p>
            <FormAlert errors=action.errors />
            {notice_view(action.notice)}
            {body}
        </div>
    }
}

#[component]
fn PasswordForm(sessions_version: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("profile-password");
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let sign_out_others = RwSignal::new(false);
    let action = Action::new();
    let reauth = Reauth::new();
    let checkbox_id = format!("{prefix}-others");
    // Whether the account has a password: until the server says, as if it had one.
    let has_password = RwSignal::new(true);
    if let Some(api) = auth.api() {
        spawn_local(async move {
            if let Ok(methods) = api.account_methods().await {
                has_password.set(methods.password);
            }
        });
    }
    // The request, kept where it can call itself again after a re-authentication.
    let change_slot = StoredValue::new(None::<std::sync::Arc<dyn Fn() + Send + Sync>>);
    let change = move || {
        let Some(api) = auth.api() else { return };
        if reauth.is_open_untracked() || !action.start() {
            return;
        }
        reauth.note_focus();
        let current_value = current.get_untracked();
        let request = ChangePasswordRequest {
            current_password: (has_password.get_untracked() && !current_value.is_empty())
                .then(|| Secret::new(current_value)),
            new_password: Secret::new(new_password.get_untracked()),
            sign_out_other_sessions: sign_out_others.get_untracked(),
        };
        spawn_local(async move {
            match api.change_password(&request).await {
                Ok(changed) => {
                    let verb = if has_password.get_untracked() {
                        "changed"
                    } else {
                        "set"
                    };
                    current.set(String::new());
                    new_password.set(String::new());
                    has_password.set(true);
                    let message = match changed.revoked_sessions {
                        0 => format!("Your password was {verb}."),
                        1 => {
                            format!("Your password was {verb}, and 1 other session was signed out.")
                        }
                        n => format!(
                            "Your password was {verb}, and {n} other sessions were signed out."
                        ),
                    };
                    action.succeed(message);
                    sessions_version.update(|v| *v += 1);
                }
                // Only without a password: a current one is itself the proof.
                Err(err) if err.needs_reauthentication() => {
                    action.busy.set(false);
                    reauth.after(&err).ask(move || {
                        if let Some(again) = change_slot.get_value() {
                            again();
                        }
                    });
                }
                Err(err) => action.fail(&err),
            }
        });
    };
    change_slot.set_value(Some(std::sync::Arc::new(change)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change();
    };
    let current_id = format!("{prefix}-current");
    let current_field = move || {
        has_password.get().then(|| {
            view! {
                <Field
                    id=current_id.clone()
                    name="currentPassword"
                    label="Current password"
                    input_type="password"
                    autocomplete="current-password"
                    value=current
                    error=field_error(action.errors, "currentPassword")
                />
            }
        })
    };
    view! {
        <div class="torii-form torii-profile-password">
            <h3 class="torii-subtitle">
                {move || if has_password.get() { "Password" } else { "Set a password" }}
            </h3>
            {move || {
                (!has_password.get())
                    .then(|| {
                        view! {
                            <p class="torii-text torii-muted">
                                "Your account has no password yet: add one to sign in with your email too."
                            </p>
                        }
                    })
            }}
            <FormAlert errors=action.errors />
            {notice_view(action.notice)}
            // Outside the form below: the prompt has a form of its own.
            {reauth.view()}
            <form class="torii-form" novalidate=true on:submit=submit>
                {current_field}
                <Field
                    id=format!("{prefix}-new")
                    name="newPassword"
                    label="New password"
                    input_type="password"
                    autocomplete="new-password"
                    hint="At least 8 characters."
                    required=true
                    value=new_password
                    error=field_error(action.errors, "newPassword")
                />
                <div class="torii-field torii-consent">
                    <input
                        class="torii-checkbox"
                        id=checkbox_id.clone()
                        type="checkbox"
                        bind:checked=sign_out_others
                    />
                    <label for=checkbox_id>"Sign out of all other sessions"</label>
                </div>
                <button
                    class="torii-button torii-button-primary"
                    type="submit"
                    disabled=move || action.busy.get() || reauth.is_open()
                    aria-busy=move || action.busy.get().then_some("true")
                >
                    {move || match (action.busy.get(), has_password.get()) {
                        (true, _) => "Saving…",
                        (false, true) => "Change password",
                        (false, false) => "Set password",
                    }}
                </button>
            </form>
        </div>
    }
}

#[component]
fn SessionsList(version: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let sessions = RwSignal::new(None::<Result<Vec<SessionSummary>, ApiError>>);
    let action = Action::new();
    let revoking = RwSignal::new(None::<String>);
    let load = move || {
        let Some(api) = auth.api() else { return };
        spawn_local(async move {
            let answer = api.sessions().await.map(|list| list.sessions);
            sessions.set(Some(answer));
        });
    };
    Effect::new(move |_| {
        version.track();
        load();
    });
    let revoke = move |session: SessionSummary| {
        let Some(api) = auth.api() else { return };
        if !action.start() {
            return;
        }
        revoking.set(Some(session.id.clone()));
        spawn_local(async move {
            match api.revoke_session(&session.id).await {
                Ok(()) => action.succeed(format!("Signed out of {}.", session.device)),
                Err(err) => action.fail(&err),
            }
            revoking.set(None);
            load();
        });
    };
    let revoke_others = move |_| {
        let Some(api) = auth.api() else { return };
        if !action.start() {
            return;
        }
        spawn_local(async move {
            match api.revoke_other_sessions().await {
                Ok(done) => action.succeed(match done.revoked {
                    0 => "There were no other sessions.".to_owned(),
                    1 => "Signed out of 1 other session.".to_owned(),
                    n => format!("Signed out of {n} other sessions."),
                }),
                Err(err) => action.fail(&err),
            }
            load();
        });
    };
    let others = move || {
        sessions.with(|s| {
            s.as_ref()
                .and_then(|r| r.as_ref().ok())
                .is_some_and(|list| list.iter().any(|s| !s.current))
        })
    };
    let list = move || match sessions.get() {
        None => view! { <p class="torii-muted" role="status">"Loading sessions…"</p> }.into_any(),
        Some(Err(err)) => view! {
            <p class="torii-alert" role="alert">
                {err.message().to_owned()}
            </p>
        }
        .into_any(),
        Some(Ok(list)) => {
            let items = list
                .into_iter()
                .map(|session| {
                    let device_id = format!("{}-device", unique_prefix("session"));
                    let current = session.current;
                    let id = session.id.clone();
                    let for_click = session.clone();
                    let ip = session.ip.clone();
                    view! {
                        <li class="torii-session" data-current=current.then_some("true")>
                            <div class="torii-session-details">
                                <p class="torii-session-device" id=device_id.clone()>
                                    <strong>{session.device.clone()}</strong>
                                    {current
                                        .then(|| view! { " " <span class="torii-badge">"This device"</span> })}
                                </p>
                                <p class="torii-muted">
                                    {ip.map(|ip| format!("{ip} · "))}
                                    "Signed in " {crate::i18n::use_locale().with_untracked(|l| super::local_date_time(l, session.created_at))}
                                </p>
                                <p class="torii-muted">
                                    "Last active " {crate::i18n::use_locale().with_untracked(|l| super::local_date_time(l, session.last_active_at))}
                                </p>
                            </div>
                            {(!current)
                                .then(|| {
                                    let busy = {
                                        let id = id.clone();
                                        move || revoking.get().as_deref() == Some(id.as_str())
                                    };
                                    let busy_too = busy.clone();
                                    view! {
                                        <button
                                            class="torii-button torii-button-secondary"
                                            type="button"
                                            aria-describedby=device_id
                                            disabled=move || action.busy.get()
                                            aria-busy=move || busy().then_some("true")
                                            on:click=move |_| revoke(for_click.clone())
                                        >
                                            {move || if busy_too() { "Signing out…" } else { "Sign out" }}
                                        </button>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="torii-sessions">{items}</ul> }.into_any()
        }
    };
    view! {
        <div class="torii-form">
            <FormAlert errors=action.errors />
            {notice_view(action.notice)}
            {list}
            <button
                class="torii-button torii-button-secondary"
                type="button"
                disabled=move || action.busy.get() || !others()
                on:click=revoke_others
            >
                "Sign out of all other sessions"
            </button>
        </div>
    }
}
