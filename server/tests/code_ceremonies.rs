//! Guesses at emailed codes are bounded per ceremony, across resends: the attack (guess,
//! resend, guess again) reproduced through HTTP for every kind of code, the limits on the
//! email-verification routes, and codes stored as HMACs under the server key.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};
use time::Duration;
use torii_server::secret_key::ServerKey;
use torii_server::session::sha256_hex;

const SK: &str = "Bearer sk_test_acme";

async fn guess(app: &TestApp, path: &str, body: &Value, token: Option<&str>) -> TestResponse {
    let request = Req::post(path, body);
    match token {
        Some(token) => request.cookie(token).send(app).await,
        None => request.send(app).await,
    }
}

/// `n` wrong guesses, each answered `invalid_code` with the tries left counting down from
/// `left_before`.
async fn wrong_guesses(
    app: &TestApp,
    path: &str,
    body: impl Fn(&str) -> Value,
    token: Option<&str>,
    code: &str,
    n: u32,
) -> Vec<TestResponse> {
    let mut answers = Vec::new();
    for _ in 0..n {
        let answer = guess(app, path, &body(&wrong_code(code)), token).await;
        assert_eq!(answer.code(), "invalid_code", "{}", answer.text);
        answers.push(answer);
    }
    answers
}

fn assert_exhausted(answer: &TestResponse) {
    assert_eq!(answer.status, StatusCode::GONE, "{}", answer.text);
    assert_eq!(answer.code(), "code_attempts_exhausted");
    assert!(answer.session_cookie().is_none());
}

#[tokio::test]
async fn sign_up_guesses_are_bounded_across_resends() {
    let app = app().await;
    let email = "victim@example.com";
    let (id, code) = start_sign_up(&app, email).await;
    let verify = format!("/v1/sign-ups/{id}/verify");
    let resend = format!("/v1/sign-ups/{id}/resend");
    let answers = wrong_guesses(&app, &verify, |c| json!({"code": c}), None, &code, 5).await;
    assert_eq!(answers[4].body["error"]["triesLeft"], 5);
    app.clock.advance(Duration::seconds(31));
    let resent = Req::post(&resend, &json!({})).send(&app).await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
    let code = code_from(&app, email);
    let answers = wrong_guesses(&app, &verify, |c| json!({"code": c}), None, &code, 5).await;
    assert_eq!(
        answers[0].body["error"]["triesLeft"], 4,
        "the resend kept the tries used"
    );
    assert_eq!(answers[4].body["error"]["triesLeft"], 0);
    // The eleventh guess is refused, even with the right code.
    assert_exhausted(&guess(&app, &verify, &json!({"code": code}), None).await);
    // And the ceremony stays dead: a resend neither sends nor revives anything.
    app.clock.advance(Duration::seconds(31));
    let sent_before = app.outbox.messages().len();
    let resent = Req::post(&resend, &json!({})).send(&app).await;
    assert_exhausted(&resent);
    assert_eq!(app.outbox.messages().len(), sent_before, "no code was sent");
    assert_exhausted(&guess(&app, &verify, &json!({"code": code}), None).await);
    // A new sign-up is a new ceremony (subject to the per-address email limits).
    let (id, code) = start_sign_up(&app, email).await;
    let verified = guess(
        &app,
        &format!("/v1/sign-ups/{id}/verify"),
        &json!({"code": code}),
        None,
    )
    .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
}

#[tokio::test]
async fn password_reset_guesses_are_bounded_across_new_requests() {
    let app = app().await;
    let email = "reset-victim@example.com";
    signed_up(&app, email).await;
    let request = || Req::post("/v1/password-resets", &json!({"email": email}));
    let body =
        |c: &str| json!({"email": email, "code": c, "password": "a new password, long enough"});
    let complete = "/v1/password-resets/complete";

    assert_eq!(request().send(&app).await.status, StatusCode::ACCEPTED);
    let code = code_from(&app, email);
    wrong_guesses(&app, complete, body, None, &code, 5).await;
    // Past the per-account window of completions and the code's life: a new request is a
    // resend within the same ceremony.
    app.clock.advance(Duration::minutes(16));
    assert_eq!(request().send(&app).await.status, StatusCode::ACCEPTED);
    let code = code_from(&app, email);
    wrong_guesses(&app, complete, body, None, &code, 5).await;
    assert_exhausted(&guess(&app, complete, &body(&code), None).await);

    app.clock.advance(Duration::minutes(16));
    let sent_before = app.outbox.messages().len();
    assert_eq!(
        request().send(&app).await.status,
        StatusCode::ACCEPTED,
        "the request answers the same"
    );
    assert_eq!(
        app.outbox.messages().len(),
        sent_before,
        "but sends nothing"
    );
    assert_exhausted(&guess(&app, complete, &body(&code), None).await);

    // Once the ceremony's hour is over, a new request starts a new one.
    app.clock.advance(Duration::hours(1));
    assert_eq!(request().send(&app).await.status, StatusCode::ACCEPTED);
    let code = code_from(&app, email);
    let done = guess(&app, complete, &body(&code), None).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
}

#[tokio::test]
async fn password_reset_guesses_at_an_address_without_an_account_end_the_same_way() {
    let app = app().await;
    let email = "nobody@example.com";
    let body =
        |c: &str| json!({"email": email, "code": c, "password": "a new password, long enough"});
    let complete = "/v1/password-resets/complete";
    for _ in 0..6 {
        let answer = guess(&app, complete, &body("123456"), None).await;
        assert_eq!(answer.code(), "invalid_code", "{}", answer.text);
    }
    app.clock.advance(Duration::minutes(16));
    for _ in 0..4 {
        let answer = guess(&app, complete, &body("123456"), None).await;
        assert_eq!(answer.code(), "invalid_code", "{}", answer.text);
    }
    assert_exhausted(&guess(&app, complete, &body("123456"), None).await);
}

#[tokio::test]
async fn email_change_guesses_are_bounded_across_resends() {
    let app = app().await;
    let mut token = signed_up(&app, "mover@example.com").await;
    let verify = "/v1/me/email/verify";
    let body = |c: &str| json!({"code": c});
    let started = Req::post("/v1/me/email", &json!({"email": "new-home@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let code = code_from(&app, "new-home@example.com");
    wrong_guesses(&app, verify, body, Some(&token), &code, 5).await;
    // Past the per-account window of code checks (and so past the recent sign-in an email
    // change needs: the attacker here holds the session and the password).
    app.clock.advance(Duration::minutes(16));
    let again = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    if let Some(renewed) = again.session_cookie() {
        token = renewed;
    }
    // Another address does not start another ceremony either.
    let started = Req::post("/v1/me/email", &json!({"email": "other-home@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let code = code_from(&app, "other-home@example.com");
    let answers = wrong_guesses(&app, verify, body, Some(&token), &code, 5).await;
    assert_eq!(answers[0].body["error"]["triesLeft"], 4);
    assert_exhausted(&guess(&app, verify, &body(&code), Some(&token)).await);
    app.clock.advance(Duration::seconds(31));
    let third = Req::post("/v1/me/email", &json!({"email": "third-home@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_exhausted(&third);
    assert_exhausted(&guess(&app, verify, &body(&code), Some(&token)).await);
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"]["email"], "mover@example.com");
}

/// A user with an unverified address (created through the secret-key API), signed in.
async fn unverified_user(app: &TestApp, email: &str) -> String {
    let created = Req::post(
        "/v1/admin/users",
        &json!({"email": email, "password": PASSWORD, "name": "Vera"}),
    )
    .header("authorization", SK)
    .send(app)
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    Req::post(
        "/v1/sign-in/password",
        &json!({"email": email, "password": PASSWORD}),
    )
    .send(app)
    .await
    .session_cookie()
    .unwrap()
}

#[tokio::test]
async fn email_verification_guesses_are_bounded_across_resends() {
    let app = app().await;
    let email = "unverified@example.com";
    let token = unverified_user(&app, email).await;
    let send = || Req::post("/v1/email-verification/send", &json!({})).cookie(&token);
    let verify = "/v1/email-verification/verify";
    let body = |c: &str| json!({"code": c});
    assert_eq!(send().send(&app).await.status, StatusCode::ACCEPTED);
    let code = code_from(&app, email);
    wrong_guesses(&app, verify, body, Some(&token), &code, 5).await;
    // Past the per-account window of code checks: the resend is the same ceremony.
    app.clock.advance(Duration::minutes(16));
    assert_eq!(send().send(&app).await.status, StatusCode::ACCEPTED);
    let code = code_from(&app, email);
    let answers = wrong_guesses(&app, verify, body, Some(&token), &code, 5).await;
    assert_eq!(answers[0].body["error"]["triesLeft"], 4);
    assert_exhausted(&guess(&app, verify, &body(&code), Some(&token)).await);
    app.clock.advance(Duration::seconds(31));
    assert_exhausted(&send().send(&app).await);
    assert_exhausted(&guess(&app, verify, &body(&code), Some(&token)).await);
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"]["emailVerified"], false);
}

#[tokio::test]
async fn email_verification_routes_are_limited_per_account_and_per_ip() {
    let mut env = legal_env();
    env.rate_limits.emails_per_address.max = 2;
    env.rate_limits.emails_per_ip.max = 3;
    env.rate_limits.verifications_per_account.max = 2;
    env.rate_limits.verifications_per_ip.max = 3;
    let app = app_with(vec![env]).await;
    let ada = unverified_user(&app, "ada@example.com").await;
    let bob = unverified_user(&app, "bob@example.com").await;
    let send = |token: &str, ip: &str| {
        Req::post("/v1/email-verification/send", &json!({}))
            .cookie(token)
            .peer(ip)
    };
    let verify = |token: &str, ip: &str| {
        Req::post("/v1/email-verification/verify", &json!({"code": "000000"}))
            .cookie(token)
            .peer(ip)
    };
    // Per account: the third send to Ada's address is refused, from any IP.
    for ip in ["10.0.0.1", "10.0.0.2"] {
        assert_eq!(send(&ada, ip).send(&app).await.status, StatusCode::ACCEPTED);
        app.clock.advance(Duration::seconds(31));
    }
    let third = send(&ada, "10.0.0.3").send(&app).await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        third.text
    );
    assert_eq!(third.code(), "rate_limited");
    assert!(third.headers.contains_key("retry-after"));
    // Per IP: 10.0.0.1 has one send left, then Bob is refused there but not elsewhere.
    assert_eq!(
        send(&bob, "10.0.0.1").send(&app).await.status,
        StatusCode::ACCEPTED
    );
    app.clock.advance(Duration::seconds(31));
    assert_eq!(
        send(&bob, "10.0.0.1").send(&app).await.status,
        StatusCode::ACCEPTED,
        "the per-IP count is 3 of 3 here"
    );
    app.clock.advance(Duration::seconds(31));
    assert_eq!(
        send(&bob, "10.0.0.1").send(&app).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Code checks per account: the third from Ada is refused whatever the IP.
    assert_eq!(
        verify(&ada, "10.1.0.1").send(&app).await.code(),
        "invalid_code"
    );
    assert_eq!(
        verify(&ada, "10.1.0.2").send(&app).await.code(),
        "invalid_code"
    );
    assert_eq!(
        verify(&ada, "10.1.0.3").send(&app).await.code(),
        "rate_limited"
    );
    // Code checks per IP: Bob at 10.2.0.1 gets two, then one more after which the IP is out.
    assert_eq!(
        verify(&bob, "10.2.0.1").send(&app).await.code(),
        "invalid_code"
    );
    assert_eq!(
        verify(&bob, "10.2.0.1").send(&app).await.code(),
        "invalid_code"
    );
    assert_eq!(
        verify(&bob, "10.2.0.1").send(&app).await.code(),
        "rate_limited"
    );
}

#[tokio::test]
async fn codes_are_stored_as_hmacs_under_the_server_key() {
    let app = app().await;
    let (id, code) = start_sign_up(&app, "mac@example.com").await;
    let stored = app
        .torii
        .store()
        .get_sign_up("env_test", &id)
        .await
        .unwrap()
        .unwrap()
        .code_hash;
    assert_ne!(stored, sha256_hex(code.as_bytes()));
    assert_ne!(
        stored,
        sha256_hex(format!("torii-sign-up-code:{id}:{code}").as_bytes()),
        "not the plain hash of before"
    );
    assert_eq!(stored, test_server_key().code_mac("sign_up", &id, &code));
    let other = ServerKey::from_bytes([9; 32]);
    assert_ne!(stored, other.code_mac("sign_up", &id, &code));

    // A node with another server key on the same database cannot check the code at all.
    let outbox = torii_server::mail::OutboxMailer::new();
    let mut builder = torii_server::Torii::builder()
        .shared_store(app.torii.store_arc())
        .mailer(outbox.clone())
        .clock(app.clock.clone())
        .public_url(ORIGIN.parse().unwrap())
        .secret_key(other)
        .hash_parallelism(2);
    builder = builder.environment(legal_env());
    let stranger = TestApp::from_parts(builder.build().await.unwrap(), outbox);
    let refused = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&stranger)
        .await;
    assert_eq!(refused.code(), "invalid_code", "{}", refused.text);
    let accepted = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&app)
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
}
