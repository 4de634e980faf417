//! The server-rendered demo: run with `cargo xtask demo --ssr`.
//!
//! One Leptos app rendered twice: on the server (`ssr`, in `main.rs`, which also mounts
//! Torii's own router on the same origin) and hydrated in the browser (`hydrate`). Pages:
//! `/` (public), `/sign-in`, `/sign-up`, `/account` (protected, with data from a `#[server]`
//! function that answers 401 to a signed-out caller) and `/legal` (the Terms gate).

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use torii_client::{
    AcceptTerms, AuthLoading, GateKey, Protected, RedirectToGates, SignIn, SignUp, SignedIn,
    SignedOut, ToriiProvider, use_auth,
};

/// The whole HTML document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <title>"Torii server-rendered demo"</title>
                // No favicon request (and no 404 in the console).
                <link rel="icon" href="data:," />
                <style>{torii_client::STYLE}</style>
                <HydrationScripts options />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: the router, Torii's provider inside it (so redirects go through the router), and
/// the pages.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <ToriiProvider
                // The server hosts one environment: no key needed.
                publishable_key=""
                gate_urls=[(GateKey::LegalAcceptance, "/legal")]
            >
                <nav>
                    <A href="/">"Home"</A>
                    " "
                    <A href="/account">"Account"</A>
                    " "
                    <SignedOut>
                        <A href="/sign-in">"Sign in"</A>
                        " "
                        <A href="/sign-up">"Sign up"</A>
                    </SignedOut>
                </nav>
                <main>
                    <Routes fallback=|| "Page not found.">
                        <Route path=path!("/") view=Home />
                        <Route path=path!("/sign-in") view=SignInPage />
                        <Route path=path!("/sign-up") view=SignUpPage />
                        <Route path=path!("/account") view=AccountPage />
                        <Route path=path!("/legal") view=LegalPage />
                    </Routes>
                </main>
            </ToriiProvider>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    let auth = use_auth();
    let email = move || auth.user.get().map(|user| user.email);
    view! {
        <h1>"Torii, server-rendered"</h1>
        <AuthLoading>
            <p role="status">"Loading…"</p>
        </AuthLoading>
        <SignedIn>
            <p data-testid="home-signed-in">"Signed in as " {email}</p>
        </SignedIn>
        <SignedOut>
            <p data-testid="home-signed-out">"You are signed out."</p>
        </SignedOut>
    }
}

#[component]
fn SignInPage() -> impl IntoView {
    view! {
        <SignedOut>
            <RedirectToGates />
            <SignIn sign_up_url="/sign-up" />
        </SignedOut>
        <SignedIn>
            <SignedInLinks />
        </SignedIn>
    }
}

#[component]
fn SignUpPage() -> impl IntoView {
    view! {
        <SignedOut>
            <RedirectToGates />
            <SignUp />
        </SignedOut>
        <SignedIn>
            <SignedInLinks />
        </SignedIn>
    }
}

#[component]
fn SignedInLinks() -> impl IntoView {
    let auth = use_auth();
    let email = move || auth.user.get().map(|user| user.email);
    view! {
        <p data-testid="signed-in-as">"Signed in as " {email}</p>
        <A href="/account">"Go to your account"</A>
    }
}

#[component]
fn LegalPage() -> impl IntoView {
    view! {
        <SignedOut>
            <AcceptTerms />
        </SignedOut>
        <SignedIn>
            <SignedInLinks />
        </SignedIn>
    }
}

/// The user's private data, from the server: 401 to a caller without an active session.
#[server(prefix = "/api", endpoint = "account_data")]
pub async fn account_data() -> Result<String, ServerFnError> {
    let state = torii_client::ssr::current_session()
        .await
        .map_err(|err| ServerFnError::new(err.to_string()))?;
    match state.active_user() {
        Some(user) => Ok(format!("Private data of {}", user.email)),
        None => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(axum::http::StatusCode::UNAUTHORIZED);
            }
            Err(ServerFnError::new("Sign in first."))
        }
    }
}

#[component]
fn AccountPage() -> impl IntoView {
    view! {
        <Protected sign_in_url="/sign-in">
            <Account />
        </Protected>
    }
}

#[component]
fn Account() -> impl IntoView {
    let auth = use_auth();
    let email = move || auth.user.get().map(|user| user.email);
    let load = ServerAction::<AccountData>::new();
    let data = move || match load.value().get() {
        Some(Ok(data)) => data,
        Some(Err(err)) => format!("Error: {err}"),
        None => String::new(),
    };
    view! {
        <h1>"Your account"</h1>
        <p data-testid="account-email">{email}</p>
        <button type="button" on:click=move |_| {
            load.dispatch(AccountData {});
        }>"Load my data"</button>
        <p data-testid="account-data">{data}</p>
        <button type="button" on:click=move |_| {
            auth.sign_out();
        }>"Sign out"</button>
    }
}

/// The browser's entry point: hydrates the server's HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic's message on the console (the release build aborts without a word otherwise).
    std::panic::set_hook(Box::new(|info| leptos::logging::error!("{info}")));
    leptos::mount::hydrate_body(App);
}
