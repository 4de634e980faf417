//! The profile's *Sessions* section: every session of the user with its device, IP address
//! and times, "Sign out" on each other one, and "Sign out of all other sessions".

use super::SectionForm;
use crate::appearance::{Slot, slot};
use crate::components::item_list::{listing, load_failed, loaded, still_loading};
use crate::components::{FormAlert, FormNotice, local_date_time, unique_prefix};
use crate::i18n::{Message, Pick, fill, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::SessionSummary;

#[component]
pub(super) fn SessionsList(version: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    // Read when the section mounts, again whenever `version` moves (a password change that
    // signed other sessions out) and after each sign-out from here.
    let sessions = listing(move |api| {
        version.track();
        async move { api.sessions().await.map(|list| list.sessions) }
    });
    let action = SectionForm::new();
    let revoking = RwSignal::new(None::<String>);
    let revoke = move |session: SessionSummary| {
        let Some(api) = auth.api() else { return };
        if action.busy.get_untracked().is_some() {
            return;
        }
        revoking.set(Some(session.id.clone()));
        let id = session.id.clone();
        let request = async move {
            let outcome = api.revoke_session(&id).await;
            revoking.set(None);
            sessions.refetch();
            outcome
        };
        action.run((), request, move |()| {
            let device = vec![("device", session.device)];
            let done = Message::Fill(|l| &l.sessions.signed_out_of, device);
            action.notice.set(Some(done));
        });
    };
    let revoke_others = move |_| {
        let Some(api) = auth.api() else { return };
        let request = async move {
            let outcome = api.revoke_other_sessions().await;
            sessions.refetch();
            outcome
        };
        action.run((), request, move |done| {
            action.notice.set(Some(match done.revoked {
                0 => Message::Text(|l| &l.sessions.no_others),
                n => Message::Count(|l| &l.sessions.signed_out_others, n),
            }));
        });
    };
    let others = move || loaded(sessions).iter().any(|s| !s.current);
    // A line with a date in it, in the reader's time zone and the current language.
    let dated = move |template: Pick, at: time::OffsetDateTime| {
        move || t.with(|l| fill(template(l), &[("date", &local_date_time(l, at))]))
    };
    let list = move || match sessions.get() {
        None => still_loading(|l| &l.sessions.loading).into_any(),
        Some(Err(err)) => load_failed(err).into_any(),
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
                                        .then(|| {
                                            view! {
                                                " "
                                                <span class="torii-badge">
                                                    {t.text(|l| &l.sessions.this_device)}
                                                </span>
                                            }
                                        })}
                                </p>
                                <p class="torii-muted">
                                    {ip.map(|ip| format!("{ip} · "))}
                                    {dated(|l| &l.sessions.signed_in_at, session.created_at)}
                                </p>
                                <p class="torii-muted">
                                    {dated(|l| &l.sessions.last_active, session.last_active_at)}
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
                                            class=slot(Slot::ButtonSecondary)
                                            type="button"
                                            aria-describedby=device_id
                                            disabled=move || action.is_any_busy()
                                            aria-busy=move || busy().then_some("true")
                                            on:click=move |_| revoke(for_click.clone())
                                        >
                                            {t.either(
                                                busy_too,
                                                |l| &l.common.signing_out,
                                                |l| &l.common.sign_out,
                                            )}
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
            <FormNotice notice=action.notice />
            {list}
            <button
                class=slot(Slot::ButtonSecondary)
                type="button"
                disabled=move || action.is_any_busy() || !others()
                on:click=revoke_others
            >
                {t.text(|l| &l.sessions.sign_out_others)}
            </button>
        </div>
    }
}
