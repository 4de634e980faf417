//! CORS: only an environment's allowed origins are answered, with credentials; the secret-key
//! API never is.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

fn app_env() -> torii_server::Environment {
    let mut env = legal_env();
    env.allowed_origins = vec!["https://app.example.com".into()];
    env
}

fn preflight(path: &str, origin: &str) -> Req {
    Req::get(path)
        .method("OPTIONS", path)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, torii-publishable-key",
        )
}

#[tokio::test]
async fn preflights_are_answered_for_allowed_origins_only() {
    let app = app_with(vec![app_env()]).await;
    let ok = preflight("/v1/sign-in/password", "https://app.example.com")
        .send(&app)
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
    assert_eq!(
        ok.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(ok.headers["access-control-allow-credentials"], "true");
    let methods = ok.headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    let allowed = ok.headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed.contains("torii-publishable-key"), "{allowed}");
    assert_eq!(ok.headers["vary"], "Origin");

    for foreign in [
        "https://evil.example.com",
        "https://app.example.com.evil.com",
        "http://app.example.com",
        "null",
    ] {
        let refused = preflight("/v1/sign-in/password", foreign).send(&app).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{foreign}");
        assert_eq!(refused.code(), "forbidden_origin");
        assert!(!refused.headers.contains_key("access-control-allow-origin"));
    }
}

#[tokio::test]
async fn answers_carry_cors_headers_for_their_environments_origins() {
    let app = app_with(vec![app_env()]).await;
    let me = Req::get("/me")
        .header("origin", "https://app.example.com")
        .send(&app)
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(me.headers["access-control-allow-credentials"], "true");
    assert_eq!(
        me.headers["access-control-expose-headers"],
        "retry-after, x-request-id"
    );

    let foreign = Req::get("/me")
        .header("origin", "https://evil.example.com")
        .send(&app)
        .await;
    assert!(!foreign.headers.contains_key("access-control-allow-origin"));
    assert!(
        !foreign
            .headers
            .contains_key("access-control-allow-credentials")
    );
    assert_eq!(foreign.headers["vary"], "Origin");

    // A state-changing request from a foreign origin is refused outright, not merely unreadable.
    let post = Req::get("/v1/sign-in/password")
        .method("POST", "/v1/sign-in/password")
        .header("origin", "https://evil.example.com")
        .header("content-type", "application/json")
        .send(&app)
        .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert_eq!(post.code(), "forbidden_origin");
    assert!(!post.headers.contains_key("access-control-allow-origin"));

    // Two Origin values (an allowed one first) get no CORS answer either.
    let doubled = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "a@example.com", "password": PASSWORD}),
    )
    .header("origin", "https://app.example.com")
    .send(&app)
    .await;
    assert!(!doubled.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn the_secret_key_api_is_never_opened_to_browsers() {
    let app = app_with(vec![app_env()]).await;
    let pre = preflight("/v1/admin/users", "https://app.example.com")
        .send(&app)
        .await;
    assert!(!pre.headers.contains_key("access-control-allow-origin"));
    assert_ne!(pre.status, StatusCode::NO_CONTENT);
    let list = Req::get("/v1/admin/users?email=a@example.com")
        .header("origin", "https://app.example.com")
        .bearer("sk_test_acme")
        .send(&app)
        .await;
    assert!(!list.headers.contains_key("access-control-allow-origin"));
}
