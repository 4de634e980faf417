//! The one door to the browser's globals. Torii's components also render on a server (Leptos
//! `ssr`), where there is no `window`: every browser API is reached through [`window`], which
//! answers `None` off the browser, and only from effects or event handlers, which the server
//! never runs, so server and browser render the same markup.

/// The page's `window`; `None` where there is none (a native build: server rendering, tests).
#[cfg(target_arch = "wasm32")]
pub(crate) fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// The page's `window`; `None` where there is none (a native build: server rendering, tests).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn window() -> Option<web_sys::Window> {
    None
}

/// The page's origin (`scheme://host[:port]`); empty off the browser.
pub(crate) fn page_origin() -> String {
    window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// The origin's `localStorage`; `None` off the browser or where storage is refused.
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok().flatten()
}
