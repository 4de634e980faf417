//! Rate limits counted in the store: parallel requests cannot slip past them, they answer
//! 429 with `Retry-After`, they end with their window, and a test-mode switch turns them off.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use time::Duration;

async fn parallel_sign_ins(app: &TestApp, email: &str, n: usize) -> Vec<TestResponse> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let router = app.router.clone();
        let body = json!({"email": email, "password": "wrong password!"});
        tasks.push(tokio::spawn(async move {
            let request = axum::http::Request::builder()
                .method("POST")
                .uri("/v1/sign-in/password")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            read(tower::ServiceExt::oneshot(router, request).await.unwrap()).await
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_sign_ins_cannot_slip_past_the_account_limit() {
    let app = app().await;
    signed_up(&app, "target@example.com").await;
    let answers = parallel_sign_ins(&app, "target@example.com", 25).await;
    let judged = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let limited: Vec<&TestResponse> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(judged, 10, "exactly the limit was let through");
    assert_eq!(limited.len(), 15);
    assert_eq!(limited[0].code(), "rate_limited");
    let retry: u64 = limited[0].headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");

    // Even the right password waits out the window...
    let right = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "target@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    // ...and only the window: a few minutes, not a lock.
    app.clock.advance(Duration::minutes(5));
    let later = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "target@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(later.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_accounts_are_limited_the_same_way() {
    let app = app().await;
    let answers = parallel_sign_ins(&app, "nobody@example.com", 12).await;
    assert_eq!(
        answers
            .iter()
            .filter(|r| r.status == StatusCode::UNAUTHORIZED)
            .count(),
        10
    );
    assert_eq!(
        answers
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        2
    );
}

#[tokio::test]
async fn emails_to_one_address_are_limited() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "inbox@example.com").await;
    let before = app.outbox.messages().len();
    for _ in 0..4 {
        let sent = Req::post("/v1/magic-links", &json!({"email": "inbox@example.com"}))
            .send(&app)
            .await;
        assert_eq!(sent.status, StatusCode::ACCEPTED);
    }
    // The sign-up counted as the first email to this address.
    let limited = Req::post(
        "/v1/password-resets",
        &json!({"email": "INBOX@example.com"}),
    )
    .send(&app)
    .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(app.outbox.messages().len(), before + 4);
}

#[tokio::test]
async fn limits_can_be_switched_off_for_test_suites() {
    let mut env = legal_env();
    env.rate_limits.enabled = false;
    let app = app_with(vec![env]).await;
    signed_up(&app, "many@example.com").await;
    let answers = parallel_sign_ins(&app, "many@example.com", 15).await;
    assert!(answers.iter().all(|r| r.status == StatusCode::UNAUTHORIZED));
}
