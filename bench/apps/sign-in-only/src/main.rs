//! The smallest app a Torii user writes: the provider and the sign-in card.

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
