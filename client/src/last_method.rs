//! The sign-in method this browser used last, remembered in `localStorage` under
//! `torii:last-method:<publishable key>` when a sign-in completes (gates passed), and marked
//! on the sign-in card with a "Last used" badge beside that method's button.
//!
//! Only the method is kept (`password`, `passkey`, `magic_link`, `oauth:<provider>`), never
//! an address: the mark helps a returning user pick the way in they used, and tells a
//! passer-by nothing about who that was.

use crate::appearance::{Slot, slot};
use crate::i18n::use_locale;
use crate::provider::Auth;
use leptos::prelude::*;

/// A way the sign-in card signs a user in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Method {
    Password,
    Passkey,
    MagicLink,
    OAuth(String),
}

impl Method {
    /// The stored form.
    pub(crate) fn as_stored(&self) -> String {
        match self {
            Self::Password => "password".to_owned(),
            Self::Passkey => "passkey".to_owned(),
            Self::MagicLink => "magic_link".to_owned(),
            Self::OAuth(provider) => format!("oauth:{provider}"),
        }
    }

    /// Reads the stored form; anything else is no method.
    pub(crate) fn from_stored(stored: &str) -> Option<Self> {
        match stored {
            "password" => Some(Self::Password),
            "passkey" => Some(Self::Passkey),
            "magic_link" => Some(Self::MagicLink),
            other => other
                .strip_prefix("oauth:")
                .filter(|provider| !provider.is_empty())
                .map(|provider| Self::OAuth(provider.to_owned())),
        }
    }
}

/// The `localStorage` key for one environment.
fn storage_key(publishable_key: &str) -> String {
    format!("torii:last-method:{publishable_key}")
}

fn publishable_key(auth: Auth) -> Option<String> {
    auth.api().map(|api| api.publishable_key().to_owned())
}

/// Remembers `method` as the last one used to sign in.
pub(crate) fn remember(auth: Auth, method: &Method) {
    if let (Some(storage), Some(key)) = (crate::browser::local_storage(), publishable_key(auth)) {
        let _ = storage.set_item(&storage_key(&key), &method.as_stored());
    }
}

/// The method remembered for this environment, if any.
fn last(auth: Auth) -> Option<Method> {
    let storage = crate::browser::local_storage()?;
    let stored = storage
        .get_item(&storage_key(&publishable_key(auth)?))
        .ok()??;
    Method::from_stored(&stored)
}

/// "Last used", beside the button of `method` when it is the one remembered. Read once
/// mounted, so the server's markup and the browser's first render agree.
#[component]
pub(crate) fn LastUsedBadge(auth: Auth, method: Method) -> impl IntoView {
    let texts = use_locale();
    let shown = RwSignal::new(false);
    Effect::new(move |_| shown.set(last(auth).as_ref() == Some(&method)));
    move || {
        shown.get().then(|| {
            view! {
                <span class=slot(Slot::Badge) data-last-used="" lang=texts.lang()>
                    {texts.text(|l| &l.controls.last_used)}
                </span>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_round_trip_through_their_stored_form() {
        for method in [
            Method::Password,
            Method::Passkey,
            Method::MagicLink,
            Method::OAuth("google".into()),
        ] {
            assert_eq!(Method::from_stored(&method.as_stored()), Some(method));
        }
        assert_eq!(Method::from_stored("oauth:"), None);
        assert_eq!(Method::from_stored("sms"), None);
        assert_eq!(storage_key("pk_test_1"), "torii:last-method:pk_test_1");
    }
}
