//! The "Two-step verification" part of `<UserProfile>`: whether an authenticator app is set
//! up, how many backup codes are left, and the changes to both.
//!
//! Reads `GET /v1/me/mfa`. "Add an authenticator app" runs the enrolment steps inline (the
//! same as `<SetupMfa>`) and shows the backup codes the first factor brings. "Remove" (the
//! authenticator) and "Create new backup codes" need a recent second factor: the server's
//! `second_factor_required` opens the re-authentication prompt, which asks for a code, and
//! the change runs again once it is given. New backup codes are shown once; the old ones stop
//! working.

use super::reauthenticate::Reauth;
use super::setup_mfa::{EnrollAuthenticator, SavedCodes};
use super::{FormAlert, FormErrors, FormNotice};
use crate::api::ApiError;
use crate::appearance::{Slot, slot};
use crate::form::FormState;
use crate::i18n::{Message, Pick, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use torii_shared::{BackupCodes, MfaPolicy, SecondFactors, TotpConfirmed};

type Change = StoredValue<Option<Arc<dyn Fn() + Send + Sync>>>;

/// Which request is in flight; one at a time.
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
    let factors = RwSignal::new(None::<SecondFactors>);
    let enrolling = RwSignal::new(false);
    let new_codes = RwSignal::new(None::<Vec<String>>);
    let form = FormState::<Busy>::new();
    let (busy, errors, notice) = (form.busy, form.errors, form.notice);
    let reauth = Reauth::new();
    let reload = move || {
        let Some(api) = auth.api() else { return };
        spawn_local(async move {
            match api.second_factors().await {
                Ok(found) => factors.set(Some(found)),
                Err(err) => errors.set(FormErrors::from_api(&err)),
            }
        });
    };
    // The first load waits for the browser: the server renders the section's shell only.
    Effect::new(move |_| untrack(reload));
    let required = move || {
        auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.mfa == MfaPolicy::Required)
        })
    };
    // Whether a change may start now (none running, no prompt open); it then starts afresh.
    let may_begin = move || {
        if busy.get_untracked().is_some() || reauth.is_open_untracked() {
            return false;
        }
        reauth.note_focus();
        new_codes.set(None);
        true
    };
    // A refusal for want of a recent sign-in opens the prompt, which runs `again` once
    // answered; any other is shown.
    let or_reauthenticate = move |again: Change| {
        move |err: ApiError| {
            if err.needs_reauthentication() {
                reauth.after(&err).ask(move || run(again));
                None
            } else {
                Some(err)
            }
        }
    };

    let remove: Change = StoredValue::new(None);
    remove.set_value(Some(Arc::new(move || {
        let Some(api) = auth.api() else { return };
        if !may_begin() {
            return;
        }
        let request = async move { api.remove_totp().await };
        let done = move |()| {
            notice.set(Some(Message::Text(|l| &l.two_step.authenticator_removed)));
            reload();
        };
        form.run_or(Busy::Removing, request, done, or_reauthenticate(remove));
    })));

    let regenerate: Change = StoredValue::new(None);
    regenerate.set_value(Some(Arc::new(move || {
        let Some(api) = auth.api() else { return };
        if !may_begin() {
            return;
        }
        let request = async move { api.regenerate_backup_codes().await };
        let done = move |created: BackupCodes| {
            new_codes.set(Some(created.codes));
            reload();
        };
        form.run_or(
            Busy::Regenerating,
            request,
            done,
            or_reauthenticate(regenerate),
        );
    })));

    let on_confirmed = Callback::new(move |confirmed: TotpConfirmed| {
        enrolling.set(false);
        factors.set(Some(confirmed.factors));
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
        let Some(found) = factors.get() else {
            return errors
                .with(|e| e.message.is_none())
                .then(|| {
                    view! {
                        <p class="torii-muted" role="status">
                            {t.text(|l| &l.common.loading)}
                        </p>
                    }
                })
                .into_any();
        };
        let authenticator = if found.totp {
            view! {
                <div class="torii-row torii-factor" data-factor="totp">
                    {state(|l| &l.two_step.on)}
                    <button
                        class=slot(Slot::ButtonSecondary)
                        type="button"
                        disabled=move || busy.get().is_some()
                        aria-busy=move || (busy.get() == Some(Busy::Removing)).then_some("true")
                        on:click=move |_| run(remove)
                    >
                        {t.either(
                            move || busy.get() == Some(Busy::Removing),
                            |l| &l.common.removing,
                            |l| &l.common.remove,
                        )}
                    </button>
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
                        disabled=move || busy.get().is_some()
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
                    <button
                        class=slot(Slot::ButtonSecondary)
                        type="button"
                        disabled=move || busy.get().is_some()
                        aria-busy=move || (busy.get() == Some(Busy::Regenerating)).then_some("true")
                        on:click=move |_| run(regenerate)
                    >
                        {t.either(
                            move || busy.get() == Some(Busy::Regenerating),
                            |l| &l.two_step.creating,
                            |l| &l.two_step.new_backup_codes,
                        )}
                    </button>
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
            <FormAlert errors=errors />
            <FormNotice notice=notice />
            {status}
            {saved}
            {reauth.view()}
        </div>
    }
}

fn run(change: Change) {
    if let Some(change) = change.get_value() {
        change();
    }
}
