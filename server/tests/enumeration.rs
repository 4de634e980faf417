//! No user enumeration: for an existing and an unknown address, password sign-in, sign-in
//! links and password reset answer with the same status, the same body and a similar time.
//! Times are compared as medians of interleaved tries, with bounds far wider than noise and far
//! narrower than the leak each test guards against.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use torii_server::mail::{Email, MailError, Mailer, OutboxMailer};
use torii_server::{ManualClock, Torii};

const TRIES: usize = 9;

fn open_env() -> torii_server::Environment {
    let mut env = links_env();
    env.rate_limits.enabled = false;
    env
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Times `TRIES` interleaved requests for each of two bodies; returns the medians and checks
/// that every answer of one has the status and body of every answer of the other.
async fn compare(
    app: &TestApp,
    path: &str,
    known: &Value,
    unknown: &Value,
) -> (Duration, Duration) {
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    let mut answers = Vec::new();
    for _ in 0..TRIES {
        for (body, times) in [(known, &mut known_times), (unknown, &mut unknown_times)] {
            let started = Instant::now();
            let answer = Req::post(path, body).send_now(app).await;
            times.push(started.elapsed());
            answers.push((answer.status, answer.body));
        }
    }
    app.torii.mail_settled().await;
    let first = &answers[0];
    assert!(
        answers.iter().all(|a| a == first),
        "{path}: every answer is the same: {answers:?}"
    );
    (median(known_times), median(unknown_times))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_sign_in_takes_as_long_for_unknown_addresses() {
    let app = app_with(vec![open_env()]).await;
    signed_up(&app, "known@example.com").await;
    let (known, unknown) = compare(
        &app,
        "/v1/sign-in/password",
        &json!({"email": "known@example.com", "password": "not the password"}),
        &json!({"email": "unknown@example.com", "password": "not the password"}),
    )
    .await;
    // Both verify an argon2 hash (a dummy one for the unknown address); skipping it would make
    // the unknown answer hundreds of times faster.
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.33..3.0).contains(&ratio),
        "known {known:?} vs unknown {unknown:?}"
    );
}

/// A mail server that takes its time, as a real one across a network does.
#[derive(Debug, Clone)]
struct SlowMailer {
    outbox: OutboxMailer,
}

#[async_trait::async_trait]
impl Mailer for SlowMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        tokio::time::sleep(SMTP_DELAY).await;
        self.outbox.send(email).await
    }
}

const SMTP_DELAY: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emailed_links_and_codes_do_not_wait_for_the_mail_server() {
    let db = common::db::TestDb::new(common::db::Backend::Sqlite).await;
    let outbox = OutboxMailer::new();
    let torii = Torii::builder()
        .shared_store(Arc::clone(&db.store))
        .mailer(SlowMailer {
            outbox: outbox.clone(),
        })
        .clock(ManualClock::default())
        .environment(open_env())
        .public_url(ORIGIN.parse().unwrap())
        .build()
        .await
        .unwrap();
    let app = TestApp::from_parts(torii, outbox.clone());
    signed_up(&app, "known@example.com").await;
    for path in ["/v1/magic-links", "/v1/password-resets"] {
        let before = outbox.messages().len();
        let (known, unknown) = compare(
            &app,
            path,
            &json!({"email": "known@example.com"}),
            &json!({"email": "unknown@example.com"}),
        )
        .await;
        // Waiting for the mail server would add its whole delay to the known address only.
        assert!(
            known.abs_diff(unknown) < SMTP_DELAY / 3,
            "{path}: known {known:?} vs unknown {unknown:?}"
        );
        // And yet the mail went out, to the known address only (the reset code once: its
        // cooldown keeps the first one).
        let sent = outbox.messages()[before..].to_vec();
        assert!(!sent.is_empty(), "{path}: mail was sent");
        assert!(sent.iter().all(|m| m.to == "known@example.com"), "{path}");
    }
    let status = Req::post("/v1/magic-links", &json!({"email": "x@example.com"}))
        .send(&app)
        .await
        .status;
    assert_eq!(status, StatusCode::ACCEPTED);
}
