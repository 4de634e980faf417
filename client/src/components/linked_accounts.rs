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

use super::guarded::{GuardedForm, Retry};
use super::item_list::{ItemRow, item_list, listing, loaded};
use super::kit::{BusyButton, ButtonRole};
use super::oauth::{self, ProfileReturn, ProfileTrip};
use super::{FormErrors, ProfilePart, local_date};
use crate::appearance::{Slot, slot};
use crate::i18n::{Message, fill, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::{OAuthIdentity, OAuthLinkRequest, OAuthLinkStarted};

/// Which change is in flight; one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Busy {
    Linking(String),
    Unlinking(String),
}

/// The provider accounts linked to the user; see the module documentation. `back` is what a
/// trip to a provider came back with, read by the profile when it loaded.
#[component]
pub(crate) fn LinkedAccounts(back: Option<ProfileReturn>) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let identities = listing(|api| async move { api.oauth_identities().await });
    let guarded = GuardedForm::<Busy>::new();
    let form = guarded.form;
    let open = Signal::derive(move || !guarded.reauth.is_open());
    let name_of = move |provider: &str| {
        oauth::providers(auth)
            .into_iter()
            .find(|p| p.id == provider)
            .map_or_else(|| provider.to_owned(), |p| p.name)
    };
    match back {
        Some(ProfileReturn::Done(ProfileTrip::Link)) => {
            form.notice
                .set(Some(Message::Text(|l| &l.linked_accounts.linked)));
        }
        Some(ProfileReturn::Done(ProfileTrip::Reauthenticate)) => {
            form.notice
                .set(Some(Message::Text(|l| &l.reauth.confirmed)));
        }
        Some(ProfileReturn::Failed(message)) => form.fail(FormErrors::message(message)),
        None => {}
    }

    let link = Retry::new(move |provider: String, again| {
        let (Some(api), Some(redirect_url)) = (auth.api(), oauth::return_url(ProfileTrip::Link))
        else {
            return;
        };
        let request = OAuthLinkRequest { redirect_url };
        let id = provider.clone();
        let request = async move { api.link_provider(&id, &request).await };
        // Off to the provider; the page comes back here.
        let done = |started: OAuthLinkStarted| oauth::go_to(&started.url);
        let retry = {
            let provider = provider.clone();
            move || again.call(provider.clone())
        };
        guarded.run(Busy::Linking(provider), request, done, retry);
    });

    let unlink = Retry::new(move |identity: OAuthIdentity, again| {
        let Some(api) = auth.api() else { return };
        let id = identity.id.clone();
        let request = async move { api.unlink_provider(&id).await };
        let provider = vec![("provider", name_of(&identity.provider))];
        let done = move |()| {
            let unlinked = Message::Fill(|l| &l.linked_accounts.unlinked, provider);
            form.notice.set(Some(unlinked));
            identities.refetch();
        };
        let what = Busy::Unlinking(identity.id.clone());
        guarded.run(what, request, done, move || again.call(identity.clone()));
    });

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
        let (email, created_at) = (identity.email.clone(), identity.created_at);
        let details = Signal::derive(move || {
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
        });
        let what = Busy::Unlinking(identity.id.clone());
        let provider = identity.provider.clone();
        view! {
            <ItemRow
                class="torii-passkey torii-linked-account"
                provider=provider
                name=name
                details=details
            >
                <BusyButton
                    form=form
                    what=what
                    label=|l| &l.linked_accounts.unlink
                    busy_label=|l| &l.linked_accounts.unlinking
                    role=ButtonRole::Inline
                    ready=open
                    aria_label=label
                    on_click=Callback::new(move |()| unlink.call(identity.clone()))
                />
            </ItemRow>
        }
    };

    let list = item_list(
        identities,
        "torii-passkey-list",
        |l| &l.common.loading,
        |l| &l.linked_accounts.none,
        item,
    );
    let link_buttons = move || {
        let linked: Vec<String> = loaded(identities)
            .into_iter()
            .map(|identity| identity.provider)
            .collect();
        oauth::providers(auth)
            .into_iter()
            .filter(|provider| !linked.contains(&provider.id))
            .map(|provider| {
                let id = provider.id.clone();
                let what = Busy::Linking(provider.id.clone());
                let running = move || form.is_busy(what.clone());
                view! {
                    <button
                        class=slot(Slot::ButtonSecondary)
                        type="button"
                        data-provider=provider.id.clone()
                        disabled=move || guarded.is_locked()
                        aria-busy=move || running().then_some("true")
                        on:click=move |_| link.call(id.clone())
                    >
                        {t.fill(|l| &l.linked_accounts.link, vec![("provider", provider.name)])}
                    </button>
                }
            })
            .collect_view()
    };

    view! {
        <ProfilePart class="torii-linked-accounts" title=|l| &l.linked_accounts.title>
            <p class="torii-text torii-muted">{t.text(|l| &l.linked_accounts.intro)}</p>
            {guarded.outcome()}
            {list}
            <div class="torii-row torii-link-providers">{link_buttons}</div>
        </ProfilePart>
    }
}
