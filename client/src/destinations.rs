//! Where the application sends a user: the provider's routes (`sign_in_url`, `sign_up_url`,
//! `user_profile_url`) and destinations after signing in, up or out, and the check every
//! destination passes before it is followed.
//!
//! A destination may come from the address bar (`?after=/billing`), so it is followed only
//! when it stays on the page's own origin: a root-relative path (`/billing?tab=2`), or an
//! absolute URL on this origin (made root-relative). Anything else (another origin, a
//! protocol-relative `//host`, `javascript:`, a backslash or control character a browser
//! would read as something else) is ignored, with a warning in the console: an open
//! redirect would let any link send a freshly signed-in user to a look-alike site.

use leptos::prelude::*;

/// The provider's routes and destinations, each reactive (see [`ToriiProvider`]'s props).
///
/// [`ToriiProvider`]: crate::ToriiProvider
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Destinations {
    pub sign_in_url: MaybeProp<String>,
    pub sign_up_url: MaybeProp<String>,
    pub user_profile_url: MaybeProp<String>,
    pub after_sign_in_url: MaybeProp<String>,
    pub after_sign_up_url: MaybeProp<String>,
    pub after_sign_out_url: MaybeProp<String>,
}

/// `target` when it is safe to follow from a page on `origin` (`https://app.example.com`),
/// as a root-relative path; `None` otherwise. See the module documentation.
pub(crate) fn safe_destination(target: &str, origin: &str) -> Option<String> {
    let target = target.trim();
    if target.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let path = if target.starts_with('/') {
        target
    } else {
        // An absolute URL: only on this very origin (scheme, host and port).
        let rest = target.strip_prefix(origin).filter(|_| !origin.is_empty())?;
        if rest.is_empty() {
            "/"
        } else if rest.starts_with(['/', '?', '#']) {
            rest
        } else {
            // `https://app.example.com.evil.test/`, `https://app.example.com:8443/`...
            return None;
        }
    };
    if path.starts_with("//") {
        return None;
    }
    if path.starts_with(['?', '#']) {
        return Some(format!("/{path}"));
    }
    Some(path.to_owned())
}

/// [`safe_destination`] against the page's own origin, warning when `target` is refused.
pub(crate) fn checked(target: &str) -> Option<String> {
    let safe = safe_destination(target, &crate::browser::page_origin());
    if safe.is_none() {
        leptos::logging::warn!(
            "torii: the destination `{target}` is not on this origin and was not followed"
        );
    }
    safe
}

/// The first of `candidates` that is set and safe to follow (a refused one is skipped, with
/// its warning).
pub(crate) fn pick(candidates: &[Option<String>]) -> Option<String> {
    candidates
        .iter()
        .flatten()
        .filter(|url| !url.trim().is_empty())
        .find_map(|url| checked(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://app.example.com";

    #[test]
    fn root_relative_paths_are_followed_as_they_are() {
        for path in ["/", "/billing", "/billing?tab=2#invoices", " /padded "] {
            assert_eq!(
                safe_destination(path, ORIGIN).as_deref(),
                Some(path.trim()),
                "{path}"
            );
        }
    }

    #[test]
    fn absolute_urls_on_this_origin_become_root_relative() {
        let on = |url: &str| safe_destination(url, ORIGIN);
        assert_eq!(
            on("https://app.example.com/billing").as_deref(),
            Some("/billing")
        );
        assert_eq!(on("https://app.example.com").as_deref(), Some("/"));
        assert_eq!(on("https://app.example.com?x=1").as_deref(), Some("/?x=1"));
    }

    #[test]
    fn other_origins_and_tricks_are_refused() {
        for target in [
            "https://evil.test/",
            "http://app.example.com/",
            "https://app.example.com.evil.test/",
            "https://app.example.com:8443/",
            "https://app.example.com@evil.test/",
            "//evil.test/",
            "/\\evil.test/",
            "/\t/evil.test",
            "javascript:alert(1)",
            "billing",
            "",
        ] {
            assert_eq!(safe_destination(target, ORIGIN), None, "{target}");
        }
        // Without a known origin, only root-relative paths pass.
        assert_eq!(safe_destination("https://app.example.com/", ""), None);
        assert_eq!(safe_destination("/a", "").as_deref(), Some("/a"));
    }

    #[test]
    fn the_first_destination_set_wins_and_is_checked() {
        assert_eq!(
            pick(&[None, Some("/card".into()), Some("/provider".into())]).as_deref(),
            Some("/card")
        );
        assert_eq!(
            pick(&[Some(" ".into()), Some("/p".into())]).as_deref(),
            Some("/p")
        );
        assert_eq!(
            pick(&[Some("https://evil.test/".into()), Some("/p".into())]).as_deref(),
            Some("/p")
        );
        assert_eq!(pick(&[Some("https://evil.test/".into())]), None);
        assert_eq!(pick(&[None, None]), None);
    }
}
