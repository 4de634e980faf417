//! `<RedirectToGates>`: sends a pending session to the route that clears its current gate.

use super::is_current_location;
use crate::provider::use_auth;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeSet;
use torii_shared::{GateKey, SessionStatus};

thread_local! {
    /// Gate keys already warned about on this page load.
    static WARNED: RefCell<BTreeSet<GateKey>> = const { RefCell::new(BTreeSet::new()) };
}

/// When the session is pending, navigates to `gate_urls[currentGate.key]` (through the
/// provider's `navigate` when set, else a full-page redirect). Renders nothing. When the
/// provider has no URL for the gate it does nothing and warns once per gate per page load,
/// so a pending session never strands the user silently (except on `second_factor`, which
/// `<SignIn>` shows itself when the provider has no route for it).
///
/// Don't mount it alongside [`RedirectToSignIn`](crate::RedirectToSignIn): render exactly one.
#[component]
pub fn RedirectToGates() -> impl IntoView {
    let auth = use_auth();
    let current_gate = Memo::new(move |_| {
        auth.session.with(|session| {
            session
                .as_ref()
                .filter(|s| s.info.status == SessionStatus::Pending)
                .and_then(|s| s.info.current_gate.as_ref())
                .map(|gate| gate.key.clone())
        })
    });
    Effect::new(move |_| {
        let Some(key) = current_gate.get() else {
            return;
        };
        match auth.gate_url(&key) {
            Some(url) if is_current_location(&url) => {}
            Some(url) => auth.navigate_to(&url),
            // `<SignIn>` shows the second sign-in step itself where no route is given.
            None if key == GateKey::SecondFactor => {}
            None => warn_once(&key),
        }
    });
}

fn warn_once(key: &GateKey) {
    let first = WARNED.with(|warned| warned.borrow_mut().insert(key.clone()));
    if first {
        leptos::logging::warn!(
            "torii: the session is pending on gate `{key}` but ToriiProvider has no \
             gate_urls entry for it; RedirectToGates does nothing"
        );
    }
}
