//! [`GateUrls`]: the routes that clear each gate.

use std::collections::BTreeMap;
use torii_shared::GateKey;

/// Routes that clear each gate, passed to [`ToriiProvider`] as `gate_urls`.
///
/// ```
/// # use torii_client::GateUrls;
/// # use torii_shared::GateKey;
/// let urls = GateUrls::from([(GateKey::LegalAcceptance, "/legal")]);
/// assert_eq!(urls.get(&GateKey::LegalAcceptance), Some("/legal"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateUrls(BTreeMap<GateKey, String>);

impl GateUrls {
    /// No routes: [`RedirectToGates`](crate::RedirectToGates) only warns.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the route for one gate.
    #[must_use]
    pub fn with(mut self, key: GateKey, url: impl Into<String>) -> Self {
        self.0.insert(key, url.into());
        self
    }

    /// The route that clears `key`, if one was given.
    #[must_use]
    pub fn get(&self, key: &GateKey) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl<S: Into<String>> FromIterator<(GateKey, S)> for GateUrls {
    fn from_iter<I: IntoIterator<Item = (GateKey, S)>>(iter: I) -> Self {
        Self(iter.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

impl<S: Into<String>, const N: usize> From<[(GateKey, S); N]> for GateUrls {
    fn from(pairs: [(GateKey, S); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl From<BTreeMap<GateKey, String>> for GateUrls {
    fn from(map: BTreeMap<GateKey, String>) -> Self {
        Self(map)
    }
}
