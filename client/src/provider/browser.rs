//! The provider's browser side: the first loads, the refetch on focus and visibility, and
//! the other tabs of the origin told of every change.

use super::Auth;
use super::task::detach;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The message tabs exchange; its content does not matter, only that something changed.
const TAB_MESSAGE: &str = "changed";

/// The provider's browser side: tab sync, refocus refetch and the first loads.
pub(super) fn connect_to_browser(auth: Auth, tab_topic: &str, fetch_me: bool) {
    let tabs = TabSync::connect(tab_topic, move || auth.refetch_for_other_tab());
    let storage_key = tab_topic.to_owned();
    let on_storage = window_event_listener(leptos::ev::storage, move |ev| {
        // Only used when there is no BroadcastChannel, but harmless otherwise: both would
        // only trigger a read.
        if ev.key().as_deref() == Some(storage_key.as_str()) {
            auth.refetch_for_other_tab();
        }
    });
    auth.tabs.set_value(Some(SendWrapper::new(tabs)));
    super::refresh::keep_token_fresh(auth);

    detach(async move { auth.load_environment().await });
    if fetch_me {
        detach(async move {
            // The first answer (or its failure) ends the loading state inside `fetch_me`.
            let _ = auth.fetch_me().await;
        });
    } else if auth.has_jwt_session() {
        // The page carries no token: a JWT session gets its own from a refresh.
        detach(async move {
            let _ = auth.fetch_refreshed().await;
        });
    }

    // These callbacks run outside the reactive owner: they only use `auth`, captured here.
    let on_focus = window_event_listener(leptos::ev::focus, move |_| {
        auth.refetch_in_background();
    });
    let on_visibility = document_listener("visibilitychange", move || {
        let visible = document().visibility_state() == web_sys::VisibilityState::Visible;
        if visible {
            auth.refetch_in_background();
        }
    });
    on_cleanup(move || {
        on_storage.remove();
        auth.tabs.update_value(|tabs| {
            if let Some(tabs) = tabs.take() {
                tabs.take().close();
            }
        });
        on_focus.remove();
        if let Some(remove) = on_visibility {
            remove.take()();
        }
    });
}

/// How this tab tells the others of its origin that the auth state changed: a
/// `BroadcastChannel`, or where there is none, a `localStorage` write (whose `storage` event
/// fires in every other tab).
pub(super) struct TabSync {
    topic: String,
    channel: Option<web_sys::BroadcastChannel>,
    // Kept alive as long as the channel listens.
    _on_message: Option<Closure<dyn Fn(web_sys::MessageEvent)>>,
}

impl TabSync {
    fn connect(topic: &str, on_change: impl Fn() + 'static) -> Self {
        let channel = web_sys::BroadcastChannel::new(topic).ok();
        let on_message = channel.as_ref().map(|channel| {
            let callback =
                Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                    if ev.data().as_string().as_deref() == Some(TAB_MESSAGE) {
                        on_change();
                    }
                });
            channel.set_onmessage(Some(callback.as_ref().unchecked_ref()));
            callback
        });
        Self {
            topic: topic.to_owned(),
            channel,
            _on_message: on_message,
        }
    }

    pub(super) fn post(&self) {
        if let Some(channel) = &self.channel
            && channel
                .post_message(&JsValue::from_str(TAB_MESSAGE))
                .is_ok()
        {
            return;
        }
        // A new value each time, or the other tabs would see no change. Whole milliseconds,
        // formatted as an integer: a float's `Display` would bring ~10 KB of formatting code
        // into the wasm for this one line.
        let stamp = (js_sys::Date::now() as u64).to_string();
        if let Some(storage) =
            crate::browser::window().and_then(|w| w.local_storage().ok().flatten())
        {
            let _ = storage.set_item(&self.topic, &stamp);
        }
    }

    pub(super) fn close(self) {
        if let Some(channel) = &self.channel {
            channel.set_onmessage(None);
            channel.close();
        }
    }
}

/// Listens for `event` on the document (where `visibilitychange` is fired); the returned
/// function removes the listener. `None` when there is no document.
fn document_listener(
    event: &'static str,
    handler: impl Fn() + 'static,
) -> Option<SendWrapper<Box<dyn FnOnce()>>> {
    let document = crate::browser::window()?.document()?;
    let callback = Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| handler());
    document
        .add_event_listener_with_callback(event, callback.as_ref().unchecked_ref())
        .ok()?;
    let remove: Box<dyn FnOnce()> = Box::new(move || {
        let _ =
            document.remove_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
    });
    // Browser code is single-threaded: the wrapper only satisfies `on_cleanup`'s bounds.
    Some(SendWrapper::new(remove))
}
