//! `<AcceptTerms>`: the ready-made screen for the `legal_acceptance` gate.
//!
//! Idle → accepting (button disabled, "Accepting…") → either accepted (the session is
//! refreshed; with no gate left it is active and `<SignedIn>` renders, else
//! `<RedirectToGates>` moves on to the next gate) or idle again with the server's message in
//! the alert line.

use super::kit::BusyButton;
use super::{FormAlert, GateCard};
use crate::form::FormState;
use crate::provider::use_auth;
use leptos::prelude::*;

/// The screen that clears the `legal_acceptance` gate: the environment's Terms of Service and
/// Privacy Policy as links (and the current Terms version when the environment has one), and
/// an "Accept and continue" button that posts to `/v1/legal/accept` and then refreshes the
/// session. Errors show inline and are announced.
///
/// Mount it on the route given for [`GateKey::LegalAcceptance`](crate::GateKey) in the
/// provider's `gate_urls`, inside `<SignedOut>` (a pending session counts as signed out).
#[component]
pub fn AcceptTerms(
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let form = FormState::<()>::new();
    let errors = form.errors;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(api) = auth.api() else { return };
        // The session is refreshed before the button lets go.
        let request = async move {
            let me = api.accept_terms().await?;
            auth.refresh_after(me).await;
            Ok::<_, crate::api::ApiError>(())
        };
        form.run((), request, |()| {});
    };

    let legal = move || {
        auth.environment
            .with(|env| env.as_ref().map(|env| env.legal.clone()))
    };
    let t = crate::i18n::use_locale();
    let document = move |text: crate::i18n::Pick, url: Option<String>| {
        url.map(|url| {
            view! {
                <li>
                    <a href=url target="_blank" rel="noopener">
                        {t.text(text)}
                    </a>
                </li>
            }
        })
    };
    let documents = move || {
        let legal = legal()?;
        if legal.terms_url.is_none() && legal.privacy_url.is_none() {
            return None;
        }
        Some(view! {
            <ul class="torii-documents">
                {document(|l| &l.gates.terms_of_service, legal.terms_url)}
                {document(|l| &l.gates.privacy_policy, legal.privacy_url)}
            </ul>
        })
    };
    let version = move || {
        legal().and_then(|legal| legal.version).map(|version| {
            let text = t.fill(|l| &l.gates.terms_version, vec![("version", version)]);
            view! { <p class="torii-text torii-muted">{text}</p> }
        })
    };

    view! {
        <GateCard class=class title=|l| &l.gates.terms_title>
            <form class="torii-form" novalidate=true on:submit=submit>
                <p class="torii-text">{t.text(|l| &l.gates.terms_intro)}</p>
                {documents}
                {version}
                <FormAlert errors=errors />
                <BusyButton
                    form=form
                    what=()
                    label=|l| &l.gates.accept
                    busy_label=|l| &l.gates.accepting
                />
            </form>
        </GateCard>
    }
}
