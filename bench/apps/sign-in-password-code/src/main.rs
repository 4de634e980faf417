//! The provider and the sign-in card built with only passwords and emailed codes
//! (`default-features = false`, features `csr`, `password`, `email-code`): what an app that
//! needs no other way in ships.

use leptos::prelude::*;
use torii_client::{SignIn, ToriiProvider};

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <ToriiProvider publishable_key="">
            <SignIn />
        </ToriiProvider>
    }
}
