//! What the sessions list shows for a device: a browser and an operating system read from the
//! user agent the session was created with. A small ordered set of rules, not a database of
//! agents: the answer only has to let a person recognise their own devices, and an agent we
//! do not know is shown by its first product token (`curl`, an app's name) or as unknown.

/// A device as the sessions list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The browser, e.g. `Firefox`.
    pub browser: Option<String>,
    /// The operating system, e.g. `macOS`.
    pub os: Option<String>,
}

impl Device {
    /// Reads a user agent; `None` (not sent) is an unknown device.
    #[must_use]
    pub fn from_user_agent(user_agent: Option<&str>) -> Self {
        let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
            return Self {
                browser: None,
                os: None,
            };
        };
        Self {
            browser: browser(ua).map(str::to_owned).or_else(|| product(ua)),
            os: os(ua).map(str::to_owned),
        }
    }

    /// `Chrome on Linux`, `Firefox`, `Android device`, or `Unknown device`.
    #[must_use]
    pub fn label(&self) -> String {
        match (&self.browser, &self.os) {
            (Some(browser), Some(os)) => format!("{browser} on {os}"),
            (Some(browser), None) => browser.clone(),
            (None, Some(os)) => format!("{os} device"),
            (None, None) => "Unknown device".to_owned(),
        }
    }
}

/// Browsers, most specific first: Edge and Opera say `Chrome` too, Chrome says `Safari`.
fn browser(ua: &str) -> Option<&'static str> {
    const RULES: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("HeadlessChrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    RULES
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

/// Operating systems; iPhones and Android phones also say `like Mac OS X` and `Linux`.
fn os(ua: &str) -> Option<&'static str> {
    const RULES: &[(&str, &str)] = &[
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
        ("FreeBSD", "FreeBSD"),
    ];
    RULES
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

/// The first product token of an agent that is not a browser (`curl/8.5.0` → `curl`),
/// unless it is the generic `Mozilla`.
fn product(ua: &str) -> Option<String> {
    let first = ua.split_whitespace().next()?;
    let name = first.split('/').next()?;
    let plausible = !name.is_empty()
        && name.len() <= 32
        && name != "Mozilla"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    plausible.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(ua: &str) -> String {
        Device::from_user_agent(Some(ua)).label()
    }

    #[test]
    fn common_browsers_are_named_with_their_system() {
        assert_eq!(
            label(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36"
            ),
            "Chrome on Linux"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/131.0.0.0 Safari/537.36"
            ),
            "Chrome on Linux"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"
            ),
            "Firefox on macOS"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
            ),
            "Edge on Windows"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
            ),
            "Safari on iOS"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Mobile Safari/537.36"
            ),
            "Chrome on Android"
        );
    }

    #[test]
    fn other_agents_show_their_product_or_unknown() {
        assert_eq!(label("curl/8.5.0"), "curl");
        assert_eq!(label("Mozilla/5.0 (compatible)"), "Unknown device");
        assert_eq!(Device::from_user_agent(None).label(), "Unknown device");
        assert_eq!(
            Device::from_user_agent(Some("  ")).label(),
            "Unknown device"
        );
        assert_eq!(label("Mozilla/5.0 (X11; Linux x86_64)"), "Linux device");
    }
}
