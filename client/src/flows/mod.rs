//! Headless flows: each sign-in or sign-up ceremony as typed state and actions, with no markup.
//! The built-in cards draw these same flows; an application draws its own forms over them
//! and still gets the requests, the one-at-a-time rule, the errors in the provider's
//! language, passkeys and the session hand-over right.

pub(crate) mod sign_in;
pub(crate) mod sign_up;

pub use sign_in::{SignInBusy, SignInFlow, SignInStep, use_sign_in};
pub use sign_up::{SignUpBusy, SignUpFlow, SignUpStep, use_sign_up};
