//! Adding an authenticator app: `<SetupMfa>`, the ready-made screen of the `setup_mfa` gate,
//! and the enrolment steps it shares with the profile's "Two-step verification" section.
//!
//! *Start*: "Set up authenticator" → `POST /v1/me/mfa/totp` → *Scan*: the QR code (an image
//! of the `otpauth://` URI), the key to type by hand, and "Authentication code" with
//! "Confirm" → `POST /v1/me/mfa/totp/confirm`. A wrong code stays here with the server's
//! message. Confirmed → *Saved codes* when the server created backup codes (the first
//! factor): the ten codes, shown this once, and "Continue" (for the gate: the session is
//! refreshed, the gate is gone and `<SignedIn>` renders).

use super::{Field, FormAlert, FormErrors, field_error, unique_prefix, with_class};
use crate::provider::use_auth;
use leptos::prelude::*;
use leptos::task::spawn_local;
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
    let prefix = unique_prefix("setup-mfa");
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    let card_class = with_class("torii-card", class);
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
                class="torii-button torii-button-primary"
                type="button"
                disabled=move || finishing.get()
                aria-busy=move || finishing.get().then_some("true")
                on:click=move |_| finish()
            >
                "Continue"
            </button>
        }
        .into_any(),
    };
    view! {
        <section class=card_class aria-labelledby=labelled_by data-torii-step="setup-mfa">
            <h2 class="torii-card-title" id=title_id>
                "Set up two-step verification"
            </h2>
            <p class="torii-text">
                "This account needs a second step at sign-in: a code from an authenticator app on your phone."
            </p>
            {body}
        </section>
    }
}

/// The enrolment steps: start, scan and confirm. `on_confirmed` gets the server's answer.
#[component]
pub(crate) fn EnrollAuthenticator(on_confirmed: Callback<TotpConfirmed>) -> impl IntoView {
    let auth = use_auth();
    let prefix = unique_prefix("enroll-totp");
    let enrollment = RwSignal::new(None::<TotpEnrollment>);
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let errors = RwSignal::new(FormErrors::default());
    let start = move || {
        if busy.get_untracked() {
            return false;
        }
        busy.set(true);
        errors.set(FormErrors::default());
        true
    };
    let begin = move |_| {
        let Some(api) = auth.api() else { return };
        if !start() {
            return;
        }
        spawn_local(async move {
            let outcome = api.enroll_totp().await;
            busy.set(false);
            match outcome {
                Ok(found) => enrollment.set(Some(found)),
                Err(err) => errors.set(FormErrors::from_api(&err)),
            }
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(api) = auth.api() else { return };
        if !start() {
            return;
        }
        let typed: String = code
            .get_untracked()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let request = TotpConfirmRequest {
            code: Secret::new(typed),
        };
        spawn_local(async move {
            let outcome = api.confirm_totp(&request).await;
            busy.set(false);
            match outcome {
                Ok(confirmed) => {
                    code.set(String::new());
                    on_confirmed.run(confirmed);
                }
                Err(err) => errors.set(FormErrors::from_api(&err)),
            }
        });
    };
    let code_id = format!("{prefix}-code");
    move || {
        match enrollment.get() {
        None => view! {
            <div class="torii-form">
                <FormAlert errors=errors />
                <button
                    class="torii-button torii-button-primary"
                    type="button"
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().then_some("true")
                    on:click=begin
                >
                    {move || if busy.get() { "Preparing…" } else { "Set up authenticator" }}
                </button>
            </div>
        }
        .into_any(),
        Some(found) => view! {
            <form class="torii-form torii-enroll" novalidate=true on:submit=confirm>
                <p class="torii-text">
                    "Scan this QR code with your authenticator app, then enter the 6-digit code it shows."
                </p>
                <img
                    class="torii-qr"
                    src=svg_data_url(&found.qr_svg)
                    alt="QR code for your authenticator app"
                    width="200"
                    height="200"
                />
                <p class="torii-text torii-muted">
                    "Cannot scan it? Enter this key in the app: "
                    <code class="torii-secret" data-testid="totp-secret">
                        {found.secret.clone()}
                    </code>
                </p>
                <FormAlert errors=errors />
                <Field
                    id=code_id.clone()
                    name="code"
                    label="Authentication code"
                    input_type="text"
                    autocomplete="one-time-code"
                    inputmode="numeric"
                    maxlength="6"
                    required=true
                    value=code
                    error=field_error(errors, "code")
                />
                <button
                    class="torii-button torii-button-primary"
                    type="submit"
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().then_some("true")
                >
                    {move || if busy.get() { "Confirming…" } else { "Confirm" }}
                </button>
            </form>
        }
        .into_any(),
    }
    }
}

/// Backup codes, shown once, with what they are for.
#[component]
pub(crate) fn SavedCodes(codes: Vec<String>) -> impl IntoView {
    let items = codes
        .into_iter()
        .map(|code| view! { <li><code>{code}</code></li> })
        .collect_view();
    view! {
        <div class="torii-backup-codes" role="status">
            <p class="torii-subtitle">"Save your backup codes"</p>
            <p class="torii-text">
                "If you lose your phone, each of these codes signs you in once. Keep them somewhere safe: they are not shown again."
            </p>
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
