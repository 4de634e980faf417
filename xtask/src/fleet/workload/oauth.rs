//! A sign-in through the OpenID provider, as a browser makes it: the start through the
//! balancer (one node keeps the ceremony in the store), the provider's login and consent
//! forms filled at the provider itself, then the callback through the balancer, which may reach
//! another node, and `/me` with the session it answered.

use std::net::SocketAddr;

use crate::bench::{Response, http_at};

use super::{Failure, Kind, Workload, cookie, session_token};

/// Where the workload finds the provider.
#[derive(Debug, Clone)]
pub struct IdpLink {
    pub addr: SocketAddr,
    pub issuer: String,
}

/// The provider's steps at most before its redirect back to Torii (login, resume, consent,
/// resume, each a page and a form).
const PROVIDER_STEPS: usize = 12;

impl Workload {
    /// A new account signed up through the provider (its email is one no other journey uses).
    pub(super) fn oauth(&self, worker: usize, seq: usize) {
        let Some(idp) = self.idp.clone() else {
            return self.sign_in(worker, seq);
        };
        let email = format!("w{worker}-{seq}-idp@fleet.test");
        let started = self.call(
            Kind::OAuthStart,
            "GET /v1/oauth/oidc/start",
            None,
            None,
            302,
            |r| match r.header("location") {
                Some(to) if to.starts_with(&idp.issuer) => match state_cookie(r) {
                    Some(_) => Ok(()),
                    None => Err("no state cookie".to_owned()),
                },
                other => Err(format!("sent to {other:?}")),
            },
        );
        let Some((authorize, (name, state))) = started.as_ref().and_then(|r| {
            let to = r.header("location")?;
            Some((to.strip_prefix(&idp.issuer)?.to_owned(), state_cookie(r)?))
        }) else {
            return;
        };
        let provider_start = self.now();
        let callback = match self.provider_sign_in(&idp, &authorize, &email) {
            Ok(callback) => {
                self.record(Kind::Provider, provider_start, self.now(), None);
                callback
            }
            Err(why) => {
                let failure = Failure::Wrong(format!("{}: {why}", Kind::Provider.label()));
                self.record(Kind::Provider, provider_start, self.now(), Some(failure));
                return;
            }
        };
        let cookie_header = format!("{name}={state}");
        let signed_in = self.call_with(
            Kind::OAuthCallback,
            &format!("GET {callback}"),
            &[("Cookie", &cookie_header)],
            None,
            302,
            |r| {
                session_token(r)
                    .map(drop)
                    .ok_or_else(|| format!("no session: {:?}", r.header("location")))
            },
        );
        let Some(token) = signed_in.as_ref().and_then(session_token) else {
            self.outcome().uncertain_provider_sign_ups.push(email);
            return;
        };
        self.outcome().provider_sign_ups.push(email.clone());
        self.hold(token, email);
    }

    /// The provider's pages from its authorisation URL (`path` and query) until it sends the
    /// browser back to Torii's callback: the path and query of that callback.
    fn provider_sign_in(&self, idp: &IdpLink, path: &str, login: &str) -> Result<String, String> {
        let callback_prefix = format!("{}/v1/oauth/oidc/callback?", self.origin);
        let mut jar: Vec<(String, String)> = Vec::new();
        let mut next = (String::from("GET"), path.to_owned(), None::<String>);
        for _ in 0..PROVIDER_STEPS {
            let (method, path, form) = &next;
            let cookies = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let mut headers = Vec::new();
            if !cookies.is_empty() {
                headers.push(("Cookie", cookies.as_str()));
            }
            if form.is_some() {
                headers.push(("Content-Type", "application/x-www-form-urlencoded"));
            }
            let response = http_at(idp.addr, method, path, &headers, form.as_deref())
                .map_err(|e| format!("{method} {path}: {e:#}"))?;
            keep_cookies(&mut jar, &response);
            next = match response.status {
                302 | 303 => {
                    let to = response.header("location").unwrap_or_default();
                    if let Some(query) = to.strip_prefix(&callback_prefix) {
                        return Ok(format!("/v1/oauth/oidc/callback?{query}"));
                    }
                    let to = to.strip_prefix(&idp.issuer).unwrap_or(to);
                    if !to.starts_with('/') {
                        return Err(format!("sent elsewhere: {to}"));
                    }
                    ("GET".to_owned(), to.to_owned(), None)
                }
                200 => {
                    let action = form_action(&response.body)
                        .ok_or_else(|| format!("a page without a form at {path}"))?;
                    let fields = if response.body.contains(r#"name="prompt" value="login""#) {
                        format!("prompt=login&login={}&password=fleet", form_encode(login))
                    } else if response.body.contains(r#"name="prompt" value="consent""#) {
                        "prompt=consent".to_owned()
                    } else {
                        return Err(format!("an unknown form at {path}"));
                    };
                    ("POST".to_owned(), action, Some(fields))
                }
                status => return Err(format!("{method} {path} answered {status}")),
            };
        }
        Err(format!("not sent back within {PROVIDER_STEPS} steps"))
    }
}

/// The state cookie of a start (`__Host-` in live mode): its name and value.
fn state_cookie(response: &Response) -> Option<(&'static str, String)> {
    ["__Host-torii_oauth", "torii_oauth"]
        .into_iter()
        .find_map(|name| cookie(response, name).map(|value| (name, value)))
}

/// Every cookie a response sets replaces the jar's of the same name; an emptied one goes.
fn keep_cookies(jar: &mut Vec<(String, String)>, response: &Response) {
    for set in response.headers("set-cookie") {
        let Some((name, value)) = set.split(';').next().and_then(|kv| kv.split_once('=')) else {
            continue;
        };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        jar.retain(|(k, _)| *k != name);
        if !value.is_empty() {
            jar.push((name, value));
        }
    }
}

/// The `action` of the page's first form, as a path.
fn form_action(page: &str) -> Option<String> {
    let start = page.find("<form")?;
    let rest = &page[start..];
    let value = rest.split_once("action=\"")?.1.split('"').next()?;
    let value = value.replace("&amp;", "&");
    let path = match value.find("://") {
        Some(scheme) => {
            let after = &value[scheme + 3..];
            after[after.find('/')?..].to_owned()
        }
        None => value,
    };
    Some(path)
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_action_is_read_as_a_path() {
        let page = r#"<p>x</p><form autocomplete="off" action="/interaction/abc?x=1&amp;y=2" method="post">"#;
        assert_eq!(
            form_action(page).as_deref(),
            Some("/interaction/abc?x=1&y=2")
        );
        let absolute = r#"<form action="http://10.0.0.1:4000/interaction/u1" method="post">"#;
        assert_eq!(form_action(absolute).as_deref(), Some("/interaction/u1"));
        assert_eq!(form_action("<p>no form</p>"), None);
    }

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(form_encode("w0-4-idp@fleet.test"), "w0-4-idp%40fleet.test");
        assert_eq!(form_encode("a b+c"), "a+b%2Bc");
    }
}
