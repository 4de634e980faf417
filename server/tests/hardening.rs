//! Production defaults and account notices, through the real router: wrong secret keys are
//! throttled per address, a live environment never writes codes to a log, re-authentication
//! renews the session's token, and the owner hears of every change to how the account signs in.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use torii_server::mail::OutboxMailer;
use torii_server::{BuildError, Environment, Torii};
use torii_shared::EnvironmentMode;

#[tokio::test]
async fn wrong_secret_keys_are_throttled_per_address_and_the_right_key_still_works() {
    let app = app().await;
    let guess = |ip: &str, key: &str| {
        Req::get("/v1/admin/users?email=nobody@example.com")
            .peer(ip)
            .header("authorization", &format!("Bearer {key}"))
    };
    let limit = torii_server::rate_limit::WRONG_SECRET_KEYS_PER_IP.max;
    for n in 0..limit {
        let wrong = guess("203.0.113.7", &format!("sk_test_guess_{n}"))
            .send(&app)
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "guess {n}");
        assert_eq!(wrong.code(), "invalid_secret_key");
    }
    let throttled = guess("203.0.113.7", "sk_test_one_more").send(&app).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.code(), "rate_limited");
    let retry: u64 = throttled.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");

    // Another address is not affected, and the backend's own key is never refused.
    let elsewhere = guess("198.51.100.9", "sk_test_wrong").send(&app).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
    let right = guess("203.0.113.7", "sk_test_acme").send(&app).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);

    // The window passes.
    app.clock.advance(time::Duration::minutes(6));
    let later = guess("203.0.113.7", "sk_test_wrong").send(&app).await;
    assert_eq!(later.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_live_environment_refuses_the_log_mailer() {
    let db = common::db::TestDb::new(common::db::Backend::Sqlite).await;
    let mut live = Environment::new_test("env_live", "Prod", "pk_live_prod", "sk_live_prod");
    live.mode = EnvironmentMode::Live;
    let refused = Torii::builder()
        .shared_store(std::sync::Arc::clone(&db.store))
        .secret_key(test_server_key())
        .environment(live.clone())
        .build()
        .await;
    assert!(
        matches!(refused, Err(BuildError::LiveWithoutMail(ref name)) if name == "Prod"),
        "{refused:?}"
    );
    let built = Torii::builder()
        .shared_store(std::sync::Arc::clone(&db.store))
        .mailer(OutboxMailer::new())
        .secret_key(test_server_key())
        .environment(live)
        .build()
        .await;
    assert!(built.is_ok(), "a delivering mailer is fine");
}

#[tokio::test]
async fn re_authentication_gives_the_session_a_new_token_and_ends_the_old_one() {
    let app = app().await;
    let old = signed_up(&app, "renew@example.com").await;
    let session_id = Req::get("/me").cookie(&old).send(&app).await.body["session"]["id"].clone();

    let renewed = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .cookie(&old)
        .send(&app)
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let new = renewed.session_cookie().expect("the cookie is replaced");
    assert_ne!(new, old);
    assert!(
        renewed.body.get("token").is_none(),
        "a cookie stays a cookie"
    );
    assert_eq!(
        Req::get("/me").cookie(&old).send(&app).await.body["user"],
        json!(null),
        "the old token no longer works"
    );
    let me = Req::get("/me").cookie(&new).send(&app).await.body;
    assert_eq!(me["session"]["id"], session_id, "the same session");

    // A client holding its token itself gets the new one in the body.
    let bearer = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .bearer(&new)
        .send(&app)
        .await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.text);
    assert!(bearer.session_cookie().is_none());
    let newest = bearer.body["token"]
        .as_str()
        .expect("the new token")
        .to_owned();
    assert_eq!(
        Req::get("/me").bearer(&new).send(&app).await.body["user"],
        json!(null)
    );
    assert_eq!(
        Req::get("/me").bearer(&newest).send(&app).await.body["session"]["id"],
        session_id
    );
}

fn notice_to(app: &TestApp, to: &str, subject: &str) -> String {
    let mail = app
        .outbox
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.to.eq_ignore_ascii_case(to) && m.subject.contains(subject))
        .unwrap_or_else(|| panic!("no notice `{subject}` to {to}"));
    mail.text
}

#[tokio::test]
async fn the_owner_is_told_when_the_password_changes_or_is_reset() {
    let app = app_with(vec![links_env()]).await;
    let token = signed_up(&app, "told@example.com").await;
    let changed = Req::post(
        "/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": "another long passphrase"}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert!(changed.status.is_success(), "{}", changed.text);
    let text = notice_to(&app, "told@example.com", "your password was changed");
    assert!(text.contains("If it was not you"), "{text}");

    Req::post("/v1/password-resets", &json!({"email": "told@example.com"}))
        .send(&app)
        .await;
    let code = code_from(&app, "told@example.com");
    let reset = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": "told@example.com", "code": code, "password": "a third long passphrase"}),
    )
    .send(&app)
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    let text = notice_to(&app, "told@example.com", "your password was reset");
    assert!(text.contains("every session was signed out"), "{text}");
}

#[tokio::test]
async fn both_addresses_are_told_when_the_email_changes() {
    let app = app().await;
    let token = signed_up(&app, "before@example.com").await;
    let started = Req::post("/v1/me/email", &json!({"email": "after@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let code = code_from(&app, "after@example.com");
    let verified = Req::post("/v1/me/email/verify", &json!({"code": code}))
        .cookie(&token)
        .send(&app)
        .await;
    assert!(verified.status.is_success(), "{}", verified.text);
    let old = app.outbox.last_to("before@example.com").unwrap();
    assert!(old.text.contains("after@example.com"), "{}", old.text);
    let text = notice_to(
        &app,
        "after@example.com",
        "this is now your account's email",
    );
    assert!(text.contains("before@example.com"), "{text}");
}
