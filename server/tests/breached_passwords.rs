//! The breached-password check against a range server started by the test (an axum server on
//! 127.0.0.1, standing in for "Have I Been Pwned" or a mirror): a breached password is refused
//! wherever a new password is chosen, only five hex digits of its SHA-1 ever leave, padding
//! lines with a zero count are not breaches, and when the service cannot answer (unreachable,
//! garbage, an error status, too slow) `on_error` decides.
//! (Wherever: sign-up, password change, reset completion, and users created with the secret
//! key.)

mod common;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use common::*;
use serde_json::json;
use sha1::{Digest as _, Sha1};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use torii_server::breached::{BreachedPasswords, OnError};

/// Breached with a count; chosen to pass every other password rule.
const BREACHED: &str = "velvet orbit 1987 lantern";
/// Listed only as padding (count 0).
const PADDED: &str = "quiet harbour 2003 compass";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Range,
    Garbage,
    Failing,
    Silent,
}

#[derive(Clone)]
struct RangeServer {
    mode: Mode,
    /// Every request's path and query, and whether it asked for padding.
    asked: Arc<Mutex<Vec<(String, bool)>>>,
}

fn sha1_upper(password: &str) -> String {
    Sha1::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

async fn range(
    State(server): State<RangeServer>,
    Path(prefix): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let padding = headers
        .get("add-padding")
        .is_some_and(|v| v.as_bytes() == b"true");
    server
        .asked
        .lock()
        .unwrap()
        .push((uri.to_string(), padding));
    match server.mode {
        Mode::Garbage => return (StatusCode::OK, "<html>We'll be right back</html>".into()),
        Mode::Failing => return (StatusCode::BAD_GATEWAY, String::new()),
        Mode::Silent => std::future::pending::<()>().await,
        Mode::Range => {}
    }
    let mut lines = vec!["00000000000000000000000000000000001:4".to_owned()];
    for (password, count) in [(BREACHED, 42), (PADDED, 0)] {
        let hash = sha1_upper(password);
        if hash[..5] == prefix {
            lines.push(format!("{}:{count}", &hash[5..]));
        }
    }
    lines.push("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0".to_owned());
    (StatusCode::OK, lines.join("\r\n"))
}

/// Starts a range server; its base URL and the log of what it was asked.
async fn range_server(mode: Mode) -> (String, Arc<Mutex<Vec<(String, bool)>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let state = RangeServer {
        mode,
        asked: Arc::clone(&asked),
    };
    let app = Router::new()
        .route("/range/{prefix}", get(range))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/range"), asked)
}

async fn app_checking(url: &str, on_error: OnError) -> TestApp {
    let check =
        BreachedPasswords::new(url.parse().unwrap(), on_error, Duration::from_millis(300)).unwrap();
    app_built(vec![legal_env()], |builder| {
        builder.breached_passwords(check)
    })
    .await
}

fn sign_up(email: &str, password: &str) -> Req {
    Req::post(
        "/v1/sign-ups",
        &json!({"email": email, "password": password, "legalAccepted": true}),
    )
}

fn assert_breached(answer: &TestResponse, field: &str) {
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(answer.code(), "password_breached");
    assert!(
        answer.body["error"]["fields"][field]
            .as_str()
            .is_some_and(|m| m.contains("breach")),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn a_breached_password_is_refused_wherever_one_is_chosen_and_only_five_hex_digits_leave() {
    let (url, asked) = range_server(Mode::Range).await;
    let app = app_checking(&url, OnError::Refuse).await;

    // Sign-up: refused, and nothing is emailed.
    let refused = sign_up("breach@example.com", BREACHED).send(&app).await;
    assert_breached(&refused, "password");
    assert!(app.outbox.last_to("breach@example.com").is_none());
    let token = signed_up(&app, "breach@example.com").await;

    // Password change.
    let change = Req::post(
        "/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": BREACHED}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_breached(&change, "newPassword");

    // Password reset: refused before the code is tried, so the code still works afterwards.
    Req::post(
        "/v1/password-resets",
        &json!({"email": "breach@example.com"}),
    )
    .send(&app)
    .await;
    let code = code_from(&app, "breach@example.com");
    let reset = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "breach@example.com", "code": code, "password": BREACHED}),
    )
    .send(&app)
    .await;
    assert_breached(&reset, "password");
    let reset = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "breach@example.com", "code": code, "password": "a fresh unlisted phrase"}),
    )
    .send(&app)
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);

    // A user created through the secret-key API.
    let created = Req::post(
        "/v1/admin/users",
        &json!({"email": "made@example.com", "password": BREACHED}),
    )
    .header("authorization", "Bearer sk_test_acme")
    .send(&app)
    .await;
    assert_breached(&created, "password");

    // Only five upper-case hex digits of each hash were sent, with padding asked for.
    let asked = asked.lock().unwrap().clone();
    let expected: Vec<String> = [
        BREACHED,
        PASSWORD,
        BREACHED,
        BREACHED,
        "a fresh unlisted phrase",
        BREACHED,
    ]
    .iter()
    .map(|p| format!("/range/{}", &sha1_upper(p)[..5]))
    .collect();
    let paths: Vec<String> = asked.iter().map(|(path, _)| path.clone()).collect();
    assert_eq!(paths, expected);
    for (path, padding) in &asked {
        let prefix = path.strip_prefix("/range/").unwrap();
        assert!(
            prefix.len() == 5
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{path}"
        );
        assert!(padding, "Add-Padding: true");
    }
}

#[tokio::test]
async fn padding_lines_with_a_zero_count_are_not_breaches() {
    let (url, asked) = range_server(Mode::Range).await;
    let app = app_checking(&url, OnError::Refuse).await;
    let accepted = sign_up("padded@example.com", PADDED).send(&app).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);
    assert_eq!(asked.lock().unwrap().len(), 1, "the service was asked");
}

#[tokio::test]
async fn when_the_service_cannot_answer_on_error_decides() {
    // A port nobody listens on: bound, then released.
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/range", listener.local_addr().unwrap())
    };
    let mut services = vec![("unreachable", unreachable)];
    for (name, mode) in [
        ("garbage", Mode::Garbage),
        ("an error status", Mode::Failing),
        ("too slow", Mode::Silent),
    ] {
        services.push((name, range_server(mode).await.0));
    }
    for (name, url) in &services {
        let allowing = app_checking(url, OnError::Allow).await;
        let allowed = sign_up("allow@example.com", BREACHED).send(&allowing).await;
        assert_eq!(
            allowed.status,
            StatusCode::CREATED,
            "{name}: {}",
            allowed.text
        );

        let refusing = app_checking(url, OnError::Refuse).await;
        let refused = sign_up("refuse@example.com", PASSWORD)
            .send(&refusing)
            .await;
        assert_eq!(
            refused.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{name}: {}",
            refused.text
        );
        assert_eq!(refused.code(), "password_check_unavailable", "{name}");
        assert!(refusing.outbox.last_to("refuse@example.com").is_none());
    }
}

#[tokio::test]
async fn without_a_url_nothing_is_looked_up() {
    let app = app().await;
    let accepted = sign_up("offline@example.com", BREACHED).send(&app).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);
}
