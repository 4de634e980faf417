//! The "Two-step verification" part of `<UserProfile>`: whether an authenticator app is set
//! up, how many backup codes are left, and the changes to both.
//!
//! Reads `GET /v1/me/mfa`. "Add an authenticator app" runs the enrolment steps inline (the
//! same as `<SetupMfa>`) and shows the backup codes the first factor brings. "Remove" (the
//! authenticator) and "Create new backup codes" need a recent second factor: the server's
//! `second_factor_required` opens the re-authentication prompt, which asks for a code, and
//! the change runs again once it is given. New backup codes are shown once; the old ones stop
//! working.

use super::guarded::{GuardedForm, Retry};
use super::item_list::{load_failed, still_loading};
use super::kit::{BusyButton, ButtonRole};
use super::setup_mfa::{EnrollAuthenticator, SavedCodes};
use super::{FormAlert, FormNotice};
use crate::api::ApiError;
use crate::appearance::{Slot, slot};
use crate::i18n::{Message, Pick, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::{BackupCodes, MfaPolicy, TotpConfirmed};

/// Which change is in flight; one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Removing,
    Regenerating,
}

/// The section's body (the profile draws the card around it).
#[component]
pub(crate) fn TwoStepSection() -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    // Read in the browser only: the server renders the section's shell.
    let factors = LocalResource::new(move || {
        let api = auth.api();
        async move { api.ok_or(ApiError::Network)?.second_factors().await }
    });
    let enrolling = RwSignal::new(false);
    let new_codes = RwSignal::new(None::<Vec<String>>);
    let guarded = GuardedForm::<Busy>::new();
    let (form, reauth) = (guarded.form, guarded.reauth);
    let notice = form.notice;
    let open = Signal::derive(move || !reauth.is_open());
    let required = move || {
        auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.mfa == MfaPolicy::Required)
        })
    };

    let remove = Retry::new(move |(), again| {
        let Some(api) = auth.api() else { return };
        let request = async move { api.remove_totp().await };
        let done = move |()| {
            notice.set(Some(Message::Text(|l| &l.two_step.authenticator_removed)));
            factors.refetch();
        };
        new_codes.set(None);
        guarded.run(Busy::Removing, request, done, move || again.call(()));
    });

    let regenerate = Retry::new(move |(), again| {
        let Some(api) = auth.api() else { return };
        let request = async move { api.regenerate_backup_codes().await };
        let done = move |created: BackupCodes| {
            new_codes.set(Some(created.codes));
            factors.refetch();
        };
        new_codes.set(None);
        guarded.run(Busy::Regenerating, request, done, move || again.call(()));
    });

    let on_confirmed = Callback::new(move |confirmed: TotpConfirmed| {
        enrolling.set(false);
        factors.refetch();
        notice.set(Some(Message::Text(|l| &l.two_step.turned_on)));
        new_codes.set(confirmed.backup_codes);
    });

    // "Authenticator app: on", the state in bold.
    let state = move |value: Pick| {
        view! {
            <span class="torii-text">
                {t.before(|l| &l.two_step.authenticator, "state")} <strong>{t.text(value)}</strong>
                {t.after(|l| &l.two_step.authenticator, "state")}
            </span>
        }
    };
    let status = move || {
        let found = match factors.get() {
            None => return still_loading(|l| &l.common.loading).into_any(),
            Some(Err(err)) => return load_failed(err).into_any(),
            Some(Ok(found)) => found,
        };
        let authenticator = if found.totp {
            view! {
                <div class="torii-row torii-factor" data-factor="totp">
                    {state(|l| &l.two_step.on)}
                    <BusyButton
                        form=form
                        what=Busy::Removing
                        label=|l| &l.common.remove
                        busy_label=|l| &l.common.removing
                        role=ButtonRole::Inline
                        ready=open
                        on_click=Callback::new(move |()| remove.call(()))
                    />
                </div>
            }
            .into_any()
        } else if enrolling.get() {
            view! { <EnrollAuthenticator on_confirmed=on_confirmed /> }.into_any()
        } else {
            view! {
                <div class="torii-row torii-factor" data-factor="totp">
                    {state(|l| &l.two_step.off)}
                    <button
                        class=slot(Slot::ButtonPrimary)
                        type="button"
                        disabled=move || guarded.is_locked()
                        on:click=move |_| {
                            notice.set(None);
                            enrolling.set(true);
                        }
                    >
                        {t.text(|l| &l.two_step.add_authenticator)}
                    </button>
                </div>
            }
            .into_any()
        };
        let left = found.backup_codes_left;
        let backup = (found.totp || left > 0).then(|| {
            view! {
                <div class="torii-row torii-factor" data-factor="backup-codes">
                    <span class="torii-text" data-testid="backup-codes-left">
                        {move || t.with(|l| l.count(&l.two_step.backup_codes_left, u64::from(left)))}
                    </span>
                    <BusyButton
                        form=form
                        what=Busy::Regenerating
                        label=|l| &l.two_step.new_backup_codes
                        busy_label=|l| &l.two_step.creating
                        role=ButtonRole::Inline
                        ready=open
                        on_click=Callback::new(move |()| regenerate.call(()))
                    />
                </div>
            }
        });
        view! {
            {authenticator}
            {backup}
        }
        .into_any()
    };
    let saved = move || {
        new_codes
            .get()
            .map(|codes| view! { <SavedCodes codes=codes /> })
    };
    view! {
        <div class="torii-two-step" lang=t.lang()>
            <p class="torii-text torii-muted">
                {t.either(required, |l| &l.two_step.required, |l| &l.two_step.intro)}
            </p>
            <FormAlert errors=form.errors />
            <FormNotice notice=notice />
            {status}
            {saved}
            {reauth.view()}
        </div>
    }
}
