//! Sign-up with an emailed code, through the real router.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use time::Duration;

#[tokio::test]
async fn sign_up_verify_creates_an_active_session() {
    let app = app().await;
    let email = format!("{}@example.com", unique("ada"));
    let (id, code) = start_sign_up(&app, &email).await;
    let verified = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.body["user"]["email"], email);
    assert_eq!(verified.body["user"]["name"], "Ada");
    assert_eq!(verified.body["user"]["emailVerified"], true);
    assert!(
        verified.body["user"]["id"]
            .as_str()
            .unwrap()
            .starts_with("usr_")
    );
    let cookie_header = verified.headers["set-cookie"].to_str().unwrap();
    assert!(cookie_header.contains("HttpOnly"), "{cookie_header}");
    assert!(cookie_header.contains("SameSite=Lax"), "{cookie_header}");
    assert!(!cookie_header.contains("Secure"), "test mode is plain http");

    let token = verified.session_cookie().unwrap();
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.status, StatusCode::OK);
    let session = &me.body["session"];
    assert!(session["id"].as_str().unwrap().starts_with("ses_"));
    assert_eq!(session["status"], "active");
    assert_eq!(session["gates"], json!([]));
    assert_eq!(session["currentGate"], json!(null));
    assert_eq!(session["kind"], "database");
    assert_eq!(me.body["user"]["email"], email);

    // The code is single use.
    let again = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
}

#[tokio::test]
async fn the_code_email_is_sent_and_only_its_hash_is_stored() {
    let app = app().await;
    let email = format!("{}@example.com", unique("ada"));
    let (id, code) = start_sign_up(&app, &email).await;
    let message = app.outbox.last_to(&email).unwrap();
    assert!(message.subject.contains(&code));
    assert!(message.html.contains(&code));
    assert!(message.text.contains("Acme"));
    let record = app
        .torii
        .store()
        .get_sign_up("env_test", &id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(record.code_hash, code);
    assert!(!record.code_hash.contains(&code));
    assert!(record.password_hash.unwrap().starts_with("$argon2id$"));
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = app().await;
    let response = Req::post_raw("/v1/sign-ups", "application/json", "{\"email\": ")
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.code(), "malformed_request");
}

#[tokio::test]
async fn deeply_nested_json_is_400_before_it_is_parsed() {
    let app = app().await;
    // Nesting inside an ignored field: the shape would deserialise, the depth does not pass.
    let deep = format!(
        "{{\"email\": \"n@example.com\", \"extra\": {}1{}}}",
        "[".repeat(64),
        "]".repeat(64)
    );
    let response = Req::post_raw("/v1/sign-ups", "application/json", deep)
        .send(&app)
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    assert_eq!(response.code(), "malformed_request");
    assert!(response.text.contains("nested"), "{}", response.text);
    // Brackets inside strings are text, not nesting.
    let flat = json!({"email": "n@example.com", "name": "[".repeat(64), "password": "x"});
    let response = Req::post("/v1/sign-ups", &flat).send(&app).await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.text
    );
    // `application/*+json` is JSON too.
    let response = Req::post_raw(
        "/v1/sign-ups",
        "application/merge-patch+json; charset=utf-8",
        "{\"email\": 5}",
    )
    .send(&app)
    .await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.text
    );
}

#[tokio::test]
async fn wrong_shape_is_422_and_wrong_content_type_415() {
    let app = app().await;
    let response = Req::post("/v1/sign-ups", &json!({"email": 5}))
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let response = Req::post_raw("/v1/sign-ups", "text/plain", "{}")
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.code(), "unsupported_media_type");
}

#[tokio::test]
async fn invalid_email_is_422_with_a_field_error() {
    let app = app().await;
    let response = Req::post("/v1/sign-ups", &sign_up_body("not-an-email"))
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.code(), "validation_failed");
    assert!(response.body["error"]["fields"]["email"].is_string());
    assert!(app.outbox.messages().is_empty());
}

#[tokio::test]
async fn passwords_outside_8_to_256_code_points_are_422() {
    let app = app().await;
    for password in ["short".to_owned(), "x".repeat(257)] {
        let body = json!({"email": "a@example.com", "password": password, "legalAccepted": true});
        let response = Req::post("/v1/sign-ups", &body).send(&app).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.body["error"]["fields"]["password"].is_string());
    }
    let missing = Req::post(
        "/v1/sign-ups",
        &json!({"email": "a@example.com", "legalAccepted": true}),
    )
    .send(&app)
    .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn common_passwords_are_422_and_nothing_is_sent() {
    let app = app().await;
    // Long enough, but on the common-password list (also disguised).
    for common in ["password123", "P@ssw0rd", "qwertyuiop"] {
        let body = json!({"email": "a@example.com", "password": common, "legalAccepted": true});
        let response = Req::post("/v1/sign-ups", &body).send(&app).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{common}"
        );
        let message = response.body["error"]["fields"]["password"]
            .as_str()
            .unwrap();
        assert!(message.contains("commonly used"), "{common}: {message}");
    }
    assert!(app.outbox.last_to("a@example.com").is_none());
}

#[tokio::test]
async fn long_passwords_are_not_truncated() {
    let app = app().await;
    let email = format!("{}@example.com", unique("long"));
    let first = format!("{}A", "p".repeat(255));
    let second = format!("{}B", "p".repeat(255));
    let body = json!({"email": email, "password": first, "legalAccepted": true});
    let created = Req::post("/v1/sign-ups", &body).send(&app).await;
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let code = code_from(&app, &email);
    Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&app)
        .await;
    let wrong = Req::post(
        "/v1/sign-in/password",
        &json!({"email": email, "password": second}),
    )
    .send(&app)
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = Req::post(
        "/v1/sign-in/password",
        &json!({"email": email, "password": first}),
    )
    .send(&app)
    .await;
    assert_eq!(right.status, StatusCode::OK);
}

#[tokio::test]
async fn missing_consent_is_422_when_the_environment_has_terms() {
    let app = app().await;
    for accepted in [json!(false), json!(null)] {
        let body =
            json!({"email": "a@example.com", "password": PASSWORD, "legalAccepted": accepted});
        let response = Req::post("/v1/sign-ups", &body).send(&app).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.code(), "consent_required");
    }
    assert!(app.outbox.messages().is_empty());
}

#[tokio::test]
async fn consent_is_not_asked_without_terms() {
    let app = app_with(vec![torii_server::Environment::new_test(
        "env_plain",
        "Plain",
        "pk_test_plain",
        "sk_test_plain",
    )])
    .await;
    let env = Req::get("/v1/environment").send(&app).await;
    assert_eq!(env.body["legal"]["required"], false);
    let body = json!({"email": "a@example.com", "password": PASSWORD});
    let response = Req::post("/v1/sign-ups", &body).send(&app).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
}

#[tokio::test]
async fn wrong_code_says_how_many_tries_are_left() {
    let app = app().await;
    let (id, code) = start_sign_up(&app, "tries@example.com").await;
    let response = Req::post(
        &format!("/v1/sign-ups/{id}/verify"),
        &json!({"code": wrong_code(&code)}),
    )
    .send(&app)
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.code(), "invalid_code");
    assert_eq!(response.body["error"]["triesLeft"], 9);
    assert!(
        response.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("9 tries left")
    );
}

#[tokio::test]
async fn the_eleventh_try_fails_even_with_the_right_code() {
    let app = app().await;
    let (id, code) = start_sign_up(&app, "dead@example.com").await;
    for left in (0..10).rev() {
        let response = Req::post(
            &format!("/v1/sign-ups/{id}/verify"),
            &json!({"code": wrong_code(&code)}),
        )
        .send(&app)
        .await;
        assert_eq!(response.body["error"]["triesLeft"], left);
    }
    let response = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::GONE);
    assert_eq!(response.code(), "code_attempts_exhausted");
    assert!(response.session_cookie().is_none());
}

#[tokio::test]
async fn an_expired_code_is_refused_with_a_clear_error() {
    let app = app().await;
    let (id, code) = start_sign_up(&app, "late@example.com").await;
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    let response = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.code(), "code_expired");
    assert!(
        response.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn a_malformed_code_does_not_use_a_try() {
    let app = app().await;
    let (id, code) = start_sign_up(&app, "shape@example.com").await;
    let response = Req::post(
        &format!("/v1/sign-ups/{id}/verify"),
        &json!({"code": "12ab"}),
    )
    .send(&app)
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body["error"]["fields"]["code"].is_string());
    let wrong = Req::post(
        &format!("/v1/sign-ups/{id}/verify"),
        &json!({"code": wrong_code(&code)}),
    )
    .send(&app)
    .await;
    assert_eq!(wrong.body["error"]["triesLeft"], 9);
}

#[tokio::test]
async fn resend_has_a_cooldown_and_replaces_the_code() {
    let app = app().await;
    let (id, old_code) = start_sign_up(&app, "again@example.com").await;
    let early = Req::post(&format!("/v1/sign-ups/{id}/resend"), &json!({}))
        .send(&app)
        .await;
    assert_eq!(early.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(early.code(), "rate_limited");
    assert!(early.headers.contains_key("retry-after"));

    app.clock.advance(Duration::seconds(31));
    let resent = Req::post(&format!("/v1/sign-ups/{id}/resend"), &json!({}))
        .send(&app)
        .await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
    let new_code = code_from(&app, "again@example.com");
    assert_eq!(app.outbox.messages().len(), 2);
    if new_code != old_code {
        let stale = Req::post(
            &format!("/v1/sign-ups/{id}/verify"),
            &json!({"code": old_code}),
        )
        .send(&app)
        .await;
        assert_eq!(stale.code(), "invalid_code");
    }
    let fresh = Req::post(
        &format!("/v1/sign-ups/{id}/verify"),
        &json!({"code": new_code}),
    )
    .send(&app)
    .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
}

#[tokio::test]
async fn unknown_sign_up_ids_are_404() {
    let app = app().await;
    let response = Req::post("/v1/sign-ups/sgu_nope/verify", &json!({"code": "123456"}))
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.code(), "not_found");
}

#[tokio::test]
async fn signing_up_with_a_taken_email_answers_the_same_and_tells_the_owner() {
    let app = app().await;
    signed_up(&app, "owner@example.com").await;
    let fresh = Req::post("/v1/sign-ups", &sign_up_body("someone-new@example.com"))
        .send(&app)
        .await;
    let taken = Req::post("/v1/sign-ups", &sign_up_body("Owner@Example.com"))
        .send(&app)
        .await;
    assert_eq!(taken.status, fresh.status);
    let keys = |v: &serde_json::Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&taken.body), keys(&fresh.body));
    let notice = app.outbox.last_to("owner@example.com").unwrap();
    assert!(notice.subject.contains("tried"), "{}", notice.subject);
    assert!(
        !notice.text.chars().any(|c| c.is_ascii_digit()) || !notice.text.contains("code is"),
        "no code is sent to an existing account"
    );
}

#[tokio::test]
async fn look_alike_addresses_are_the_same_account() {
    let app = app().await;
    let token = signed_up(&app, "twin@example.com").await;
    // Full-width letters are the same address once canonicalised (NFKC): no second account,
    // the owner is told instead.
    let wide = Req::post(
        "/v1/sign-ups",
        &sign_up_body("\u{ff34}win@\u{ff25}xample.com"),
    )
    .send(&app)
    .await;
    assert_eq!(wide.status, StatusCode::CREATED, "{}", wide.text);
    let notice = app.outbox.last_to("twin@example.com").unwrap();
    assert!(notice.subject.contains("tried"), "{}", notice.subject);
    // Invisible characters are refused outright.
    let hidden = Req::post("/v1/sign-ups", &sign_up_body("tw\u{200b}in@example.com"))
        .send(&app)
        .await;
    assert_eq!(
        hidden.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        hidden.text
    );
    assert!(
        hidden.body["error"]["fields"]["email"].is_string(),
        "{}",
        hidden.text
    );
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"]["email"], "twin@example.com");
}

#[tokio::test]
async fn concurrent_verifications_of_one_code_create_one_session() {
    let app = app().await;
    let (id, code) = start_sign_up(&app, "race@example.com").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let router = app.router.clone();
        let path = format!("/v1/sign-ups/{id}/verify");
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            let request = axum::http::Request::builder()
                .method("POST")
                .uri(path)
                .header("origin", ORIGIN)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(json!({"code": code}).to_string()))
                .unwrap();
            read(tower::ServiceExt::oneshot(router, request).await.unwrap()).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let response = task.await.unwrap();
        match response.status {
            StatusCode::OK => created += 1,
            // Twenty tries at a ceremony that allows ten: the rest find it used up.
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::NOT_FOUND | StatusCode::GONE => {
                assert!(
                    [
                        "code_expired",
                        "not_found",
                        "invalid_code",
                        "code_attempts_exhausted"
                    ]
                    .contains(&response.code()),
                    "{}",
                    response.text
                );
            }
            other => panic!("unexpected {other}: {}", response.text),
        }
    }
    assert_eq!(created, 1);
}
