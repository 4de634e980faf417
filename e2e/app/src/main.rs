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
//!
//! A session pending on a gate is sent, by `<RedirectToGates>` through the app's own small
//! client-side router (no page load), to the gate's page: `/legal` (`legal_acceptance`),
//! `/verify-email` (`email_verification`) or `/gates/mfa` (`mfa_enrollment`, a gate the
//! application's backend requires and clears with the secret-key API). A gate with no page
//! leaves the "One more step" panel. Once the session is active, a gate page gives way to the
//! dashboard at `/`, which shows the session's kind and, for a JWT session, the end of the
//! token `use_auth().token` hands to the application for its own backend.
//!
//! Protected UI (the dashboard, the profile, the header's controls) renders through
//! `<Show when=Condition::signed_in()>`, never for a session pending on a gate. The header's
//! `<SignOutButton>` lands on `/signed-out`; `?after=/profile` in the address sends the
//! sign-in card there once the sign-in completes (gates included).
//!
//! Signed in, the header shows `<UserButton>`, whose "Manage account" opens `<UserProfile>` at
//! `/profile`: name, email, password, passkeys and linked providers (as the environment
//! offers them), and sessions. The header's "Theme" button (or `?theme=forest` in the address) switches the
//! components to a second theme made only of `--torii-*` custom properties (see `demo.css`).

mod custom_sign_in;
mod gates;
mod looks;

use custom_sign_in::{CUSTOM_SIGN_IN_URL, CustomSignIn};
use gates::GatePage;
use leptos::prelude::*;
use leptos::task::spawn_local;
use looks::{DarkToggle, LanguagePicker, ThemeToggle, dark_appearance, initial_locale, query_has};
// `Show` by name: it takes precedence over the prelude's own `Show`.
use torii_client::{
    AcceptTerms, Appearance, AuthLoading, Condition, GateKey, RedirectToGates, SetupMfa, Show,
    SignIn, SignInButton, SignOutButton, SignUp, SignedOut, ToriiProvider, UserButton, UserProfile,
    VerifyEmail, use_auth, use_user,
};
use torii_shared::SessionKind;
use wasm_bindgen::{JsCast, JsValue};

/// The page that clears `legal_acceptance`.
const LEGAL_URL: &str = "/legal";
/// The page that clears `email_verification`.
const VERIFY_EMAIL_URL: &str = "/verify-email";
/// The page of the application-defined gate `mfa_enrollment`.
const MFA_URL: &str = "/gates/mfa";
/// The page of the `setup_mfa` gate (the environment requires a second factor). The
/// `second_factor` gate has no page: `<SignIn>` shows that step itself.
const SETUP_MFA_URL: &str = "/setup-two-step";
/// The signed-in user's profile page.
const PROFILE_URL: &str = "/profile";
/// Where the header's "Sign out" lands.
const SIGNED_OUT_URL: &str = "/signed-out";
/// The application-defined gate the demo has a page for.
const MFA_GATE: &str = "mfa_enrollment";
/// How much of a JWT session's token the dashboard shows.
const TOKEN_PREVIEW_CHARS: usize = 16;

fn main() {
    leptos::mount::mount_to_body(App);
}

/// The demo's client-side router: the path as a signal, changed by `navigate` (a
/// `history.pushState`) and by the browser's back and forward buttons.
#[derive(Debug, Clone, Copy)]
struct Router {
    path: RwSignal<String>,
}

fn current_path() -> String {
    window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".to_owned())
}

impl Router {
    fn new() -> Self {
        let path = RwSignal::new(current_path());
        let on_popstate = window_event_listener(leptos::ev::popstate, move |_| {
            path.set(current_path());
        });
        on_cleanup(move || on_popstate.remove());
        Self { path }
    }

    /// Goes to `url` without loading a page; falls back to a page load if the history API
    /// refuses (e.g. a URL on another origin).
    fn navigate(self, url: &str) {
        let pushed = window()
            .history()
            .and_then(|history| history.push_state_with_url(&JsValue::NULL, "", Some(url)));
        match pushed {
            Ok(()) => self.path.set(current_path()),
            Err(_) => {
                let _ = window().location().assign(url);
            }
        }
    }

    fn is_gate_page(self) -> bool {
        self.path.with(|path| {
            [LEGAL_URL, VERIFY_EMAIL_URL, MFA_URL, SETUP_MFA_URL].contains(&path.as_str())
        })
    }
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

/// `?after=/somewhere` in the address: where the sign-in card goes once signed in (the
/// components follow same-origin destinations only).
fn after_param() -> Option<String> {
    let query = window().location().search().unwrap_or_default();
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("after="))
        .map(|value| value.replace("%2F", "/").replace("%2f", "/"))
}

#[component]
fn App() -> impl IntoView {
    let router = Router::new();
    let locale = RwSignal::new(initial_locale());
    let dark = RwSignal::new(query_has("appearance=dark"));
    let appearance = Signal::derive(move || {
        if dark.get() {
            dark_appearance()
        } else {
            Appearance::default()
        }
    });
    view! {
        <ToriiProvider
            locale=locale
            appearance=appearance
            publishable_key=publishable_key()
            gate_urls=[
                (GateKey::LegalAcceptance, LEGAL_URL),
                (GateKey::EmailVerification, VERIFY_EMAIL_URL),
                (GateKey::Custom(MFA_GATE.to_owned()), MFA_URL),
                (GateKey::SetupMfa, SETUP_MFA_URL),
            ]
            navigate=move |url: String| router.navigate(&url)
            sign_in_url="/"
            sign_up_url="/sign-up"
            user_profile_url=PROFILE_URL
        >
            <LeaveGatePageWhenActive router=router />
            <header class="demo-header">
                <span class="demo-logo" aria-hidden="true">
                    "T"
                </span>
                <span class="demo-title">"Torii demo"</span>
                <ThemeToggle />
                <DarkToggle dark=dark />
                <LanguagePicker locale=locale />
                <SignedInBadge />
                // Protected UI through `<Show>`: never for a session pending on a gate.
                <Show when=Condition::signed_in()>
                    <SignOutButton redirect_url=SIGNED_OUT_URL class="demo-header-sign-out" />
                    <UserButton profile_url=PROFILE_URL />
                </Show>
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
                    <SignedOutPage router=router />
                </SignedOut>
                <Show when=Condition::signed_in()>
                    <SignedInPage router=router />
                </Show>
            </div>
        </ToriiProvider>
    }
}

/// An application's own branch on `is_signed_in` (not `<SignedIn>`): false for a session
/// pending on a gate, so a user between password and second factor never sees it.
#[component]
fn SignedInBadge() -> impl IntoView {
    let auth = use_auth();
    move || {
        auth.is_signed_in.get().then(|| {
            view! {
                <span class="demo-badge" data-testid="signed-in-badge">
                    "Signed in"
                </span>
            }
        })
    }
}

/// The dashboard, or at `/profile` the user's profile.
#[component]
fn SignedInPage(router: Router) -> impl IntoView {
    let on_profile = Memo::new(move |_| router.path.with(|path| path == PROFILE_URL));
    move || {
        if on_profile.get() {
            view! {
                <div class="demo-profile" data-testid="profile">
                    <h1 class="demo-page-title">"Your account"</h1>
                    <p class="demo-back">
                        <a
                            href="/"
                            on:click=move |ev| {
                                ev.prevent_default();
                                router.navigate("/");
                            }
                        >
                            "Back to the dashboard"
                        </a>
                    </p>
                    <UserProfile />
                </div>
            }
            .into_any()
        } else {
            view! { <Dashboard router=router /> }.into_any()
        }
    }
}

/// Once the session is active, a gate page has nothing left to do: go to the dashboard.
#[component]
fn LeaveGatePageWhenActive(router: Router) -> impl IntoView {
    let auth = use_auth();
    Effect::new(move |_| {
        let active = auth.is_signed_in.get();
        if active && router.is_gate_page() {
            router.navigate("/");
        }
    });
}

/// The sign-in or sign-up card, or, for a session pending on a gate, the gate's page.
#[component]
fn SignedOutPage(router: Router) -> impl IntoView {
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
    // `<SignIn>` shows the second sign-in step itself; other gates have their pages.
    let on_gate_page = Memo::new(move |_| {
        auth.is_pending.get()
            && auth.session.with(|session| {
                session
                    .as_ref()
                    .and_then(|session| session.info.current_gate.as_ref())
                    .is_none_or(|gate| gate.key != GateKey::SecondFactor)
            })
    });
    let on_signed_out_page = Memo::new(move |_| router.path.with(|path| path == SIGNED_OUT_URL));
    move || {
        if on_gate_page.get() {
            return view! { <GatePage router=router /> }.into_any();
        }
        if on_signed_out_page.get() {
            return view! { <SignedOutNotice /> }.into_any();
        }
        if router.path.get() == CUSTOM_SIGN_IN_URL {
            return view! { <CustomSignIn /> }.into_any();
        }
        match card.get() {
            Card::SignIn => view! {
                <SignIn
                    on_sign_up=move || show(Card::SignUp)
                    sign_up_url="/sign-up"
                    after_sign_in_url=after_param()
                />
            }
            .into_any(),
            Card::SignUp => view! { <SignUp on_sign_in=move || show(Card::SignIn) /> }.into_any(),
        }
    }
}

/// Where the header's `<SignOutButton>` lands: a short goodbye and a way back in.
#[component]
fn SignedOutNotice() -> impl IntoView {
    view! {
        <main class="demo-signed-out" data-testid="signed-out">
            <h1 class="demo-page-title">"You are signed out"</h1>
            <p>"Your session on this device has ended."</p>
            <SignInButton url="/">"Sign in again"</SignInButton>
        </main>
    }
}

/// The protected page.
#[component]
fn Dashboard(router: Router) -> impl IntoView {
    let auth = use_auth();
    let user = use_user();
    let signing_out = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let email = move || user.with(|u| u.as_ref().map(|u| u.email.clone()));
    let name = move || {
        user.with(|u| u.as_ref().and_then(|u| u.name.clone()))
            .map(|name| {
                view! {
                    <p>
                        "Name: " <span data-testid="user-name">{name}</span>
                    </p>
                }
            })
    };
    let kind = move || {
        auth.session.with(|s| {
            s.as_ref().map(|s| match s.kind {
                SessionKind::Database => "database",
                SessionKind::Jwt => "JWT",
            })
        })
    };
    // A JWT session's token, for calls to the application's own backend. Only its end is
    // shown: the start is the header, the same in every token.
    let token = move || {
        auth.token.get().map(|token| {
            let skip = token.chars().count().saturating_sub(TOKEN_PREVIEW_CHARS);
            let end: String = token.chars().skip(skip).collect();
            view! {
                <p>
                    "Token for your backend: " <code data-testid="session-token">"…" {end}</code>
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
            <p>"Session: " <span data-testid="session-kind">{kind}</span></p>
            {token}
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
            <p>
                <a
                    href=PROFILE_URL
                    on:click=move |ev| {
                        ev.prevent_default();
                        router.navigate(PROFILE_URL);
                    }
                >
                    "Manage your account"
                </a>
            </p>
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
