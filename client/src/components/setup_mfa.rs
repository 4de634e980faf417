//! Adding an authenticator app: `<SetupMfa>`, the ready-made screen of the `setup_mfa` gate,
//! and the enrolment steps it shares with the profile's "Two-step verification" section.
//!
//! *Start*: "Set up authenticator" → `POST /v1/me/mfa/totp` → *Scan*: the QR code (an image
//! of the `otpauth://` URI), the key to type by hand, and "Authentication code" with
//! "Confirm" → `POST /v1/me/mfa/totp/confirm`. A wrong code stays here with the server's
//! message. Confirmed → *Saved codes* when the server created backup codes (the first
//! factor): the ten codes, shown this once, and "Continue" (for the gate: the session is
//! refreshed, the gate is gone and `<SignedIn>` renders).

use super::kit::{BusyButton, ButtonRole};
use super::{Field, FieldKind, FormAlert, GateCard, unique_prefix};
use crate::appearance::{Slot, slot};
use crate::form::{FormState, normalise_code};
use crate::i18n::use_locale;
use crate::provider::use_auth;
use leptos::prelude::*;
use torii_shared::{Secret, TotpConfirmRequest, TotpConfirmed, TotpEnrollment};

/// The screen that clears the `setup_mfa` gate: add an authenticator app, then save the
/// backup codes. Mount it on the route given for
/// [`GateKey::SetupMfa`](crate::GateKey) in the provider's `gate_urls`, inside `<SignedOut>`
/// (a pending session counts as signed out).
#[component]
pub fn SetupMfa(
    /// Extra classes on the card, added to `torii-card`, for the application's own styles.
    #[prop(optional, into)]
    class: MaybeProp<String>,
) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let codes = RwSignal::new(None::<Vec<String>>);
    let finishing = RwSignal::new(false);
    let finish = move || {
        finishing.set(true);
        // The confirmation cleared the gate on the server; reading the state shows it.
        auth.refresh_session();
    };
    let on_confirmed =
        Callback::new(
            move |confirmed: TotpConfirmed| match confirmed.backup_codes {
                Some(list) => codes.set(Some(list)),
                None => finish(),
            },
        );
    let body = move || match codes.get() {
        None => view! { <EnrollAuthenticator on_confirmed=on_confirmed /> }.into_any(),
        Some(list) => view! {
            <SavedCodes codes=list />
            <button
                class=slot(Slot::ButtonPrimary)
                type="button"
                disabled=move || finishing.get()
                aria-busy=move || finishing.get().then_some("true")
                on:click=move |_| finish()
            >
                {t.text(|l| &l.common.continue_)}
            </button>
        }
        .into_any(),
    };
    view! {
        <GateCard class=class title=|l| &l.two_step.setup_title step="setup-mfa">
            <p class="torii-text">{t.text(|l| &l.two_step.setup_intro)}</p>
            {body}
        </GateCard>
    }
}

/// The enrolment's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Start,
    Confirm,
}

/// The enrolment steps: start, scan and confirm. `on_confirmed` gets the server's answer.
#[component]
pub(crate) fn EnrollAuthenticator(on_confirmed: Callback<TotpConfirmed>) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let prefix = unique_prefix("enroll-totp");
    let enrollment = RwSignal::new(None::<TotpEnrollment>);
    let code = RwSignal::new(String::new());
    let form = FormState::<Step>::new();
    let errors = form.errors;
    let begin = move |()| {
        let Some(api) = auth.api() else { return };
        let request = async move { api.enroll_totp().await };
        form.run(Step::Start, request, move |found| {
            enrollment.set(Some(found))
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(api) = auth.api() else { return };
        let request = TotpConfirmRequest {
            code: Secret::new(normalise_code(&code.get_untracked())),
        };
        let request = async move { api.confirm_totp(&request).await };
        form.run(Step::Confirm, request, move |confirmed| {
            code.set(String::new());
            on_confirmed.run(confirmed);
        });
    };
    let code_id = format!("{prefix}-code");
    move || match enrollment.get() {
        None => view! {
            <div class="torii-form">
                <FormAlert errors=errors />
                <BusyButton
                    form=form
                    what=Step::Start
                    label=|l| &l.two_step.set_up
                    busy_label=|l| &l.two_step.preparing
                    role=ButtonRole::Primary
                    on_click=Callback::new(begin)
                />
            </div>
        }
        .into_any(),
        Some(found) => view! {
            <form class="torii-form torii-enroll" novalidate=true on:submit=confirm>
                <p class="torii-text">{t.text(|l| &l.two_step.scan)}</p>
                <img
                    class="torii-qr"
                    src=svg_data_url(&found.qr_svg)
                    alt=t.text(|l| &l.two_step.qr_alt)
                    width="200"
                    height="200"
                />
                <p class="torii-text torii-muted">
                    {t.before(|l| &l.two_step.manual_key, "key")}
                    <code class="torii-secret" data-testid="totp-secret">
                        {found.secret.clone()}
                    </code>
                    {t.after(|l| &l.two_step.manual_key, "key")}
                </p>
                <FormAlert errors=errors />
                <Field
                    id=code_id.clone()
                    kind=FieldKind::CODE.labelled(|l| &l.second_factor.authenticator_code)
                    value=code
                    errors=errors
                />
                <BusyButton
                    form=form
                    what=Step::Confirm
                    label=|l| &l.common.confirm
                    busy_label=|l| &l.common.confirming
                />
            </form>
        }
        .into_any(),
    }
}

/// Backup codes, shown once, with what they are for.
#[component]
pub(crate) fn SavedCodes(codes: Vec<String>) -> impl IntoView {
    let t = use_locale();
    let items = codes
        .into_iter()
        .map(|code| view! { <li><code>{code}</code></li> })
        .collect_view();
    view! {
        <div class="torii-backup-codes" role="status">
            <p class="torii-subtitle">{t.text(|l| &l.two_step.saved_title)}</p>
            <p class="torii-text">{t.text(|l| &l.two_step.saved_intro)}</p>
            <ul class="torii-code-list" data-testid="backup-codes">
                {items}
            </ul>
        </div>
    }
}

/// An `<img src>` for an SVG document: a `data:` URL, so the markup never runs as part of
/// the page.
fn svg_data_url(svg: &str) -> String {
    use std::fmt::Write as _;
    let mut url = String::from("data:image/svg+xml;charset=utf-8,");
    for byte in svg.bytes() {
        if byte.is_ascii_alphanumeric() || b" -_.!~*'()/=:;,".contains(&byte) {
            url.push(char::from(byte));
        } else {
            let _ = write!(url, "%{byte:02X}");
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svg_becomes_a_data_url_without_markup_characters() {
        let url = svg_data_url(r#"<svg width="2"><path d="M0 0h1"/></svg>"#);
        assert!(url.starts_with("data:image/svg+xml;charset=utf-8,%3Csvg width=%222%22%3E"));
        assert!(!url.contains('<') && !url.contains('"') && !url.contains('#'));
    }
}
