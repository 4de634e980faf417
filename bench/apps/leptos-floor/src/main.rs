//! Leptos with nothing of Torii: a form with an email field, a button and two signals.

use leptos::prelude::*;

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let (email, set_email) = signal(String::new());
    let (sent, set_sent) = signal(false);
    view! {
        <form on:submit=move |ev| {
            ev.prevent_default();
            set_sent.set(true);
        }>
            <input
                type="email"
                prop:value=email
                on:input=move |ev| set_email.set(event_target_value(&ev))
            />
            <button type="submit">"Sign in"</button>
            <Show when=move || sent.get()>
                <p>"Sent to " {move || email.get()}</p>
            </Show>
        </form>
    }
}
