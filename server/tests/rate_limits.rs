//! Rate limits counted in the store: parallel requests cannot slip past them, they answer
//! 429 with `Retry-After`, they end with their window (or, for password checks, after a
//! delay that grows with each failure), and a test-mode switch turns them off.

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

fn retry_after(r: &TestResponse) -> u64 {
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> TestResponse {
    Req::post(
        "/v1/sign-in/password",
        &json!({"email": email, "password": password}),
    )
    .send(app)
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_sign_ins_cannot_slip_past_the_account_delay() {
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
    assert_eq!(judged, 5, "exactly the free attempts were judged");
    assert_eq!(limited.len(), 20);
    assert_eq!(limited[0].code(), "rate_limited");
    assert_eq!(retry_after(limited[0]), 2, "the first delay");

    // Even the right password waits out the delay...
    let right = sign_in(&app, "target@example.com", PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    // ...and only the delay: seconds, not a lock.
    app.clock.advance(Duration::seconds(2));
    let later = sign_in(&app, "target@example.com", PASSWORD).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.text);
}

#[tokio::test]
async fn each_failure_doubles_the_delay_up_to_the_cap_and_a_success_clears_it() {
    let app = app().await;
    signed_up(&app, "slow@example.com").await;
    for _ in 0..5 {
        let wrong = sign_in(&app, "slow@example.com", "wrong password!").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let mut delays = Vec::new();
    for _ in 0..11 {
        let waiting = sign_in(&app, "slow@example.com", "wrong password!").await;
        assert_eq!(waiting.status, StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(&waiting);
        delays.push(wait);
        app.clock
            .advance(Duration::seconds(i64::try_from(wait).unwrap()));
        let judged = sign_in(&app, "slow@example.com", "wrong password!").await;
        assert_eq!(
            judged.status,
            StatusCode::UNAUTHORIZED,
            "judged once the wait is over"
        );
    }
    assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
    // The owner waits out the last delay, signs in, and starts afresh.
    app.clock.advance(Duration::minutes(15));
    let right = sign_in(&app, "slow@example.com", PASSWORD).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    let slip = sign_in(&app, "slow@example.com", "wrong password!").await;
    assert_eq!(
        slip.status,
        StatusCode::UNAUTHORIZED,
        "no delay after a success"
    );
}

#[tokio::test]
async fn failures_are_forgotten_after_an_hour_without_attempts() {
    let app = app().await;
    signed_up(&app, "forgetful@example.com").await;
    for _ in 0..5 {
        sign_in(&app, "forgetful@example.com", "wrong password!").await;
    }
    let waiting = sign_in(&app, "forgetful@example.com", "wrong password!").await;
    assert_eq!(waiting.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(Duration::hours(1));
    for _ in 0..5 {
        let judged = sign_in(&app, "forgetful@example.com", "wrong password!").await;
        assert_eq!(judged.status, StatusCode::UNAUTHORIZED, "five free again");
    }
}

#[tokio::test]
async fn the_delay_is_per_account_and_respelling_the_address_does_not_escape_it() {
    let app = app().await;
    signed_up(&app, "victim@example.com").await;
    signed_up(&app, "bystander@example.com").await;
    parallel_sign_ins(&app, "victim@example.com", 8).await;
    let other = sign_in(&app, "bystander@example.com", PASSWORD).await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another account is not delayed"
    );
    // Spelling the address differently does not reach a fresh bucket.
    let variant = sign_in(&app, " Victim@EXAMPLE.com ", PASSWORD).await;
    assert_eq!(variant.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn unknown_accounts_are_delayed_the_same_way() {
    let app = app().await;
    let answers = parallel_sign_ins(&app, "nobody@example.com", 12).await;
    assert_eq!(
        answers
            .iter()
            .filter(|r| r.status == StatusCode::UNAUTHORIZED)
            .count(),
        5
    );
    assert_eq!(
        answers
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        7
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
