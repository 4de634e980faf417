//! Reading the answers the workload gets: Torii's JSON, its cookies, the emails in the nodes'
//! logs, and how a request that failed failed.

use crate::bench::Response;

use super::{Failure, Kind};

/// In a log written by the log mailer (a header line, the body's lines indented with `    |`,
/// then ` to=… subject=…` on the last one), the text after `marker` in an email whose last line
/// names `addressee`.
pub(super) fn find_email(log: &str, addressee: &str, marker: &str) -> Option<String> {
    let mut event = String::new();
    for line in log.lines() {
        if !line.starts_with("    |") {
            event.clear();
        }
        event.push_str(line);
        event.push('\n');
        if line.starts_with("    |")
            && line.contains(addressee)
            && let Some((_, rest)) = event.split_once(marker)
        {
            return Some(rest.to_owned());
        }
    }
    None
}

/// How a request that did not get its expected status failed.
pub(super) fn classify(kind: Kind, response: &Response) -> Failure {
    let torii_error = response.body.trim_start().starts_with('{');
    // A browser step (the provider's start and callback) answers a page, not JSON: Torii's
    // page for an unreachable store says `Retry-After`, which the balancer's own 503 does not.
    let store_page = response.body.trim_start().starts_with("<!doctype html>")
        && response.header("retry-after").is_some();
    if response.status == 503 && (response.body.contains("\"store_unavailable\"") || store_page) {
        Failure::StoreUnavailable
    } else if matches!(response.status, 502..=504) && !torii_error {
        Failure::Balancer(response.status)
    } else {
        Failure::Wrong(format!(
            "{} answered {}: {:.200}",
            kind.label(),
            response.status,
            response.body
        ))
    }
}

/// A string field of a flat JSON object, found by name (the answers here are Torii's own).
pub fn json_str(body: &str, field: &str) -> Option<String> {
    let start = body.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let len = body[start..].find('"')?;
    Some(body[start..start + len].to_owned())
}

/// The session token of a `Set-Cookie: torii_session=…` header.
pub fn session_token(response: &Response) -> Option<String> {
    cookie(response, "torii_session")
}

/// The value of the cookie `name` that a response sets (any of its `Set-Cookie` headers).
pub fn cookie(response: &Response, name: &str) -> Option<String> {
    response.headers("set-cookie").find_map(|cookie| {
        let (key, value) = cookie.split(';').next()?.split_once('=')?;
        (key.trim() == name && !value.is_empty()).then(|| value.to_owned())
    })
}

/// A `Me` answer naming the user `email`, with an active session.
pub fn has_user(response: &Response, email: &str) -> Result<(), String> {
    let named = json_str(&response.body, "email").is_some_and(|e| e == email);
    let active = response.body.contains(r#""status":"active""#);
    if named && active {
        Ok(())
    } else {
        Err(format!("expected {email}, active: {:.300}", response.body))
    }
}

/// A `Me` answer of nobody.
pub fn signed_out(response: &Response) -> Result<(), String> {
    if response.body.contains(r#""user":null"#) {
        Ok(())
    } else {
        Err(format!(
            "expected a signed-out answer: {:.300}",
            response.body
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_found_by_addressee_and_marker() {
        let log = "2026 INFO x: email (no SMTP configured):\n    | Your verification code is 123456\n    | bye to=a@fleet.test subject=123456 is\n2026 INFO other\n2026 INFO x: email (no SMTP configured):\n    | Your verification code is 654321\n    | bye to=b@fleet.test subject=654321 is\n";
        let found = find_email(log, " to=b@fleet.test ", "code is ").unwrap();
        assert!(found.starts_with("654321"), "{found}");
        assert!(find_email(log, " to=c@fleet.test ", "code is ").is_none());
    }

    #[test]
    fn json_strings_are_read_by_name() {
        let body = r#"{"signUpId":"sgu_1","status":"needs_verification"}"#;
        assert_eq!(json_str(body, "signUpId").as_deref(), Some("sgu_1"));
        assert_eq!(json_str(body, "missing"), None);
    }
}
