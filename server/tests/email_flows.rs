//! Sign-in links and password reset, through the real router.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use time::Duration;

fn link_token(app: &TestApp, email: &str) -> (String, String) {
    let message = app.outbox.last_to(email).expect("a link was sent");
    let link = message
        .text
        .split_whitespace()
        .find(|w| w.contains("/v1/magic-links/verify?token="))
        .expect("a link in the text part")
        .to_owned();
    let token = link
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    (link, token)
}

async fn request_link(app: &TestApp, email: &str) -> TestResponse {
    Req::post("/v1/magic-links", &json!({"email": email}))
        .send(app)
        .await
}

#[tokio::test]
async fn a_link_signs_in_once_and_the_landing_page_consumes_nothing() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "link@example.com").await;
    let requested = request_link(&app, "link@example.com").await;
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{}", requested.text);
    let (link, token) = link_token(&app, "link@example.com");
    assert!(
        link.starts_with("http://localhost:3000/v1/magic-links/verify?token="),
        "{link}"
    );
    let message = app.outbox.last_to("link@example.com").unwrap();
    assert!(message.html.contains("Sign in"));
    assert!(message.subject.contains("Acme"));

    // A scanner fetches the link twice: nothing is consumed.
    for _ in 0..2 {
        let landing = Req::get(&format!("/v1/magic-links/verify?token={token}"))
            .send(&app)
            .await;
        assert_eq!(landing.status, StatusCode::OK);
        assert!(landing.text.contains("Continue"));
        assert_eq!(landing.headers["referrer-policy"], "no-referrer");
        assert_eq!(landing.headers["cache-control"], "no-store");
        assert!(landing.headers.contains_key("content-security-policy"));
    }
    let verified = Req::post("/v1/magic-links/verify", &json!({"token": token}))
        .send(&app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.body["user"]["email"], "link@example.com");
    assert!(verified.session_cookie().is_some());
    let again = Req::post("/v1/magic-links/verify", &json!({"token": token}))
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.code(), "link_expired");
    // Opening the used link again shows the "used or expired" page straight away.
    let reopened = Req::get(&format!("/v1/magic-links/verify?token={token}"))
        .send(&app)
        .await;
    assert_eq!(reopened.status, StatusCode::GONE);
    assert!(reopened.text.contains("used or expired"));
    assert!(!reopened.text.contains("Continue"));
}

#[tokio::test]
async fn the_form_post_redirects_to_the_allowed_url_and_a_used_link_shows_a_page() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "form@example.com").await;
    let requested = Req::post(
        "/v1/magic-links",
        &json!({"email": "form@example.com", "redirectUrl": "http://localhost:3000/dashboard"}),
    )
    .send(&app)
    .await;
    assert_eq!(requested.status, StatusCode::ACCEPTED);
    let (_, token) = link_token(&app, "form@example.com");
    let form = Req::post_raw(
        "/v1/magic-links/verify?pk=pk_test_acme",
        "application/x-www-form-urlencoded",
        format!("token={token}"),
    )
    .send(&app)
    .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    assert_eq!(form.headers["location"], "http://localhost:3000/dashboard");
    assert!(form.session_cookie().is_some());
    let used = Req::post_raw(
        "/v1/magic-links/verify",
        "application/x-www-form-urlencoded",
        format!("token={token}"),
    )
    .send(&app)
    .await;
    assert_eq!(used.status, StatusCode::GONE);
    assert!(used.text.contains("used or expired"));
}

#[tokio::test]
async fn twenty_concurrent_verifications_make_one_session() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "race-link@example.com").await;
    request_link(&app, "race-link@example.com").await;
    let (_, token) = link_token(&app, "race-link@example.com");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let router = app.router.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let request = axum::http::Request::builder()
                .method("POST")
                .uri("/v1/magic-links/verify")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(json!({"token": token}).to_string()))
                .unwrap();
            read(tower::ServiceExt::oneshot(router, request).await.unwrap())
                .await
                .status
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn expired_and_replaced_links_are_refused() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "old-link@example.com").await;
    request_link(&app, "old-link@example.com").await;
    let (_, first) = link_token(&app, "old-link@example.com");
    request_link(&app, "old-link@example.com").await;
    let (_, second) = link_token(&app, "old-link@example.com");
    let older = Req::post("/v1/magic-links/verify", &json!({"token": first}))
        .send(&app)
        .await;
    assert_eq!(older.code(), "link_expired");
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    let expired = Req::post("/v1/magic-links/verify", &json!({"token": second}))
        .send(&app)
        .await;
    assert_eq!(expired.code(), "link_expired");
}

#[tokio::test]
async fn links_use_the_public_url_whatever_the_host_headers() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "host@example.com").await;
    let requested = Req::post("/v1/magic-links", &json!({"email": "host@example.com"}))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .send(&app)
        .await;
    assert_eq!(requested.status, StatusCode::ACCEPTED);
    let (link, _) = link_token(&app, "host@example.com");
    assert!(link.starts_with("http://localhost:3000/"), "{link}");
    assert!(
        !app.outbox
            .last_to("host@example.com")
            .unwrap()
            .html
            .contains("evil")
    );
}

#[tokio::test]
async fn foreign_redirects_are_refused() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "redirect@example.com").await;
    for (i, bad) in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://localhost:3000.evil.com/",
    ]
    .into_iter()
    .enumerate()
    {
        // A different address each time, so the per-address email limit stays out of it.
        let response = Req::post(
            "/v1/magic-links",
            &json!({"email": format!("redirect{i}@example.com"), "redirectUrl": bad}),
        )
        .send(&app)
        .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(response.body["error"]["fields"]["redirectUrl"].is_string());
    }
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_email() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "known-link@example.com").await;
    let before = app.outbox.messages().len();
    let known = request_link(&app, "known-link@example.com").await;
    let unknown = request_link(&app, "unknown-link@example.com").await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    assert_eq!(app.outbox.messages().len(), before + 1);
    assert!(app.outbox.last_to("unknown-link@example.com").is_none());

    let known = Req::post(
        "/v1/password-resets",
        &json!({"email": "known-link@example.com"}),
    )
    .send(&app)
    .await;
    let unknown = Req::post(
        "/v1/password-resets",
        &json!({"email": "nobody-reset@example.com"}),
    )
    .send(&app)
    .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    assert!(app.outbox.last_to("nobody-reset@example.com").is_none());
}

#[tokio::test]
async fn a_password_reset_revokes_every_session_and_changes_the_password() {
    let app = app_with(vec![links_env()]).await;
    let old_session = signed_up(&app, "reset@example.com").await;
    Req::post(
        "/v1/password-resets",
        &json!({"email": "reset@example.com"}),
    )
    .send(&app)
    .await;
    let code = code_from(&app, "reset@example.com");
    let new_password = "a brand new passphrase";

    let wrong = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "reset@example.com", "code": wrong_code(&code), "password": new_password}),
    )
    .send(&app)
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.code(), "invalid_code");
    let unknown = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "nobody@example.com", "code": code, "password": new_password}),
    )
    .send(&app)
    .await;
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);

    let done = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "reset@example.com", "code": code, "password": new_password}),
    )
    .send(&app)
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let fresh = done.session_cookie().unwrap();
    assert_eq!(
        Req::get("/me").bearer(&old_session).send(&app).await.body["user"],
        json!(null)
    );
    assert!(Req::get("/me").bearer(&fresh).send(&app).await.body["user"].is_object());

    let old = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "reset@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "reset@example.com", "password": new_password}),
    )
    .send(&app)
    .await;
    assert_eq!(new.status, StatusCode::OK);
    let reused = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "reset@example.com", "code": code, "password": "yet another one"}),
    )
    .send(&app)
    .await;
    assert_eq!(reused.code(), "invalid_code");
}

#[tokio::test]
async fn a_reset_code_expires_and_weak_passwords_are_refused() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "reset-late@example.com").await;
    Req::post(
        "/v1/password-resets",
        &json!({"email": "reset-late@example.com"}),
    )
    .send(&app)
    .await;
    let code = code_from(&app, "reset-late@example.com");
    let short = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "reset-late@example.com", "code": code, "password": "short"}),
    )
    .send(&app)
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body["error"]["fields"]["password"].is_string());
    app.clock.advance(Duration::minutes(11));
    let late = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "reset-late@example.com", "code": code, "password": "long enough now"}),
    )
    .send(&app)
    .await;
    assert_eq!(late.code(), "invalid_code");
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_a_clear_503_without_secrets() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let db = common::db::TestDb::new(common::db::Backend::Sqlite).await;
    let mailer = torii_server::mail::SmtpMailer::from_url(
        &format!("smtp://127.0.0.1:{port}"),
        "Torii <no-reply@localhost>",
        None,
    )
    .unwrap();
    let torii = torii_server::Torii::builder()
        .shared_store(std::sync::Arc::clone(&db.store))
        .mailer(mailer)
        .environment(legal_env())
        .public_url(ORIGIN.parse().unwrap())
        .build()
        .await
        .unwrap();
    let router = torii_server::router(torii);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/sign-ups")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            sign_up_body("smtp-down@example.com").to_string(),
        ))
        .unwrap();
    let response = read(tower::ServiceExt::oneshot(router, request).await.unwrap()).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.code(), "mail_unavailable");
    assert!(
        !response.text.contains(&port.to_string()),
        "no internals: {}",
        response.text
    );
}

#[tokio::test]
async fn the_landing_pages_own_form_post_is_accepted_and_foreign_null_origins_are_not() {
    let app = app_with(vec![links_env()]).await;
    signed_up(&app, "null-origin@example.com").await;
    request_link(&app, "null-origin@example.com").await;
    let (_, token) = link_token(&app, "null-origin@example.com");
    let post = |site: &'static str, token: String| {
        let router = app.router.clone();
        async move {
            let request = axum::http::Request::builder()
                .method("POST")
                .uri("/v1/magic-links/verify?pk=pk_test_acme")
                .header("origin", "null")
                .header("sec-fetch-site", site)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!("token={token}")))
                .unwrap();
            read(tower::ServiceExt::oneshot(router, request).await.unwrap()).await
        }
    };
    let cross = post("cross-site", token.clone()).await;
    assert_eq!(
        cross.status,
        StatusCode::FORBIDDEN,
        "a foreign page cannot post it"
    );
    let own = post("same-origin", token).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.text);
    // `Origin: null` is accepted on that route only.
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/sign-in/password")
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"email": "null-origin@example.com", "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    let other = read(
        tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn methods_the_environment_leaves_out_are_refused() {
    let password_only = app().await;
    signed_up(&password_only, "only@example.com").await;
    for (path, body) in [
        ("/v1/magic-links", json!({"email": "only@example.com"})),
        ("/v1/magic-links/verify", json!({"token": "x".repeat(43)})),
    ] {
        let refused = Req::post(path, &body).send(&password_only).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.text
        );
        assert_eq!(refused.code(), "method_disabled", "{path}");
    }
    assert!(
        password_only
            .outbox
            .messages()
            .iter()
            .all(|m| !m.text.contains("magic-links")),
        "no link was sent"
    );

    let mut links = links_env();
    links.methods = vec![torii_shared::SignInMethod::MagicLink];
    let links_only = app_with(vec![links]).await;
    for (path, body) in [
        (
            "/v1/sign-in/password",
            json!({"email": "a@example.com", "password": PASSWORD}),
        ),
        ("/v1/password-resets", json!({"email": "a@example.com"})),
        (
            "/v1/password-resets/complete",
            json!({"email": "a@example.com", "code": "123456", "password": PASSWORD}),
        ),
    ] {
        let refused = Req::post(path, &body).send(&links_only).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.text
        );
        assert_eq!(refused.code(), "method_disabled", "{path}");
    }
}
