//! The Torii demo app: the components laid out as the session-gates product page shows them,
//! and the page the end-to-end suite drives.
//!
//! Build it into `e2e/dist` from the workspace root (`cargo xtask build-demo` does the same):
//!
//! ```text
//! cargo build -p torii-demo --target wasm32-unknown-unknown --release
//! wasm-bindgen --target web --no-typescript --out-dir e2e/dist/pkg \
//!     target/wasm32-unknown-unknown/release/torii_demo.wasm
//! # optional, with npm's binaryen only (e2e/node_modules/.bin/wasm-opt; Debian's is too old):
//! wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
//!     --enable-mutable-globals --enable-reference-types --enable-multivalue \
//!     e2e/dist/pkg/torii_demo_bg.wasm -o e2e/dist/pkg/torii_demo_bg.wasm
//! cp e2e/app/static/* client/src/style.css e2e/dist/
//! ```
//!
//! The `wasm-bindgen` CLI must be the exact version of the `wasm-bindgen` crate in
//! `Cargo.lock`. Then serve `e2e/dist` from the Torii server itself, so the page and the API
//! share one origin: `TORII_STATIC_DIR=e2e/dist cargo run -p torii-server`, and open the
//! server's address. The publishable key comes from the `torii-publishable-key` meta tag in
//! `index.html` (empty is fine for a server with one environment). The page starts on the
//! sign-up card at `/sign-up` or `#sign-up`, else on the sign-in card.

use leptos::prelude::*;
use leptos::task::spawn_local;
use torii_client::{
    AuthLoading, GateKey, RedirectToGates, SignIn, SignUp, SignedIn, SignedOut, ToriiProvider,
    use_auth,
};
use wasm_bindgen::JsCast;

fn main() {
    leptos::mount::mount_to_body(App);
}

/// Which card the signed-out page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    SignIn,
    SignUp,
}

/// The key in `<meta name="torii-publishable-key" content="…">`, or empty.
fn publishable_key() -> String {
    document()
        .query_selector(r#"meta[name="torii-publishable-key"]"#)
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default()
}

fn starts_on_sign_up() -> bool {
    let location = window().location();
    location.pathname().is_ok_and(|path| path == "/sign-up")
        || location.hash().is_ok_and(|hash| hash == "#sign-up")
}

#[component]
fn App() -> impl IntoView {
    view! {
        <ToriiProvider
            publishable_key=publishable_key()
            gate_urls=[
                (GateKey::LegalAcceptance, "/legal"),
                (GateKey::EmailVerification, "/verify-email"),
            ]
        >
            <header class="demo-header">
                <span class="demo-logo" aria-hidden="true">
                    "T"
                </span>
                "Torii demo"
            </header>
            <div class="demo-content">
                <AuthLoading>
                    <div class="demo-loading" data-testid="auth-loading" role="status">
                        <span class="demo-spinner" aria-hidden="true"></span>
                        "Loading…"
                    </div>
                </AuthLoading>
                // Pending sessions count as signed out for rendering, so the gate redirect
                // and the sign-in card both live here.
                <SignedOut>
                    <RedirectToGates />
                    <SignedOutPage />
                </SignedOut>
                <SignedIn>
                    <Dashboard />
                </SignedIn>
            </div>
        </ToriiProvider>
    }
}

/// The sign-in or sign-up card, or, for a session pending on a gate, what it waits for.
#[component]
fn SignedOutPage() -> impl IntoView {
    let auth = use_auth();
    let card = RwSignal::new(if starts_on_sign_up() {
        Card::SignUp
    } else {
        Card::SignIn
    });
    // The button that switched cards is gone with its card: focus the new card's first field.
    let show = move |next: Card| {
        card.set(next);
        request_animation_frame(|| {
            let first_input = document()
                .query_selector(".torii-card input")
                .ok()
                .flatten()
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(input) = first_input {
                let _ = input.focus();
            }
        });
    };
    move || {
        if auth.is_pending.get() {
            return view! { <GatePending /> }.into_any();
        }
        match card.get() {
            Card::SignIn => view! { <SignIn on_sign_up=move || show(Card::SignUp) /> }.into_any(),
            Card::SignUp => view! { <SignUp on_sign_in=move || show(Card::SignIn) /> }.into_any(),
        }
    }
}

/// Shown while the session is pending: the gate it waits for, and a way to check again once
/// the gate was cleared.
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

/// The protected page.
#[component]
fn Dashboard() -> impl IntoView {
    let auth = use_auth();
    let signing_out = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let email = move || auth.user.with(|u| u.as_ref().map(|u| u.email.clone()));
    let name = move || {
        auth.user
            .with(|u| u.as_ref().and_then(|u| u.name.clone()))
            .map(|name| {
                view! {
                    <p>
                        "Name: " <span data-testid="user-name">{name}</span>
                    </p>
                }
            })
    };
    let sign_out = move |_| {
        signing_out.set(true);
        error.set(None);
        let task = auth.sign_out();
        spawn_local(async move {
            let outcome = task.await;
            signing_out.set(false);
            if let Err(err) = outcome {
                error.set(Some(err.message().to_owned()));
            }
        });
    };
    view! {
        <main class="demo-dashboard" data-testid="dashboard">
            <h1>"Dashboard"</h1>
            <p>"Signed in as " <strong data-testid="user-email">{email}</strong></p>
            {name}
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
            <button
                class="torii-button torii-button-secondary"
                type="button"
                disabled=move || signing_out.get()
                on:click=sign_out
            >
                "Sign out"
            </button>
        </main>
    }
}
