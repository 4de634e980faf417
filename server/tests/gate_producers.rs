//! The optional gate producers (Terms version, unverified email) and the routes that clear
//! them, through the real router.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

const SK: &str = "Bearer sk_test_acme";

#[tokio::test]
async fn producers_are_off_by_default() {
    let app = app().await;
    let created = Req::post(
        "/v1/admin/users",
        &json!({"email": "unverified@example.com", "password": PASSWORD}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["emailVerified"], false);
    let signed_in = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "unverified@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(signed_in.body["session"]["status"], "active");
}

#[tokio::test]
async fn a_terms_version_bump_sends_users_through_legal_acceptance() {
    let mut env = legal_env();
    env.terms_version = Some("2026-01".into());
    let app = app_with(vec![env.clone()]).await;
    let token = signed_up(&app, "terms@example.com").await;
    let me = Req::get("/me").bearer(&token).send(&app).await;
    assert_eq!(
        me.body["session"]["status"], "active",
        "accepted the current version at sign-up"
    );

    // The same database, the Terms bumped: a restart with a new version.
    env.terms_version = Some("2026-06".into());
    let bumped = app_on(
        app.torii.store_arc(),
        vec![env],
        app.outbox.clone(),
        app.clock.clone(),
    )
    .await;
    let env_info = Req::get("/v1/environment").send(&bumped).await;
    assert_eq!(env_info.body["legal"]["version"], "2026-06");
    let me = Req::get("/me").bearer(&token).send(&bumped).await;
    assert_eq!(me.body["session"]["status"], "pending");
    assert_eq!(
        me.body["session"]["currentGate"],
        json!({"key": "legal_acceptance"})
    );

    let accepted = Req::post("/v1/legal/accept", &json!({}))
        .cookie(&token)
        .send(&bumped)
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(accepted.body["session"]["status"], "active");
    let me = Req::get("/me").bearer(&token).send(&bumped).await;
    assert_eq!(me.body["session"]["status"], "active");
}

#[tokio::test]
async fn accepting_terms_needs_a_session() {
    let app = app().await;
    let response = Req::post("/v1/legal/accept", &json!({})).send(&app).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.code(), "unauthenticated");
}

#[tokio::test]
async fn accepting_terms_clears_a_required_legal_gate() {
    let app = app().await;
    let token = signed_up(&app, "legal@example.com").await;
    let me = Req::get("/me").bearer(&token).send(&app).await;
    let user = me.body["user"]["id"].as_str().unwrap().to_owned();
    Req::post(
        &format!("/v1/admin/users/{user}/gates"),
        &json!({"key": "legal_acceptance"}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    let accepted = Req::post("/v1/legal/accept", &json!({}))
        .bearer(&token)
        .send(&app)
        .await;
    assert_eq!(accepted.body["session"]["status"], "active");
}

#[tokio::test]
async fn an_unverified_email_is_gated_until_its_code_is_entered() {
    let mut env = legal_env();
    env.require_email_verification = true;
    let app = app_with(vec![env]).await;
    Req::post(
        "/v1/admin/users",
        &json!({"email": "verify@example.com", "password": PASSWORD, "name": "Vera"}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    let signed_in = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "verify@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(
        signed_in.body["session"]["currentGate"],
        json!({"key": "email_verification"})
    );
    let token = signed_in.session_cookie().unwrap();

    let sent = Req::post("/v1/email-verification/send", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text);
    let again = Req::post("/v1/email-verification/send", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    let code = code_from(&app, "verify@example.com");
    let wrong = Req::post(
        "/v1/email-verification/verify",
        &json!({"code": wrong_code(&code)}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(wrong.code(), "invalid_code");
    assert_eq!(wrong.body["error"]["triesLeft"], 9);
    let verified = Req::post("/v1/email-verification/verify", &json!({"code": code}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.body["user"]["emailVerified"], true);
    assert_eq!(verified.body["session"]["status"], "active");
    let reused = Req::post("/v1/email-verification/verify", &json!({"code": code}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(reused.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_created_users_are_validated_and_unique() {
    let app = app().await;
    let bad = Req::post(
        "/v1/admin/users",
        &json!({"email": "nope", "password": "short"}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["fields"]["email"].is_string());
    assert!(bad.body["error"]["fields"]["password"].is_string());
    let first = Req::post("/v1/admin/users", &json!({"email": "dup@example.com"}))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = Req::post("/v1/admin/users", &json!({"email": "DUP@example.com"}))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.code(), "email_taken");
}
