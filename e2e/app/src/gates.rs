//! The gate pages: the ready-made gate screens on their routes, the application's own
//! `mfa_enrollment` gate, and the panel for a gate without a page.

use super::*;

/// The page for the path a pending session is on; `<RedirectToGates>` brings it to its
/// current gate's page, and a gate without one keeps the "One more step" panel.
#[component]
pub fn GatePage(router: Router) -> impl IntoView {
    let page = Memo::new(move |_| router.path.get());
    move || {
        let screen = match page.get().as_str() {
            LEGAL_URL => view! { <AcceptTerms /> }.into_any(),
            VERIFY_EMAIL_URL => view! { <VerifyEmail /> }.into_any(),
            MFA_URL => view! { <MfaGate /> }.into_any(),
            SETUP_MFA_URL => view! { <SetupMfa /> }.into_any(),
            _ => return view! { <GatePending /> }.into_any(),
        };
        view! {
            {screen}
            <GateFooter />
        }
        .into_any()
    }
}

/// Under a gate's page: a way out for a user who does not want to go on.
#[component]
fn GateFooter() -> impl IntoView {
    let auth = use_auth();
    view! {
        <p class="demo-gate-footer">
            "Not now? "
            <button
                class="torii-link"
                type="button"
                on:click=move |_| {
                    auth.sign_out();
                }
            >
                "Sign out"
            </button>
        </p>
    }
}

/// The page of `mfa_enrollment`, a gate of the application's own: its backend requires it
/// and clears it with the secret-key API, and the user can only wait and check again.
#[component]
fn MfaGate() -> impl IntoView {
    let auth = use_auth();
    let checking = RwSignal::new(false);
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let check = move |_| {
        if checking.get_untracked() {
            return;
        }
        checking.set(true);
        status.set(None);
        error.set(None);
        let task = auth.refresh_session();
        spawn_local(async move {
            let outcome = task.await;
            checking.set(false);
            match outcome {
                // Cleared: the session is active and the dashboard replaces this page.
                Ok(()) if !auth.is_pending.get_untracked() => {}
                Ok(()) => status.set(Some(
                    "Still waiting: your administrator has not finished yet.".to_owned(),
                )),
                Err(err) => error.set(Some(err.message().to_owned())),
            }
        });
    };
    view! {
        <section class="torii-card" data-testid="gate-mfa" aria-labelledby="gate-mfa-title">
            <h2 class="torii-card-title" id="gate-mfa-title">
                "Waiting for your administrator"
            </h2>
            <div class="torii-form">
                <p class="torii-text">
                    "Your administrator has to finish setting up two-factor authentication "
                    "for your account before you can continue. Check again once they say it is done."
                </p>
                {move || {
                    error
                        .get()
                        .map(|message| {
                            view! {
                                <p class="torii-alert" role="alert">
                                    {message}
                                </p>
                            }
                        })
                }}
                {move || {
                    status
                        .get()
                        .map(|message| {
                            view! {
                                <p class="torii-notice" role="status">
                                    {message}
                                </p>
                            }
                        })
                }}
                <button
                    class="torii-button torii-button-primary"
                    type="button"
                    disabled=move || checking.get()
                    aria-busy=move || checking.get().then_some("true")
                    on:click=check
                >
                    {move || if checking.get() { "Checking…" } else { "Check again" }}
                </button>
            </div>
        </section>
    }
}

/// Shown while the session is pending on a gate the demo has no page for: the gate it waits
/// for, and a way to check again once the gate was cleared.
#[component]
fn GatePending() -> impl IntoView {
    let auth = use_auth();
    let gate = move || {
        auth.session.with(|session| {
            session
                .as_ref()
                .and_then(|s| s.info.current_gate.as_ref())
                .map(|gate| gate.key.to_string())
        })
    };
    view! {
        <section class="torii-card" data-testid="gate-pending" aria-labelledby="gate-title">
            <h2 class="torii-card-title" id="gate-title">
                "One more step"
            </h2>
            <p class="torii-text">
                "Your session is waiting on " <code data-testid="gate-key">{gate}</code> "."
            </p>
            <div class="torii-form">
                <button
                    class="torii-button torii-button-primary"
                    type="button"
                    on:click=move |_| {
                        auth.refresh_session();
                    }
                >
                    "Check again"
                </button>
                <button
                    class="torii-button torii-button-secondary"
                    type="button"
                    on:click=move |_| {
                        auth.sign_out();
                    }
                >
                    "Sign out"
                </button>
            </div>
        </section>
    }
}
