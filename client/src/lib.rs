//! Torii's Leptos components: sign-in, sign-up and session-aware rendering for a Rust web UI,
//! talking to a Torii server over its HTTP API with the types of `torii-shared`.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use torii_client::*;
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     view! {
//!         <ToriiProvider
//!             publishable_key="pk_test_123"
//!             gate_urls=[(GateKey::LegalAcceptance, "/legal")]
//!         >
//!             <AuthLoading>
//!                 <p role="status">"Loading…"</p>
//!             </AuthLoading>
//!             <SignedOut>
//!                 <RedirectToGates />
//!                 <SignIn />
//!             </SignedOut>
//!             <SignedIn>
//!                 <Dashboard />
//!             </SignedIn>
//!         </ToriiProvider>
//!     }
//! }
//!
//! #[component]
//! fn Dashboard() -> impl IntoView {
//!     let auth = use_auth();
//!     let email = move || auth.user.get().map(|user| user.email);
//!     view! {
//!         <p>"Signed in as " {email}</p>
//!         <button on:click=move |_| { auth.sign_out(); }>"Sign out"</button>
//!     }
//! }
//! ```
//!
//! The default look is [`STYLE`]: plain CSS, themeable through `--torii-*` custom properties.

#![warn(missing_docs)]

mod api;
mod appearance;
mod browser;
mod completion;
mod components;
mod destinations;
mod flows;
mod form;
mod hooks;
pub mod i18n;
mod last_method;
mod provider;
#[cfg(feature = "ssr")]
pub mod ssr;
mod webauthn;

pub use api::{ApiError, NETWORK_ERROR_MESSAGE};
pub use appearance::{Appearance, Slot, SocialButtons, Theme, VARIABLES};
pub use components::{
    AcceptTerms, AuthLoading, AuthSnapshot, Condition, Decision, Passkeys, Protected,
    RedirectToGates, RedirectToSignIn, RedirectToSignUp, RedirectToUserProfile, SecondFactor,
    SetupMfa, Show, SignIn, SignInButton, SignOutButton, SignUp, SignUpButton, SignedIn, SignedOut,
    UserButton, UserProfile, VerifyEmail, decide,
};
pub use flows::{
    FlowState, SignInBusy, SignInFlow, SignInStep, SignUpBusy, SignUpFlow, SignUpStep, use_sign_in,
    use_sign_up,
};
pub use hooks::{use_session, use_user};
pub use i18n::{Locale, Texts, use_locale};
pub use provider::{Auth, AuthTask, GateUrls, ToriiProvider, use_auth};
pub use torii_shared::{GateKey, Session, SessionInfo, User};

/// The components' default stylesheet. Inline it in a `<style>` element or serve it as a
/// file; override the `--torii-*` custom properties to theme it.
pub const STYLE: &str = include_str!("style.css");
