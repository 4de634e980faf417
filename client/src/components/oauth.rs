//! Sign-in with the environment's OAuth providers: a "Continue with …" button per provider
//! (a full-page navigation to the server's `/v1/oauth/{provider}/start`), and what the server
//! hands back in the page's URL after the provider: `oauthError` (shown inline by `<SignIn>`)
//! and `oauthSignUp` (the consent step `<SignUp>` mounts). Both are removed from the address
//! bar once read, so a reload does not show them again.
//!
//! A signed-in user also goes to a provider and back from the profile, to link it or to
//! prove who they are again: the page they come back to carries `toriiOAuth=linked` or
//! `toriiOAuth=reauthenticated` (put there by this crate, so the page knows what it asked
//! for), or the server's `oauthError`; [`take_profile_return`] reads and removes them.

use crate::appearance::{Slot, slot};
use crate::completion::{self, Kind};
use crate::i18n::{Message, use_locale};
use crate::last_method::{LastUsedBadge, Method};
use crate::provider::Auth;
use leptos::prelude::*;
use torii_shared::{ErrorCode, OAUTH_ERROR_QUERY, OAUTH_SIGN_UP_QUERY, OAuthProviderInfo};

/// The query parameter saying why the profile went to a provider (see the module docs).
const RETURN_QUERY: &str = "toriiOAuth";
#[cfg(feature = "profile")]
const LINKED: &str = "linked";
#[cfg(feature = "profile")]
const REAUTHENTICATED: &str = "reauthenticated";

/// The value of `name` in a `?a=b&c=d` query (our values need no decoding).
fn query_param(search: &str, name: &str) -> Option<String> {
    search.trim_start_matches('?').split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name && !value.is_empty()).then(|| value.to_owned())
    })
}

/// `href` without the query parameters `names` (and without its fragment).
fn without_params(href: &str, names: &[&str]) -> String {
    let href = href.split('#').next().unwrap_or_default();
    let Some((base, query)) = href.split_once('?') else {
        return href.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !pair.is_empty() && !names.contains(&key)
        })
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `target` made absolute against the page's `origin` (root-relative paths only).
fn absolute(target: &str, origin: &str) -> String {
    if target.starts_with('/') && !target.starts_with("//") {
        format!("{origin}{target}")
    } else {
        target.to_owned()
    }
}

/// The server's start URL for `provider`.
pub(crate) fn start_url(
    api_base: &str,
    publishable_key: &str,
    provider: &str,
    redirect_url: &str,
    sign_up_url: &str,
) -> String {
    let mut url = format!(
        "{api_base}/v1/oauth/{}/start?redirectUrl={}&signUpUrl={}",
        encode(provider),
        encode(redirect_url),
        encode(sign_up_url)
    );
    if !publishable_key.is_empty() {
        url.push_str(&format!(
            "&{}={}",
            torii_shared::PUBLISHABLE_KEY_QUERY,
            encode(publishable_key)
        ));
    }
    url
}

fn location() -> Option<web_sys::Location> {
    Some(crate::browser::window()?.location())
}

/// The page's URL without the parameters the server adds after a provider.
fn clean_href() -> Option<String> {
    let href = location()?.href().ok()?;
    Some(without_params(
        &href,
        &[OAUTH_ERROR_QUERY, OAUTH_SIGN_UP_QUERY, RETURN_QUERY],
    ))
}

/// Replaces the address bar's URL with [`clean_href`], without a page load.
fn forget_params() {
    let Some(clean) = clean_href() else { return };
    if let Some(history) = crate::browser::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&clean));
    }
}

fn take_param(name: &str) -> Option<String> {
    let value = query_param(&location()?.search().ok()?, name)?;
    forget_params();
    Some(value)
}

/// The message for an `oauthError` the server sent the browser back with.
fn error_message(code: &str) -> Message {
    let parsed: ErrorCode = serde_json::from_value(serde_json::Value::String(code.to_owned()))
        .unwrap_or(ErrorCode::Unknown);
    Message::Text(match parsed {
        ErrorCode::OauthCancelled => |l| &l.sign_in.oauth_cancelled,
        ErrorCode::OauthStateMismatch => |l| &l.sign_in.oauth_state_mismatch,
        ErrorCode::OauthAccountExists => |l| &l.sign_in.oauth_account_exists,
        ErrorCode::OauthEmailMissing => |l| &l.sign_in.oauth_email_missing,
        ErrorCode::OauthEmailUnverified => |l| &l.sign_in.oauth_email_unverified,
        ErrorCode::OauthAlreadyLinked => |l| &l.sign_in.oauth_already_linked,
        ErrorCode::OauthWrongAccount => |l| &l.sign_in.oauth_wrong_account,
        _ => |l| &l.sign_in.oauth_failed,
    })
}

/// Reads (and removes from the address bar) the `oauthError` of a failed provider sign-in:
/// the message to show.
pub(crate) fn take_oauth_error() -> Option<Message> {
    take_param(OAUTH_ERROR_QUERY).map(|code| error_message(&code))
}

/// Whether the page's URL carries a pending OAuth sign-up (without consuming it).
pub(crate) fn has_oauth_sign_up() -> bool {
    location()
        .and_then(|l| l.search().ok())
        .is_some_and(|search| query_param(&search, OAUTH_SIGN_UP_QUERY).is_some())
}

/// Reads (and removes from the address bar) a pending OAuth sign-up's id.
pub(crate) fn take_oauth_sign_up() -> Option<String> {
    take_param(OAUTH_SIGN_UP_QUERY)
}

#[cfg(feature = "profile")]
/// Why a signed-in user went to a provider from the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProfileTrip {
    /// To link it to their account.
    Link,
    /// To prove who they are again.
    Reauthenticate,
}

#[cfg(feature = "profile")]
/// What the page learnt on coming back from a provider: the outcome to show.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ProfileReturn {
    /// It went through.
    Done(ProfileTrip),
    /// The server's `oauthError`, as a message.
    Failed(Message),
}

/// This page's URL (without the parameters of an earlier trip), marked with why it is left:
/// where the provider sends the browser back to.
#[cfg(feature = "profile")]
pub(crate) fn return_url(trip: ProfileTrip) -> Option<String> {
    let value = match trip {
        ProfileTrip::Link => LINKED,
        ProfileTrip::Reauthenticate => REAUTHENTICATED,
    };
    let clean = clean_href()?;
    let separator = if clean.contains('?') { '&' } else { '?' };
    Some(format!("{clean}{separator}{RETURN_QUERY}={value}"))
}

#[cfg(feature = "profile")]
/// Reads (and removes from the address bar) the outcome of a trip to a provider.
pub(crate) fn take_profile_return() -> Option<ProfileReturn> {
    let search = location()?.search().ok()?;
    let error = query_param(&search, OAUTH_ERROR_QUERY);
    let trip = query_param(&search, RETURN_QUERY);
    if error.is_none() && trip.is_none() {
        return None;
    }
    forget_params();
    profile_return(error.as_deref(), trip.as_deref())
}

#[cfg(feature = "profile")]
fn profile_return(error: Option<&str>, trip: Option<&str>) -> Option<ProfileReturn> {
    if let Some(code) = error {
        return Some(ProfileReturn::Failed(error_message(code)));
    }
    match trip? {
        LINKED => Some(ProfileReturn::Done(ProfileTrip::Link)),
        REAUTHENTICATED => Some(ProfileReturn::Done(ProfileTrip::Reauthenticate)),
        _ => None,
    }
}

#[cfg(feature = "profile")]
/// Sends the browser to a provider's page (a full-page navigation).
pub(crate) fn go_to(url: &str) {
    if let Some(location) = location() {
        let _ = location.assign(url);
    }
}

/// The environment's providers, when it offers OAuth.
pub(crate) fn providers(auth: Auth) -> Vec<OAuthProviderInfo> {
    auth.environment.with(|env| {
        env.as_ref()
            .filter(|env| env.methods.contains(&torii_shared::SignInMethod::Oauth))
            .map(|env| env.oauth_providers.clone())
            .unwrap_or_default()
    })
}

/// A "Continue with …" button per provider, and the "or" line that separates them from the
/// card's form. `sign_up_url` is the app's sign-up route (default: this page); `kind` the
/// card they sit on (the sign-in card marks the provider used last). A card mounts them
/// above its form and again below it (`at_bottom`); the appearance's
/// [`SocialButtons`](crate::SocialButtons) placement decides which of the two shows.
#[component]
pub(crate) fn OAuthButtons(
    auth: Auth,
    #[prop(optional, into)] sign_up_url: MaybeProp<String>,
    #[prop(optional)] kind: Kind,
    #[prop(optional)] at_bottom: bool,
) -> impl IntoView {
    let below = crate::appearance::social_buttons_below();
    let go = move |provider: String| {
        let (Some(api), Some(here), Some(origin)) = (
            auth.api(),
            clean_href(),
            location().and_then(|l| l.origin().ok()),
        ) else {
            return;
        };
        let sign_up = sign_up_url
            .get_untracked()
            .map_or_else(|| here.clone(), |url| absolute(&url, &origin));
        let url = start_url(
            api.base(),
            api.publishable_key(),
            &provider,
            &here,
            &sign_up,
        );
        completion::begin(auth, kind, Some(Method::OAuth(provider)));
        if let Some(location) = location() {
            let _ = location.assign(&url);
        }
    };
    let texts = use_locale();
    move || {
        let list = providers(auth);
        (!list.is_empty() && below.get() == at_bottom).then(|| {
            let divider = move || {
                view! {
                    <p class=slot(Slot::Divider) aria-hidden="true">
                        <span>{texts.text(|l| &l.common.or)}</span>
                    </p>
                }
            };
            view! {
                {at_bottom.then(divider)}
                <div
                    class="torii-oauth"
                    role="group"
                    aria-label=texts.text(|l| &l.sign_in.with_provider)
                >
                    {list
                        .into_iter()
                        .map(|provider| {
                            let id = provider.id.clone();
                            let label = texts
                                .fill(
                                    |l| &l.common.continue_with,
                                    vec![("provider", provider.name.clone())],
                                );
                            view! {
                                <button
                                    class=slot(Slot::ProviderButton)
                                    type="button"
                                    data-provider=provider.id.clone()
                                    on:click=move |_| go(id.clone())
                                >
                                    {label}
                                </button>
                                {(kind == Kind::SignIn)
                                    .then(|| {
                                        view! {
                                            <LastUsedBadge auth=auth method=Method::OAuth(provider.id) />
                                        }
                                    })}
                            }
                        })
                        .collect_view()}
                </div>
                {(!at_bottom).then(divider)}
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_read_and_removed() {
        assert_eq!(
            query_param("?a=1&oauthError=oauth_failed", "oauthError").as_deref(),
            Some("oauth_failed")
        );
        assert_eq!(query_param("?oauthError=", "oauthError"), None);
        assert_eq!(
            without_params(
                "http://app/sign-in?x=1&oauthError=oauth_failed#top",
                &["oauthError"]
            ),
            "http://app/sign-in?x=1"
        );
        assert_eq!(
            without_params("http://app/sign-up?oauthSignUp=abc", &["oauthSignUp"]),
            "http://app/sign-up"
        );
    }

    #[test]
    fn the_start_url_carries_both_app_urls_encoded() {
        assert_eq!(
            start_url(
                "",
                "pk_test_x",
                "google",
                "http://localhost:3000/?a=b",
                "http://localhost:3000/sign-up"
            ),
            "/v1/oauth/google/start?redirectUrl=http%3A%2F%2Flocalhost%3A3000%2F%3Fa%3Db\
             &signUpUrl=http%3A%2F%2Flocalhost%3A3000%2Fsign-up&pk=pk_test_x"
        );
        assert_eq!(absolute("/sign-up", "http://h"), "http://h/sign-up");
        assert_eq!(absolute("//evil", "http://h"), "//evil");
    }

    #[cfg(feature = "profile")]
    #[test]
    fn a_profile_trip_comes_back_done_or_with_the_servers_error() {
        assert_eq!(
            profile_return(None, Some("linked")),
            Some(ProfileReturn::Done(ProfileTrip::Link))
        );
        assert_eq!(
            profile_return(None, Some("reauthenticated")),
            Some(ProfileReturn::Done(ProfileTrip::Reauthenticate))
        );
        // The server adds its error to the URL that already says why the trip was made.
        assert_eq!(
            profile_return(Some("oauth_already_linked"), Some("linked")),
            Some(ProfileReturn::Failed(Message::Text(|l| {
                &l.sign_in.oauth_already_linked
            })))
        );
        assert_eq!(profile_return(None, Some("other")), None);
        assert_eq!(profile_return(None, None), None);
        assert_eq!(
            without_params(
                "http://app/profile?toriiOAuth=linked&oauthError=oauth_failed",
                &[OAUTH_ERROR_QUERY, RETURN_QUERY]
            ),
            "http://app/profile"
        );
    }

    #[test]
    fn every_oauth_error_has_a_message() {
        assert!(
            error_message("oauth_account_exists")
                .render(&crate::Locale::en())
                .contains("existing method")
        );
        assert!(
            error_message("oauth_cancelled")
                .render(&crate::Locale::en())
                .contains("cancelled")
        );
        assert!(
            error_message("something_new")
                .render(&crate::Locale::en())
                .contains("Try again")
        );
        assert!(
            error_message("oauth_wrong_account")
                .render(&crate::Locale::en())
                .contains("the account you linked")
        );
        assert!(
            error_message("oauth_email_unverified")
                .render(&crate::Locale::en())
                .contains("not verified your email")
        );
    }
}
