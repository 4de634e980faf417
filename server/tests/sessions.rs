//! Password sign-in, `/me`, sign-out, expiry and the request guards, through the real router.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use time::Duration;

#[tokio::test]
async fn password_sign_in_sets_a_new_session() {
    let app = app().await;
    let first = signed_up(&app, "pat@example.com").await;
    let response = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "  PAT@example.com ", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["user"]["email"], "pat@example.com");
    assert_eq!(response.body["session"]["status"], "active");
    let second = response.session_cookie().unwrap();
    assert_ne!(first, second);
    let me = Req::get("/me").bearer(&second).send(&app).await;
    assert_eq!(me.body["user"]["email"], "pat@example.com");
}

/// Session lookups that arrive together share store queries; each request must still get its
/// own session, a repeated token must reach every request that carries it, and a revoked or
/// unknown token must never borrow another request's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_each_get_their_own_session_and_never_a_revoked_one() {
    let app = std::sync::Arc::new(app().await);
    let mut users = Vec::new();
    for i in 0..12 {
        let email = format!("many{i}@example.com");
        let token = signed_up(&app, &email).await;
        users.push((Some(email), token));
    }
    let revoked = signed_up(&app, "gone@example.com").await;
    let out = Req::post("/v1/sign-out", &json!({}))
        .cookie(&revoked)
        .send(&app)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    users.push((None, revoked));
    users.push((None, "garbage".to_owned()));

    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..10 {
        for (email, token) in &users {
            let (app, email, token) = (std::sync::Arc::clone(&app), email.clone(), token.clone());
            tasks.spawn(async move {
                let me = Req::get("/me").bearer(&token).send_now(&app).await;
                (round, email, me)
            });
        }
    }
    let mut answered = 0;
    while let Some(done) = tasks.join_next().await {
        let (round, email, me) = done.unwrap();
        assert_eq!(me.status, StatusCode::OK, "round {round}: {}", me.text);
        match email {
            Some(email) => assert_eq!(me.body["user"]["email"], email, "round {round}"),
            None => assert_eq!(
                me.body,
                json!({"user": null, "session": null}),
                "round {round}"
            ),
        }
        answered += 1;
    }
    assert_eq!(answered, 140);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_answer_identically() {
    let app = app().await;
    signed_up(&app, "known@example.com").await;
    let wrong = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "known@example.com", "password": "not the password"}),
    )
    .send(&app)
    .await;
    let unknown = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "nobody@example.com", "password": "not the password"}),
    )
    .send(&app)
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
    assert!(wrong.session_cookie().is_none());
}

#[tokio::test]
async fn sign_out_revokes_the_session() {
    let app = app().await;
    let token = signed_up(&app, "out@example.com").await;
    let out = Req::post("/v1/sign-out", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body, json!({"user": null, "session": null}));
}

#[tokio::test]
async fn a_session_revoked_by_bearer_is_gone_for_the_cookie_too() {
    let app = app().await;
    let token = signed_up(&app, "bearer@example.com").await;
    let out = Req::post_raw("/v1/sign-out", "application/json", "")
        .header("authorization", &format!("Bearer {token}"))
        .send(&app)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"], json!(null));
}

#[tokio::test]
async fn me_with_garbage_or_revoked_tokens_is_signed_out_not_an_error() {
    let app = app().await;
    for token in ["garbage", "%%%", &"x".repeat(5000), "a b"] {
        let me = Req::get("/me").cookie(token).send(&app).await;
        assert_eq!(me.status, StatusCode::OK, "{token}");
        assert_eq!(me.body, json!({"user": null, "session": null}));
        let me = Req::get("/me").bearer(token).send(&app).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body, json!({"user": null, "session": null}));
    }
    let signed_out = Req::get("/me").send(&app).await;
    assert_eq!(signed_out.body, json!({"user": null, "session": null}));
    assert_eq!(signed_out.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_stale_cookie_is_cleared_by_me() {
    let app = app().await;
    let me = Req::get("/me").cookie("stale").send(&app).await;
    assert!(
        me.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_and_absolutely() {
    let app = app().await;
    let token = signed_up(&app, "idle@example.com").await;
    app.clock.advance(Duration::days(6));
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert!(me.body["user"].is_object(), "used within the idle timeout");
    app.clock.advance(Duration::days(6));
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert!(me.body["user"].is_object(), "use keeps it alive");
    app.clock.advance(Duration::days(8));
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"], json!(null), "idle for 8 days");

    let token = signed_up(&app, "absolute@example.com").await;
    for _ in 0..6 {
        app.clock.advance(Duration::days(5));
        Req::get("/me").cookie(&token).send(&app).await;
    }
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"], json!(null), "30 days after sign-in");
}

/// "Last active" is written at most once a minute, by a task of its own: the request that
/// is due does not wait for it, and the row has it soon after.
#[tokio::test]
async fn last_active_is_written_at_most_once_a_minute_off_the_request_path() {
    let app = app().await;
    let token = signed_up(&app, "touch@example.com").await;
    let hash = torii_server::session::SessionToken::from_client(&token).hash();
    let stored = || async {
        app.torii
            .store()
            .session_by_token_hash(&hash)
            .await
            .unwrap()
            .unwrap()
            .0
            .last_active_at
    };
    let before = stored().await;
    app.clock.advance(Duration::seconds(30));
    Req::get("/me").cookie(&token).send(&app).await;
    // Give a write that should not have started every chance to land.
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert_eq!(stored().await, before);
    app.clock.advance(Duration::seconds(31));
    let due = app.torii.now();
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert!(me.body["user"].is_object(), "{}", me.text);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while torii_server::clock::to_millis(stored().await) != torii_server::clock::to_millis(due) {
        assert!(
            std::time::Instant::now() < deadline,
            "last active was not written within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The cache knows it was marked: the next request within the minute writes nothing.
    app.clock.advance(Duration::seconds(20));
    Req::get("/me").cookie(&token).send(&app).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        torii_server::clock::to_millis(stored().await),
        torii_server::clock::to_millis(due)
    );
}

#[tokio::test]
async fn a_foreign_origin_with_the_cookie_is_403() {
    let app = app().await;
    let token = signed_up(&app, "csrf@example.com").await;
    let response = Req::post("/v1/sign-out", &json!({}))
        .header("origin", "https://evil.example")
        .cookie(&token)
        .send(&app)
        .await;
    // Two Origin headers (one good, one foreign) are refused too.
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/sign-out")
        .header("origin", "https://evil.example")
        .header("cookie", format!("torii_session={token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = read(
        tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(response.code(), "forbidden_origin");
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert!(me.body["user"].is_object(), "the session survived");
}

#[tokio::test]
async fn a_cookie_request_without_origin_is_403_but_bearer_is_fine() {
    let app = app().await;
    let token = signed_up(&app, "noorigin@example.com").await;
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/sign-out")
        .header("cookie", format!("torii_session={token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = read(
        tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/sign-out")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = read(
        tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = app().await;
    let big = json!({"email": "a@example.com", "password": "x".repeat(64 * 1024)});
    let response = Req::post("/v1/sign-in/password", &big).send(&app).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.code(), "payload_too_large");
}

#[tokio::test]
async fn environment_describes_methods_and_legal() {
    let app = app().await;
    let env = Req::get("/v1/environment").send(&app).await;
    assert_eq!(env.status, StatusCode::OK);
    assert_eq!(
        env.body,
        json!({
            "name": "Acme", "mode": "test", "methods": ["password"], "oauthProviders": [],
            "legal": {
                "termsUrl": "https://example.com/terms",
                "privacyUrl": "https://example.com/privacy",
                "required": true
            },
            "mfa": "optional"
        })
    );
}

#[tokio::test]
async fn publishable_keys_select_the_environment() {
    let mut other = torii_server::Environment::new_test("env_b", "Beta", "pk_test_b", "sk_test_b");
    other.terms_url = None;
    let app = app_with(vec![legal_env(), other]).await;
    let missing = Req::get("/v1/environment").send(&app).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(missing.code(), "invalid_publishable_key");
    let unknown = Req::get("/v1/environment")
        .header("torii-publishable-key", "pk_test_nope")
        .send(&app)
        .await;
    assert_eq!(unknown.code(), "invalid_publishable_key");
    let beta = Req::get("/v1/environment")
        .header("torii-publishable-key", "pk_test_b")
        .send(&app)
        .await;
    assert_eq!(beta.body["name"], "Beta");
    let by_query = Req::get("/v1/environment?pk=pk_test_acme").send(&app).await;
    assert_eq!(by_query.body["name"], "Acme");

    // A session of one environment means nothing in another.
    let request = Req::post("/v1/sign-ups", &sign_up_body("cross@example.com"))
        .header("torii-publishable-key", "pk_test_acme");
    let created = request.send(&app).await;
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let code = code_from(&app, "cross@example.com");
    let verified = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .header("torii-publishable-key", "pk_test_acme")
        .send(&app)
        .await;
    let token = verified.session_cookie().unwrap();
    let me_beta = Req::get("/me")
        .header("torii-publishable-key", "pk_test_b")
        .bearer(&token)
        .send(&app)
        .await;
    assert_eq!(me_beta.body["user"], json!(null));
}

#[tokio::test]
async fn health_and_readiness() {
    let app = app().await;
    let health = Req::get("/healthz").send(&app).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = Req::get("/readyz").send(&app).await;
    assert_eq!(ready.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = app().await;
    let missing = Req::get("/v1/nothing-here").send(&app).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
    let wrong_method = Req::get("/v1/sign-in/password").send(&app).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "method_not_allowed");
}

#[tokio::test]
async fn responses_carry_basic_security_headers() {
    let app = app().await;
    let me = Req::get("/me").send(&app).await;
    assert_eq!(me.headers["x-content-type-options"], "nosniff");
    assert!(me.headers.contains_key("referrer-policy"));
}
