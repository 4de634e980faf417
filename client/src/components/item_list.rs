//! The profile's lists of the user's things (passkeys, linked accounts, sessions): loaded
//! through a [`LocalResource`], read again after each change, and drawn the same way —
//! "Loading…", the load's error, an empty line, or one row an item.

use crate::api::{ApiClient, ApiError};
use crate::appearance::{Slot, slot};
use crate::i18n::{Pick, use_locale};
use crate::provider::use_auth;
use leptos::prelude::*;
use std::future::Future;

/// A list of the user's things as the server last gave it.
pub(crate) type Listing<T> = LocalResource<Result<Vec<T>, ApiError>>;

/// Loads a list with `fetch` when the section mounts (and on `refetch`).
pub(crate) fn listing<T, F, Fut>(fetch: F) -> Listing<T>
where
    T: 'static,
    F: Fn(ApiClient) -> Fut + 'static,
    Fut: Future<Output = Result<Vec<T>, ApiError>> + 'static,
{
    let auth = use_auth();
    LocalResource::new(move || {
        let request = auth.api().map(&fetch);
        async move {
            match request {
                Some(request) => request.await,
                None => Err(ApiError::Network),
            }
        }
    })
}

/// The items of `list` when it has loaded (tracked); empty before.
pub(crate) fn loaded<T: Clone + 'static>(list: Listing<T>) -> Vec<T> {
    list.with(|found| {
        found
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .cloned()
            .unwrap_or_default()
    })
}

/// `list` drawn: `loading` until it has loaded, then the load's error, `empty`, or a `<ul>`
/// of `class` with one `item` a row.
pub(crate) fn item_list<T, V>(
    list: Listing<T>,
    class: &'static str,
    loading: Pick,
    empty: Pick,
    item: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + 'static,
    V: IntoView + 'static,
{
    let t = use_locale();
    move || match list.get() {
        None => still_loading(loading).into_any(),
        Some(Err(err)) => load_failed(err).into_any(),
        Some(Ok(found)) if found.is_empty() => {
            view! { <p class="torii-text">{t.text(empty)}</p> }.into_any()
        }
        Some(Ok(found)) => {
            let rows = found.into_iter().map(item.clone()).collect_view();
            view! { <ul class=class>{rows}</ul> }.into_any()
        }
    }
}

/// The line shown while something loads: `text`, announced politely.
pub(crate) fn still_loading(text: Pick) -> impl IntoView {
    let t = use_locale();
    view! {
        <p class="torii-text torii-muted" role="status">
            {t.text(text)}
        </p>
    }
}

/// The line shown when a load failed: the server's error, in the current language.
pub(crate) fn load_failed(err: ApiError) -> impl IntoView {
    let t = use_locale();
    view! {
        <p class=slot(Slot::Alert) role="alert">
            {move || t.with(|l| l.api_error(&err))}
        </p>
    }
}

/// One row of a passkey-like list: the item's name, a muted line of details, then the
/// row's controls.
#[component]
pub(crate) fn ItemRow(
    /// The `<li>`'s classes.
    class: &'static str,
    name: String,
    #[prop(into)] details: Signal<String>,
    /// `data-testid`, for tests that look for rows.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// `data-provider`, for a provider's row.
    #[prop(optional)]
    provider: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <li class=class data-testid=testid data-provider=provider>
            <span class="torii-passkey-name">{name}</span>
            <span class="torii-muted">{details}</span>
            {children()}
        </li>
    }
}
