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
#[cfg(feature = "passkeys")]
mod webauthn;

pub use api::{ApiError, NETWORK_ERROR_MESSAGE};
pub use appearance::{Appearance, Slot, SocialButtons, Theme, VARIABLES};
#[cfg(feature = "profile")]
pub use components::Passkeys;
#[cfg(feature = "email-code")]
pub use components::SignUp;
#[cfg(feature = "profile")]
pub use components::UserProfile;
#[cfg(feature = "email-code")]
pub use components::VerifyEmail;
pub use components::{
    AcceptTerms, AuthLoading, AuthSnapshot, Condition, Decision, Protected, RedirectToGates,
    RedirectToSignIn, RedirectToSignUp, RedirectToUserProfile, Show, SignIn, SignInButton,
    SignOutButton, SignUpButton, SignedIn, SignedOut, UserButton, decide,
};
#[cfg(feature = "mfa")]
pub use components::{SecondFactor, SetupMfa};
pub use flows::{FlowState, SignInBusy, SignInFlow, SignInStep, use_sign_in};
#[cfg(feature = "email-code")]
pub use flows::{SignUpBusy, SignUpFlow, SignUpStep, use_sign_up};
pub use hooks::{use_session, use_user};
pub use i18n::{Locale, Texts, use_locale};
pub use provider::{Auth, AuthTask, GateUrls, ToriiProvider, use_auth};
pub use torii_shared::{GateKey, Session, SessionInfo, User};

/// The components' default stylesheet. Inline it in a `<style>` element or serve it as a
/// file; override the `--torii-*` custom properties to theme it.
pub const STYLE: &str = include_str!("style.css");
