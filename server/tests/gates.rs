//! Session gates and the secret-key API, through the real router.

mod common;

use axum::http::StatusCode;
use axum::routing::get;
use common::*;
use serde_json::json;
use torii_server::http::ActiveSession;

const SK: &str = "Bearer sk_test_acme";

async fn user_and_session(app: &TestApp, email: &str) -> (String, String, String) {
    let token = signed_up(app, email).await;
    let me = Req::get("/me").bearer(&token).send(app).await;
    (
        token,
        me.body["user"]["id"].as_str().unwrap().to_owned(),
        me.body["session"]["id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_user_gate_makes_every_session_pending_until_cleared() {
    let app = app().await;
    let (token, user, _) = user_and_session(&app, "gate@example.com").await;
    let required = Req::post(
        &format!("/v1/admin/users/{user}/gates"),
        &json!({"key": "legal_acceptance"}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    assert_eq!(required.status, StatusCode::NO_CONTENT, "{}", required.text);
    let me = Req::get("/me").bearer(&token).send(&app).await;
    assert_eq!(me.body["session"]["status"], "pending");
    assert_eq!(
        me.body["session"]["gates"],
        json!([{"key": "legal_acceptance"}])
    );
    assert_eq!(
        me.body["session"]["currentGate"],
        json!({"key": "legal_acceptance"})
    );

    // A new session of the same user is pending too.
    let again = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "gate@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(again.body["session"]["status"], "pending");

    let cleared = Req::get("/")
        .method(
            "DELETE",
            &format!("/v1/admin/users/{user}/gates/legal_acceptance"),
        )
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    let me = Req::get("/me").bearer(&token).send(&app).await;
    assert_eq!(me.body["session"]["status"], "active");
    assert_eq!(me.body["session"]["gates"], json!([]));
    assert_eq!(me.body["session"]["currentGate"], json!(null));
}

#[tokio::test]
async fn a_session_gate_touches_that_session_only_and_order_is_the_servers() {
    let app = app().await;
    let (first, user, session) = user_and_session(&app, "step@example.com").await;
    let second = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "step@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await
    .session_cookie()
    .unwrap();
    for (path, key) in [
        (
            format!("/v1/admin/sessions/{session}/gates"),
            "mfa_enrollment",
        ),
        (
            format!("/v1/admin/users/{user}/gates"),
            "email_verification",
        ),
        (format!("/v1/admin/users/{user}/gates"), "legal_acceptance"),
    ] {
        let response = Req::post(&path, &json!({"key": key}))
            .header("authorization", SK)
            .send(&app)
            .await;
        assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.text);
    }
    let me = Req::get("/me").bearer(&first).send(&app).await;
    assert_eq!(
        me.body["session"]["gates"],
        json!([{"key": "legal_acceptance"}, {"key": "email_verification"}, {"key": "mfa_enrollment"}])
    );
    let other = Req::get("/me").bearer(&second).send(&app).await;
    assert_eq!(
        other.body["session"]["gates"],
        json!([{"key": "legal_acceptance"}, {"key": "email_verification"}])
    );
}

#[tokio::test]
async fn requiring_twice_is_idempotent_and_bad_targets_are_404() {
    let app = app().await;
    let (token, user, _) = user_and_session(&app, "twice@example.com").await;
    for _ in 0..2 {
        let response = Req::post(
            &format!("/v1/admin/users/{user}/gates"),
            &json!({"key": "mfa_enrollment"}),
        )
        .header("authorization", SK)
        .send(&app)
        .await;
        assert_eq!(response.status, StatusCode::NO_CONTENT);
    }
    let me = Req::get("/me").bearer(&token).send(&app).await;
    assert_eq!(
        me.body["session"]["gates"],
        json!([{"key": "mfa_enrollment"}])
    );
    for path in [
        "/v1/admin/users/usr_nope/gates",
        "/v1/admin/sessions/ses_nope/gates",
    ] {
        let response = Req::post(path, &json!({"key": "mfa_enrollment"}))
            .header("authorization", SK)
            .send(&app)
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        assert_eq!(response.code(), "not_found");
    }
    let bad_key = Req::post(
        &format!("/v1/admin/users/{user}/gates"),
        &json!({"key": "Not A Key"}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_admin_api_needs_the_secret_key() {
    let app = app().await;
    let (_, user, _) = user_and_session(&app, "keys@example.com").await;
    let path = format!("/v1/admin/users/{user}/gates");
    let missing = Req::post(&path, &json!({"key": "mfa_enrollment"}))
        .send(&app)
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.code(), "invalid_secret_key");
    let wrong = Req::post(&path, &json!({"key": "mfa_enrollment"}))
        .header("authorization", "Bearer sk_test_wrong")
        .send(&app)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let publishable = Req::post(&path, &json!({"key": "mfa_enrollment"}))
        .header("authorization", "Bearer pk_test_acme")
        .send(&app)
        .await;
    assert_eq!(publishable.status, StatusCode::FORBIDDEN);
    assert_eq!(publishable.code(), "secret_key_required");
}

#[tokio::test]
async fn pending_sessions_can_still_read_me_and_sign_out() {
    let app = app().await;
    let (token, user, _) = user_and_session(&app, "pending@example.com").await;
    Req::post(
        &format!("/v1/admin/users/{user}/gates"),
        &json!({"key": "mfa_enrollment"}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    assert_eq!(
        Req::get("/me").cookie(&token).send(&app).await.status,
        StatusCode::OK
    );
    let out = Req::post("/v1/sign-out", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn active_session_extractor_guards_application_routes() {
    let app = app().await;
    let (token, user, _) = user_and_session(&app, "guard@example.com").await;
    let protected = axum::Router::new()
        .route(
            "/app/secret",
            get(|ActiveSession(found): ActiveSession| async move { found.user.email }),
        )
        .with_state(app.torii.clone())
        .merge(app.router.clone());
    let call = |token: Option<String>| {
        let protected = protected.clone();
        async move {
            let mut request = axum::http::Request::builder().uri("/app/secret");
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            read(
                tower::ServiceExt::oneshot(
                    protected,
                    request.body(axum::body::Body::empty()).unwrap(),
                )
                .await
                .unwrap(),
            )
            .await
        }
    };
    let signed_out = call(None).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
    assert_eq!(call(Some(token.clone())).await.text, "guard@example.com");
    Req::post(
        &format!("/v1/admin/users/{user}/gates"),
        &json!({"key": "legal_acceptance"}),
    )
    .header("authorization", SK)
    .send(&app)
    .await;
    let pending = call(Some(token.clone())).await;
    assert_eq!(pending.status, StatusCode::FORBIDDEN);
    assert_eq!(pending.code(), "session_pending");
    assert_eq!(
        pending.body["error"]["currentGate"],
        json!({"key": "legal_acceptance"})
    );
}

#[tokio::test]
async fn admin_users_and_sessions() {
    let app = app().await;
    let (token, user, session) = user_and_session(&app, "Admin.Me@example.com").await;
    let found = Req::get("/v1/admin/users?email=admin.me@EXAMPLE.com")
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(found.body["users"][0]["id"], user.as_str());
    let none = Req::get("/v1/admin/users?email=nobody@example.com")
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(none.body["users"], json!([]));
    let one = Req::get(&format!("/v1/admin/users/{user}"))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(one.body["email"], "Admin.Me@example.com");

    let verified = Req::post("/v1/admin/sessions/verify", &json!({"token": token}))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(verified.status, StatusCode::OK);
    assert_eq!(verified.body["session"]["id"], session.as_str());
    let garbage = Req::post("/v1/admin/sessions/verify", &json!({"token": "nope"}))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);

    let revoked = Req::get("/")
        .method("DELETE", &format!("/v1/admin/sessions/{session}"))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        Req::get("/me").bearer(&token).send(&app).await.body["user"],
        json!(null)
    );
    let again = Req::get("/")
        .method("DELETE", &format!("/v1/admin/sessions/{session}"))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let deleted = Req::get("/")
        .method("DELETE", &format!("/v1/admin/users/{user}"))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = Req::get(&format!("/v1/admin/users/{user}"))
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}
