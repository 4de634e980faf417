//! The linked provider accounts of `<UserProfile>`'s security section: each account linked to
//! the user (provider, the email it gave, since when) with "Unlink", and "Link …" for each of
//! the environment's providers not linked yet.
//!
//! Linking asks the server for the provider's page (`POST /v1/oauth/{provider}/link`) and goes
//! there; the provider sends the browser back to this page, marked as a link (see
//! [`super::oauth`]), where the outcome is shown: "Linked …", or the server's `oauthError`
//! (an account already linked to someone else, a cancel). Unlinking is
//! `DELETE /v1/oauth/identities/{id}`; the last way to sign in is refused
//! (`last_sign_in_method`) and said so. Both need a recent sign-in: on
//! `reauthentication_required` the re-authentication prompt opens here, and the request is
//! made again once it is answered.

use super::oauth::{self, ProfileReturn, ProfileTrip};
use super::reauthenticate::Reauth;
use super::{FormAlert, FormErrors, FormNotice, local_date, unique_prefix};
use crate::appearance::{Slot, slot};
use crate::i18n::{Message, fill, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use torii_shared::{OAuthIdentity, OAuthLinkRequest};

/// Which request is in flight; one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Busy {
    Loading,
    Linking(String),
    Unlinking(String),
}

/// A request kept where the re-authentication prompt can run it again once answered.
type Retryable<T> = StoredValue<Option<Arc<dyn Fn(T) + Send + Sync>>>;

fn call<T: 'static>(request: Retryable<T>, value: T) {
    if let Some(request) = request.get_value() {
        request(value);
    }
}

/// The provider accounts linked to the user; see the module documentation. `back` is what a
/// trip to a provider came back with, read by the profile when it loaded.
#[component]
pub(crate) fn LinkedAccounts(back: Option<ProfileReturn>) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let heading_id = format!("{}-title", unique_prefix("linked-accounts"));
    let identities = RwSignal::new(Vec::<OAuthIdentity>::new());
    let busy = RwSignal::new(Some(Busy::Loading));
    let errors = RwSignal::new(FormErrors::default());
    let notice = RwSignal::new(None::<Message>);
    let reauth = Reauth::new();
    let name_of = move |provider: &str| {
        oauth::providers(auth)
            .into_iter()
            .find(|p| p.id == provider)
            .map_or_else(|| provider.to_owned(), |p| p.name)
    };

    let reload = move || {
        let Some(api) = auth.api() else { return };
        spawn_local(async move {
            let result = api.oauth_identities().await;
            busy.set(None);
            match result {
                Ok(list) => identities.set(list),
                Err(err) => errors.set(FormErrors::from_api(&err)),
            }
        });
    };
    reload();
    match back {
        Some(ProfileReturn::Done(ProfileTrip::Link)) => {
            notice.set(Some(Message::Text(|l| &l.linked_accounts.linked)));
        }
        Some(ProfileReturn::Done(ProfileTrip::Reauthenticate)) => {
            notice.set(Some(Message::Text(|l| &l.reauth.confirmed)));
        }
        Some(ProfileReturn::Failed(message)) => errors.set(FormErrors::message(message)),
        None => {}
    }

    let begin = move |what: Busy| {
        if busy.get_untracked().is_some() || reauth.is_open_untracked() {
            return false;
        }
        reauth.note_focus();
        busy.set(Some(what));
        errors.set(FormErrors::default());
        notice.set(None);
        true
    };

    let link: Retryable<String> = StoredValue::new(None);
    link.set_value(Some(Arc::new(move |provider: String| {
        let (Some(api), Some(redirect_url)) = (auth.api(), oauth::return_url(ProfileTrip::Link))
        else {
            return;
        };
        if !begin(Busy::Linking(provider.clone())) {
            return;
        }
        let request = OAuthLinkRequest { redirect_url };
        spawn_local(async move {
            match api.link_provider(&provider, &request).await {
                // Off to the provider; the page comes back here.
                Ok(started) => oauth::go_to(&started.url),
                Err(err) if err.needs_reauthentication() => {
                    busy.set(None);
                    reauth.after(&err).ask(move || call(link, provider.clone()));
                }
                Err(err) => {
                    busy.set(None);
                    errors.set(FormErrors::from_api(&err));
                }
            }
        });
    })));

    let unlink: Retryable<OAuthIdentity> = StoredValue::new(None);
    unlink.set_value(Some(Arc::new(move |identity: OAuthIdentity| {
        let Some(api) = auth.api() else { return };
        if !begin(Busy::Unlinking(identity.id.clone())) {
            return;
        }
        spawn_local(async move {
            match api.unlink_provider(&identity.id).await {
                Ok(()) => {
                    notice.set(Some(Message::Fill(
                        |l| &l.linked_accounts.unlinked,
                        vec![("provider", name_of(&identity.provider))],
                    )));
                    reload();
                }
                Err(err) if err.needs_reauthentication() => {
                    busy.set(None);
                    reauth
                        .after(&err)
                        .ask(move || call(unlink, identity.clone()));
                }
                Err(err) => {
                    busy.set(None);
                    errors.set(FormErrors::from_api(&err));
                }
            }
        });
    })));

    let item = move |identity: OAuthIdentity| {
        let name = name_of(&identity.provider);
        let label = match &identity.email {
            Some(email) => t.fill(
                |l| &l.linked_accounts.unlink_label_email,
                vec![("provider", name.clone()), ("email", email.clone())],
            ),
            None => t.fill(
                |l| &l.linked_accounts.unlink_label,
                vec![("provider", name.clone())],
            ),
        };
        let unlinking = {
            let id = identity.id.clone();
            Signal::derive(move || busy.get() == Some(Busy::Unlinking(id.clone())))
        };
        let provider = identity.provider.clone();
        let (email, created_at) = (identity.email.clone(), identity.created_at);
        let details = move || {
            t.with(|l| {
                let linked = fill(
                    &l.linked_accounts.linked_on,
                    &[("date", &local_date(l, created_at))],
                );
                match &email {
                    Some(email) => format!("{email} · {linked}"),
                    None => linked,
                }
            })
        };
        view! {
            <li class="torii-passkey torii-linked-account" data-provider=provider>
                <span class="torii-passkey-name">{name}</span>
                <span class="torii-muted">{details}</span>
                <button
                    class=slot(Slot::ButtonSecondary)
                    type="button"
                    aria-label=label
                    disabled=move || busy.get().is_some() || reauth.is_open()
                    aria-busy=move || unlinking.get().then_some("true")
                    on:click=move |_| call(unlink, identity.clone())
                >
                    {t.either(
                        move || unlinking.get(),
                        |l| &l.linked_accounts.unlinking,
                        |l| &l.linked_accounts.unlink,
                    )}
                </button>
            </li>
        }
    };

    let list = move || {
        if busy.get() == Some(Busy::Loading) {
            view! {
                <p class="torii-text" role="status">
                    {t.text(|l| &l.common.loading)}
                </p>
            }
            .into_any()
        } else if identities.with(Vec::is_empty) {
            view! { <p class="torii-text">{t.text(|l| &l.linked_accounts.none)}</p> }.into_any()
        } else {
            view! {
                <ul class="torii-passkey-list">
                    {identities.get().into_iter().map(item).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    let link_buttons = move || {
        let linked: Vec<String> =
            identities.with(|list| list.iter().map(|i| i.provider.clone()).collect());
        oauth::providers(auth)
            .into_iter()
            .filter(|provider| !linked.contains(&provider.id))
            .map(|provider| {
                let id = provider.id.clone();
                let linking = {
                    let id = provider.id.clone();
                    Signal::derive(move || busy.get() == Some(Busy::Linking(id.clone())))
                };
                view! {
                    <button
                        class=slot(Slot::ButtonSecondary)
                        type="button"
                        data-provider=provider.id.clone()
                        disabled=move || busy.get().is_some() || reauth.is_open()
                        aria-busy=move || linking.get().then_some("true")
                        on:click=move |_| call(link, id.clone())
                    >
                        {t.fill(|l| &l.linked_accounts.link, vec![("provider", provider.name)])}
                    </button>
                }
            })
            .collect_view()
    };

    let labelled_by = heading_id.clone();
    view! {
        <section
            class="torii-profile-part torii-linked-accounts"
            aria-labelledby=labelled_by
            lang=t.lang()
        >
            <h3 class="torii-subtitle" id=heading_id>
                {t.text(|l| &l.linked_accounts.title)}
            </h3>
            <p class="torii-text torii-muted">{t.text(|l| &l.linked_accounts.intro)}</p>
            <FormAlert errors=errors />
            <FormNotice notice=notice />
            {reauth.view()}
            {list}
            <div class="torii-row torii-link-providers">{link_buttons}</div>
        </section>
    }
}
