//! Passkeys through the real router, with a software authenticator standing in for the
//! browser: registration for a signed-in user, sign-in without an email, ceremonies that
//! work once and expire, origins, duplicate credentials, counters, and the last way to sign
//! in.

mod common;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::authenticator::Authenticator;
use common::{ORIGIN, Req, TestApp, app_with, code_from, legal_env, signed_up};
use serde_json::{Value, json};
use time::Duration;
use torii_shared::SignInMethod;

fn passkey_env() -> torii_server::Environment {
    let mut env = legal_env();
    env.methods = vec![SignInMethod::Password, SignInMethod::Passkey];
    env
}

async fn passkey_app() -> TestApp {
    app_with(vec![passkey_env()]).await
}

async fn registration_options(app: &TestApp, token: &str) -> (String, Value) {
    let options = Req::post("/v1/passkeys/registration/options", &json!({}))
        .cookie(token)
        .send(app)
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.text);
    (
        options.body["ceremonyId"].as_str().unwrap().to_owned(),
        options.body["publicKey"].clone(),
    )
}

/// Registers `device` for the user of `token`; the answer.
async fn register(app: &TestApp, token: &str, device: &mut Authenticator) -> common::TestResponse {
    let (ceremony, public_key) = registration_options(app, token).await;
    let credential = device.register(&public_key);
    Req::post(
        "/v1/passkeys",
        &json!({"ceremonyId": ceremony, "credential": credential, "name": "Laptop"}),
    )
    .cookie(token)
    .send(app)
    .await
}

async fn sign_in_options(app: &TestApp) -> (String, Value) {
    let options = Req::post("/v1/passkeys/sign-in/options", &json!({}))
        .send(app)
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.text);
    (
        options.body["ceremonyId"].as_str().unwrap().to_owned(),
        options.body["publicKey"].clone(),
    )
}

async fn finish_sign_in(app: &TestApp, ceremony: &str, credential: &Value) -> common::TestResponse {
    Req::post(
        "/v1/passkeys/sign-in",
        &json!({"ceremonyId": ceremony, "credential": credential}),
    )
    .send(app)
    .await
}

async fn sign_in(app: &TestApp, device: &mut Authenticator) -> common::TestResponse {
    let (ceremony, public_key) = sign_in_options(app).await;
    let credential = device.sign_in(&public_key);
    finish_sign_in(app, &ceremony, &credential).await
}

#[tokio::test]
async fn a_registered_passkey_signs_in_without_an_email() {
    let app = passkey_app().await;
    let token = signed_up(&app, "ada@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    let created = register(&app, &token, &mut device).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["name"], "Laptop");
    assert!(created.body["id"].as_str().unwrap().starts_with("pky_"));
    assert_eq!(created.body["lastUsedAt"], Value::Null);
    let notice = app.outbox.last_to("ada@example.com").unwrap();
    assert!(
        notice.subject.contains("a passkey was added") && notice.text.contains("Laptop"),
        "{}: {}",
        notice.subject,
        notice.text
    );

    let (_, public_key) = sign_in_options(&app).await;
    assert_eq!(public_key["userVerification"], "required");
    assert!(
        public_key["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "discoverable: no credential named"
    );

    let signed_in = sign_in(&app, &mut device).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(signed_in.body["user"]["email"], "ada@example.com");
    let new_token = signed_in.session_cookie().expect("a session cookie");
    let me = Req::get("/me").cookie(&new_token).send(&app).await;
    assert_eq!(me.body["user"]["email"], "ada@example.com");

    let listed = Req::get("/v1/passkeys").cookie(&new_token).send(&app).await;
    assert_eq!(listed.status, StatusCode::OK);
    let passkeys = listed.body.as_array().unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0]["name"], "Laptop");
    assert!(passkeys[0]["lastUsedAt"].is_string(), "{}", listed.text);

    // The counter moved on with every sign-in.
    assert_eq!(sign_in(&app, &mut device).await.status, StatusCode::OK);
}

#[tokio::test]
async fn registration_asks_for_a_discoverable_verified_credential_and_excludes_existing_ones() {
    let app = passkey_app().await;
    let token = signed_up(&app, "ex@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    let (_, first) = registration_options(&app, &token).await;
    assert_eq!(first["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        first["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(first["rp"]["id"], "localhost");
    assert!(
        first["excludeCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    assert_eq!(
        register(&app, &token, &mut device).await.status,
        StatusCode::CREATED
    );
    let (_, second) = registration_options(&app, &token).await;
    let excluded: Vec<&str> = second["excludeCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        excluded,
        [URL_SAFE_NO_PAD.encode(&device.credential_id).as_str()],
        "the user's passkey is excluded"
    );
}

#[tokio::test]
async fn a_ceremony_id_works_once() {
    let app = passkey_app().await;
    let token = signed_up(&app, "once@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(
        register(&app, &token, &mut device).await.status,
        StatusCode::CREATED
    );
    let (ceremony, public_key) = sign_in_options(&app).await;
    let first = finish_sign_in(&app, &ceremony, &device.sign_in(&public_key)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let again = finish_sign_in(&app, &ceremony, &device.sign_in(&public_key)).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    assert_eq!(again.code(), "ceremony_expired");
    assert!(again.session_cookie().is_none());

    // Registration ceremonies alike.
    let (ceremony, public_key) = registration_options(&app, &token).await;
    let mut other = Authenticator::new(ORIGIN);
    let credential = other.register(&public_key);
    let body = json!({"ceremonyId": ceremony, "credential": credential});
    let created = Req::post("/v1/passkeys", &body)
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let replayed = Req::post("/v1/passkeys", &body)
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(replayed.code(), "ceremony_expired", "{}", replayed.text);
}

#[tokio::test]
async fn a_ceremony_expires_after_five_minutes() {
    let app = passkey_app().await;
    let token = signed_up(&app, "late@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(
        register(&app, &token, &mut device).await.status,
        StatusCode::CREATED
    );
    let (ceremony, public_key) = sign_in_options(&app).await;
    app.clock
        .advance(Duration::minutes(5) + Duration::seconds(1));
    let late = finish_sign_in(&app, &ceremony, &device.sign_in(&public_key)).await;
    assert_eq!(
        late.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        late.text
    );
    assert_eq!(late.code(), "ceremony_expired");

    let (ceremony, public_key) = registration_options(&app, &token).await;
    app.clock
        .advance(Duration::minutes(5) + Duration::seconds(1));
    let mut other = Authenticator::new(ORIGIN);
    let late = Req::post(
        "/v1/passkeys",
        &json!({"ceremonyId": ceremony, "credential": other.register(&public_key)}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(late.code(), "ceremony_expired", "{}", late.text);
}

#[tokio::test]
async fn a_ceremony_from_another_origin_is_refused() {
    let app = passkey_app().await;
    let token = signed_up(&app, "origin@example.com").await;
    let mut phished = Authenticator::new("http://localhost:4000");
    let refused = register(&app, &token, &mut phished).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.code(), "passkey_invalid");

    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(
        register(&app, &token, &mut device).await.status,
        StatusCode::CREATED
    );
    device.origin = "http://evil.example:3000".to_owned();
    let refused = sign_in(&app, &mut device).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.code(), "passkey_invalid");
    assert!(refused.session_cookie().is_none());

    // Another relying party's id in the authenticator data.
    device.origin = ORIGIN.to_owned();
    device.rp_id = "example.com".to_owned();
    let refused = sign_in(&app, &mut device).await;
    assert_eq!(refused.code(), "passkey_invalid", "{}", refused.text);
}

#[tokio::test]
async fn a_credential_registered_to_anyone_is_refused_again() {
    let app = passkey_app().await;
    let ada = signed_up(&app, "ada2@example.com").await;
    let bob = signed_up(&app, "bob2@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(
        register(&app, &ada, &mut device).await.status,
        StatusCode::CREATED
    );
    let duplicate = register(&app, &bob, &mut device.clone_device()).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT, "{}", duplicate.text);
    assert_eq!(duplicate.code(), "passkey_taken");
    let again = register(&app, &ada, &mut device.clone_device()).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused() {
    let app = passkey_app().await;
    let token = signed_up(&app, "clone@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(
        register(&app, &token, &mut device).await.status,
        StatusCode::CREATED
    );
    let stale = device.clone_device();
    assert_eq!(sign_in(&app, &mut device).await.status, StatusCode::OK);
    assert_eq!(sign_in(&app, &mut device).await.status, StatusCode::OK);
    // A copy of the authenticator as it was after the first sign-in.
    let mut copy = stale.clone_device();
    copy.counter = 1;
    let (ceremony, public_key) = sign_in_options(&app).await;
    let refused = finish_sign_in(&app, &ceremony, &copy.assert_with_counter(&public_key)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.code(), "passkey_invalid");
    // The real one goes on.
    assert_eq!(sign_in(&app, &mut device).await.status, StatusCode::OK);
}

/// Signs up without a password (passkey-first) and registers `device`; the session token.
async fn passkey_first_sign_up(app: &TestApp, email: &str, device: &mut Authenticator) -> String {
    let created = Req::post(
        "/v1/sign-ups",
        &json!({"email": email, "passkey": true, "legalAccepted": true}),
    )
    .send(app)
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    // No session before the code.
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    assert!(created.session_cookie().is_none());
    let code = code_from(app, email);
    let verified = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    let token = verified.session_cookie().unwrap();
    assert_eq!(
        register(app, &token, device).await.status,
        StatusCode::CREATED
    );
    token
}

#[tokio::test]
async fn passkey_first_sign_up_needs_the_code_and_then_signs_in_with_the_passkey() {
    let app = passkey_app().await;
    let mut device = Authenticator::new(ORIGIN);
    passkey_first_sign_up(&app, "first@example.com", &mut device).await;
    let signed_in = sign_in(&app, &mut device).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(signed_in.body["user"]["email"], "first@example.com");
    // There is no password to sign in with.
    let password = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "first@example.com", "password": common::PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(password.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_sign_up_without_password_needs_passkeys_enabled() {
    let app = app_with(vec![legal_env()]).await;
    let refused = Req::post(
        "/v1/sign-ups",
        &json!({"email": "nopw@example.com", "passkey": true, "legalAccepted": true}),
    )
    .send(&app)
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body["error"]["fields"]["password"].is_string());
    let options = Req::post("/v1/passkeys/sign-in/options", &json!({}))
        .send(&app)
        .await;
    assert_eq!(options.status, StatusCode::FORBIDDEN);
    assert_eq!(options.code(), "method_disabled");
}

#[tokio::test]
async fn deleting_the_last_way_to_sign_in_is_refused() {
    let app = passkey_app().await;
    let mut device = Authenticator::new(ORIGIN);
    let token = passkey_first_sign_up(&app, "last@example.com", &mut device).await;
    let listed = Req::get("/v1/passkeys").cookie(&token).send(&app).await;
    let id = listed.body[0]["id"].as_str().unwrap().to_owned();
    let refused = Req::post("/x", &json!({}))
        .method("DELETE", &format!("/v1/passkeys/{id}"))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.code(), "last_sign_in_method");

    // With a second passkey, the first may go, and then no longer signs in.
    let mut second = Authenticator::new(ORIGIN);
    assert_eq!(
        register(&app, &token, &mut second).await.status,
        StatusCode::CREATED
    );
    let deleted = Req::post("/x", &json!({}))
        .method("DELETE", &format!("/v1/passkeys/{id}"))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let gone = sign_in(&app, &mut device).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{}", gone.text);
    assert_eq!(gone.code(), "unknown_passkey");
    assert_eq!(sign_in(&app, &mut second).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_user_with_a_password_may_delete_their_only_passkey() {
    let app = passkey_app().await;
    let token = signed_up(&app, "pw@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    let created = register(&app, &token, &mut device).await;
    let id = created.body["id"].as_str().unwrap();
    let deleted = Req::post("/x", &json!({}))
        .method("DELETE", &format!("/v1/passkeys/{id}"))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(sign_in(&app, &mut device).await.code(), "unknown_passkey");
}

#[tokio::test]
async fn passkeys_are_renamed_and_kept_to_their_owner() {
    let app = passkey_app().await;
    let ada = signed_up(&app, "ada3@example.com").await;
    let bob = signed_up(&app, "bob3@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    let created = register(&app, &ada, &mut device).await;
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/v1/passkeys/{id}");
    let renamed = Req::post("/x", &json!({"name": "Phone"}))
        .method("PATCH", &path)
        .cookie(&ada)
        .send(&app)
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Phone");
    let too_long = Req::post("/x", &json!({"name": "x".repeat(65)}))
        .method("PATCH", &path)
        .cookie(&ada)
        .send(&app)
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (method, body) in [("PATCH", json!({"name": "Mine"})), ("DELETE", json!({}))] {
        let foreign = Req::post("/x", &body)
            .method(method, &path)
            .cookie(&bob)
            .send(&app)
            .await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{method}");
    }
    let listed = Req::get("/v1/passkeys").cookie(&bob).send(&app).await;
    assert_eq!(listed.body, json!([]));
    // Signed out: nothing.
    let anonymous = Req::get("/v1/passkeys").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_users_registration_ceremony_is_refused() {
    let app = passkey_app().await;
    let ada = signed_up(&app, "ada4@example.com").await;
    let bob = signed_up(&app, "bob4@example.com").await;
    let (ceremony, public_key) = registration_options(&app, &ada).await;
    let mut device = Authenticator::new(ORIGIN);
    let refused = Req::post(
        "/v1/passkeys",
        &json!({"ceremonyId": ceremony, "credential": device.register(&public_key)}),
    )
    .cookie(&bob)
    .send(&app)
    .await;
    assert_eq!(refused.code(), "ceremony_expired", "{}", refused.text);
}

#[tokio::test]
async fn a_malformed_credential_is_refused_and_consumes_the_ceremony() {
    let app = passkey_app().await;
    let (ceremony, _) = sign_in_options(&app).await;
    let refused = finish_sign_in(&app, &ceremony, &json!({"id": "x"})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "passkey_invalid");
    let again = finish_sign_in(&app, &ceremony, &json!({"id": "x"})).await;
    assert_eq!(again.code(), "ceremony_expired");
}

#[tokio::test]
async fn ceremony_starts_are_limited_per_ip() {
    let mut env = passkey_env();
    env.rate_limits.ceremonies_per_ip = torii_server::rate_limit::Rule {
        max: 3,
        window: Duration::minutes(5),
    };
    let app = app_with(vec![env]).await;
    for _ in 0..3 {
        let options = Req::post("/v1/passkeys/sign-in/options", &json!({}))
            .send(&app)
            .await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.text);
    }
    let limited = Req::post("/v1/passkeys/sign-in/options", &json!({}))
        .send(&app)
        .await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text
    );
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn adding_or_removing_a_passkey_needs_a_recent_sign_in() {
    let app = passkey_app().await;
    let token = signed_up(&app, "recent@example.com").await;
    app.clock.advance(Duration::minutes(11));
    let options = Req::post("/v1/passkeys/registration/options", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(options.status, StatusCode::FORBIDDEN, "{}", options.text);
    assert_eq!(options.code(), "reauthentication_required");
    let removed = Req::get("/v1/passkeys/pky_any")
        .method("DELETE", "/v1/passkeys/pky_any")
        .header("origin", common::ORIGIN)
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(removed.status, StatusCode::FORBIDDEN, "{}", removed.text);
    assert_eq!(removed.code(), "reauthentication_required");

    let again = Req::post(
        "/v1/session/reauthenticate",
        &json!({"password": common::PASSWORD}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let token = again.session_cookie().expect("the renewed token");
    registration_options(&app, &token).await;
}

/// `POST /v1/session/reauthenticate/passkey/options` for the session of `token`.
async fn reauth_options(app: &TestApp, token: &str) -> (String, Value) {
    let options = Req::post("/v1/session/reauthenticate/passkey/options", &json!({}))
        .cookie(token)
        .send(app)
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.text);
    assert_eq!(
        options.headers.get("cache-control").unwrap(),
        "no-store",
        "a fresh challenge is never cached"
    );
    (
        options.body["ceremonyId"].as_str().unwrap().to_owned(),
        options.body["publicKey"].clone(),
    )
}

async fn reauthenticate_with(
    app: &TestApp,
    token: &str,
    ceremony: &str,
    credential: &Value,
) -> common::TestResponse {
    Req::post(
        "/v1/session/reauthenticate",
        &json!({"ceremonyId": ceremony, "credential": credential}),
    )
    .cookie(token)
    .send(app)
    .await
}

/// Whether the session of `token` may make a change that needs a recent sign-in (asking
/// for registration options changes nothing).
async fn is_recent(app: &TestApp, token: &str) -> bool {
    let options = Req::post("/v1/passkeys/registration/options", &json!({}))
        .cookie(token)
        .send(app)
        .await;
    match options.status {
        StatusCode::OK => true,
        StatusCode::FORBIDDEN if options.code() == "reauthentication_required" => false,
        other => panic!("unexpected {other}: {}", options.text),
    }
}

async fn sign_in_methods(app: &TestApp, token: &str) -> Value {
    let methods = Req::get("/v1/me/sign-in-methods")
        .cookie(token)
        .send(app)
        .await;
    assert_eq!(methods.status, StatusCode::OK, "{}", methods.text);
    methods.body
}

/// Asserts that an RFC 3339 `value` is `expected`, to the store's millisecond.
fn assert_time(value: &Value, expected: time::OffsetDateTime) {
    let parsed = time::OffsetDateTime::parse(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        (parsed - expected).abs() < Duration::milliseconds(1),
        "{parsed} is not {expected}"
    );
}

#[tokio::test]
async fn a_passkey_reauthenticates_the_session_and_renews_the_window() {
    let app = passkey_app().await;
    let token = signed_up(&app, "again@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(
        register(&app, &token, &mut device).await.status,
        StatusCode::CREATED
    );
    let signed_up_at = app.torii.now();
    let methods = sign_in_methods(&app, &token).await;
    assert_eq!(methods["password"], true);
    assert_eq!(methods["passkeys"], 1);
    assert_eq!(methods["oauthProviders"], json!([]));
    assert_time(
        &methods["recentSignInUntil"],
        signed_up_at + Duration::minutes(10),
    );

    app.clock.advance(Duration::minutes(11));
    assert!(!is_recent(&app, &token).await);
    let (ceremony, public_key) = reauth_options(&app, &token).await;
    // Only this user's passkey can answer, with the user verified.
    assert_eq!(public_key["userVerification"], "required");
    let allowed: Vec<&str> = public_key["allowCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, [URL_SAFE_NO_PAD.encode(&device.credential_id)]);

    let credential = device.sign_in(&public_key);
    let session_id = Req::get("/me").cookie(&token).send(&app).await.body["session"]["id"].clone();
    let renewed = reauthenticate_with(&app, &token, &ceremony, &credential).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    assert_eq!(renewed.body["user"]["email"], "again@example.com");
    // The same session goes on, under a new token.
    let token = renewed.session_cookie().expect("the renewed token");
    assert_eq!(renewed.body["session"]["id"], session_id);
    assert!(is_recent(&app, &token).await);
    let renewed_at = app.torii.now();
    assert_time(
        &sign_in_methods(&app, &token).await["recentSignInUntil"],
        renewed_at + Duration::minutes(10),
    );
    // The use is recorded as a sign-in's: the time is shown, and the counter moved on, so
    // an assertion that does not move it again is refused.
    let listed = Req::get("/v1/passkeys").cookie(&token).send(&app).await;
    assert_time(&listed.body[0]["lastUsedAt"], renewed_at);
    app.clock.advance(Duration::minutes(11));
    let (ceremony, public_key) = reauth_options(&app, &token).await;
    let replay = device.assert_with_counter(&public_key);
    let stale_counter = reauthenticate_with(&app, &token, &ceremony, &replay).await;
    assert_eq!(
        stale_counter.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stale_counter.text
    );
    assert_eq!(stale_counter.code(), "passkey_invalid");
    assert!(!is_recent(&app, &token).await);

    // The password still works, as before.
    let password = Req::post(
        "/v1/session/reauthenticate",
        &json!({"password": common::PASSWORD}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(password.status, StatusCode::OK, "{}", password.text);
    let token = password.session_cookie().expect("the renewed token");
    assert!(is_recent(&app, &token).await);
}

#[tokio::test]
async fn passkey_reauthentication_refuses_foreign_reused_expired_and_other_session_ceremonies() {
    let app = passkey_app().await;
    let ada = signed_up(&app, "ada.re@example.com").await;
    let mut ada_device = Authenticator::new(ORIGIN);
    register(&app, &ada, &mut ada_device).await;
    let bob = signed_up(&app, "bob.re@example.com").await;
    let mut bob_device = Authenticator::new(ORIGIN);
    register(&app, &bob, &mut bob_device).await;
    app.clock.advance(Duration::minutes(11));

    // Bob's passkey answering Ada's challenge: refused, Ada's session stays stale.
    let (ceremony, public_key) = reauth_options(&app, &ada).await;
    let foreign =
        reauthenticate_with(&app, &ada, &ceremony, &bob_device.sign_in(&public_key)).await;
    assert_eq!(
        foreign.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        foreign.text
    );
    assert_eq!(foreign.code(), "passkey_invalid");
    assert!(!is_recent(&app, &ada).await);
    // That ceremony was spent by the refused try.
    let spent = reauthenticate_with(&app, &ada, &ceremony, &ada_device.sign_in(&public_key)).await;
    assert_eq!(spent.code(), "ceremony_expired", "{}", spent.text);

    // Used once, never twice.
    let (ceremony, public_key) = reauth_options(&app, &ada).await;
    let first = reauthenticate_with(&app, &ada, &ceremony, &ada_device.sign_in(&public_key)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let ada = first.session_cookie().expect("the renewed token");
    let reused = reauthenticate_with(&app, &ada, &ceremony, &ada_device.sign_in(&public_key)).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.code(), "ceremony_expired");

    // Five minutes at most.
    app.clock.advance(Duration::minutes(11));
    let (ceremony, public_key) = reauth_options(&app, &ada).await;
    let credential = ada_device.sign_in(&public_key);
    app.clock
        .advance(Duration::minutes(5) + Duration::seconds(1));
    let expired = reauthenticate_with(&app, &ada, &ceremony, &credential).await;
    assert_eq!(expired.code(), "ceremony_expired", "{}", expired.text);
    assert!(!is_recent(&app, &ada).await);

    // A ceremony is bound to the session that started it, even for the same user.
    let elsewhere = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "ada.re@example.com", "password": common::PASSWORD}),
    )
    .send(&app)
    .await
    .session_cookie()
    .unwrap();
    let (ceremony, public_key) = reauth_options(&app, &elsewhere).await;
    let other_session =
        reauthenticate_with(&app, &ada, &ceremony, &ada_device.sign_in(&public_key)).await;
    assert_eq!(
        other_session.code(),
        "ceremony_expired",
        "{}",
        other_session.text
    );
    assert!(!is_recent(&app, &ada).await);

    // Signed out, nothing starts.
    let anonymous = Req::post("/v1/session/reauthenticate/passkey/options", &json!({}))
        .send(&app)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_without_passkeys_gets_no_challenge_and_a_passkey_only_user_reauthenticates() {
    let app = passkey_app().await;
    let plain = signed_up(&app, "plain@example.com").await;
    let none = Req::post("/v1/session/reauthenticate/passkey/options", &json!({}))
        .cookie(&plain)
        .send(&app)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.text);

    let mut device = Authenticator::new(ORIGIN);
    let token = passkey_first_sign_up(&app, "keyonly@example.com", &mut device).await;
    let methods = sign_in_methods(&app, &token).await;
    assert_eq!(methods["password"], false);
    assert_eq!(methods["passkeys"], 1);
    app.clock.advance(Duration::minutes(11));
    let password = Req::post(
        "/v1/session/reauthenticate",
        &json!({"password": common::PASSWORD}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(password.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (ceremony, public_key) = reauth_options(&app, &token).await;
    let renewed = reauthenticate_with(&app, &token, &ceremony, &device.sign_in(&public_key)).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let token = renewed.session_cookie().expect("the renewed token");
    assert!(is_recent(&app, &token).await);
    // Now the passkey-only user may set a password without knowing one.
    let set = Req::post(
        "/v1/me/password",
        &json!({"newPassword": "a brand new passphrase"}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(sign_in_methods(&app, &token).await["password"], true);
}

#[tokio::test]
async fn passkey_reauthentication_is_refused_where_passkeys_are_not_enabled() {
    let app = app_with(vec![common::legal_env()]).await;
    let token = signed_up(&app, "nokeys@example.com").await;
    let options = Req::post("/v1/session/reauthenticate/passkey/options", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(options.status, StatusCode::FORBIDDEN, "{}", options.text);
    assert_eq!(options.code(), "method_disabled");
    let finish = reauthenticate_with(&app, &token, "anything", &json!({"id": "x"})).await;
    assert_eq!(finish.code(), "method_disabled", "{}", finish.text);
    let malformed = Req::post("/v1/session/reauthenticate", &json!({"ceremonyId": "x"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert!(
        malformed.status.is_client_error() && malformed.status != StatusCode::FORBIDDEN,
        "{}",
        malformed.text
    );
}
