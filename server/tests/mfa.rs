//! Second factors through the real router: enrolling an authenticator app and confirming it,
//! backup codes, the `second_factor` gate after a first factor and the codes that clear it
//! (wrong, reused, expired, malformed), `setup_mfa` where second factors are required,
//! step-up for sensitive changes, limits, races, passkeys as a second factor, the secret-key
//! API. Time moves on the injected clock; codes are computed from the enrolled secret.

mod common;

use axum::http::StatusCode;
use common::authenticator::Authenticator;
use common::{ORIGIN, PASSWORD, Req, TestApp, TestResponse, app_with, legal_env, signed_up};
use serde_json::{Value, json};
use time::Duration;
use torii_server::{Clock as _, Environment};
use torii_shared::{MfaPolicy, SessionKind, SignInMethod};
use totp_rs::TOTP;

const SK: &str = "Bearer sk_test_acme";

fn env_with(policy: MfaPolicy) -> Environment {
    let mut env = legal_env();
    env.methods = vec![SignInMethod::Password, SignInMethod::Passkey];
    env.mfa.policy = policy;
    env
}

async fn mfa_app() -> TestApp {
    app_with(vec![env_with(MfaPolicy::Optional)]).await
}

fn delete(path: &str) -> Req {
    Req::post(path, &json!({})).method("DELETE", path)
}

async fn factors(app: &TestApp, token: &str) -> Value {
    let found = Req::get("/v1/me/mfa").cookie(token).send(app).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    found.body
}

/// Starts an enrolment; the app's view of the authenticator.
async fn enroll(app: &TestApp, token: &str) -> TOTP {
    let enrolled = Req::post("/v1/me/mfa/totp", &json!({}))
        .cookie(token)
        .send(app)
        .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.text);
    let uri = enrolled.body["otpauthUri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Acme:"), "{uri}");
    assert!(
        enrolled.body["qrSvg"].as_str().unwrap().contains("<svg"),
        "{}",
        enrolled.text
    );
    let totp = TOTP::from_url(uri).unwrap();
    assert_eq!(
        totp.get_secret_base32(),
        enrolled.body["secret"].as_str().unwrap()
    );
    totp
}

/// The code the app shows now (at the server's clock).
fn code_now(app: &TestApp, totp: &TOTP) -> String {
    totp.generate(u64::try_from(app.clock.now().unix_timestamp()).unwrap())
}

async fn confirm(app: &TestApp, token: &str, code: &str) -> TestResponse {
    Req::post("/v1/me/mfa/totp/confirm", &json!({"code": code}))
        .cookie(token)
        .send(app)
        .await
}

/// A user with a confirmed authenticator: their session token, the authenticator and the
/// backup codes shown at confirmation.
async fn enrolled_user(app: &TestApp, email: &str) -> (String, TOTP, Vec<String>) {
    let token = signed_up(app, email).await;
    let totp = enroll(app, &token).await;
    let confirmed = confirm(app, &token, &code_now(app, &totp)).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    let codes = confirmed.body["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (token, totp, codes)
}

async fn password_sign_in(app: &TestApp, email: &str) -> TestResponse {
    Req::post(
        "/v1/sign-in/password",
        &json!({"email": email, "password": PASSWORD}),
    )
    .send(app)
    .await
}

async fn second_factor(app: &TestApp, token: &str, method: &str, code: &str) -> TestResponse {
    Req::post(
        "/v1/session/second-factor",
        &json!({"method": method, "code": code}),
    )
    .cookie(token)
    .send(app)
    .await
}

fn assert_pending_on(session: &Value, key: &str) {
    assert_eq!(session["status"], "pending", "{session}");
    assert_eq!(session["gates"], json!([{"key": key}]), "{session}");
    assert_eq!(session["currentGate"], json!({"key": key}), "{session}");
}

async fn me(app: &TestApp, token: &str) -> Value {
    Req::get("/me").cookie(token).send(app).await.body
}

#[tokio::test]
async fn enrolment_is_confirmed_by_a_first_code_and_shows_backup_codes_once() {
    let app = mfa_app().await;
    let environment = Req::get("/v1/environment").send(&app).await;
    assert_eq!(environment.body["mfa"], "optional");
    let token = signed_up(&app, "ada@example.com").await;
    assert_eq!(
        factors(&app, &token).await,
        json!({"totp": false, "backupCodesLeft": 0, "passkeys": 0})
    );
    let totp = enroll(&app, &token).await;
    // Not confirmed yet: nothing counts.
    assert_eq!(factors(&app, &token).await["totp"], false);

    let malformed = confirm(&app, &token, "12ab56").await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.code(), "validation_failed", "{}", malformed.text);
    assert!(malformed.body["error"]["fields"]["code"].is_string());
    let short = confirm(&app, &token, "12345").await;
    assert_eq!(short.code(), "validation_failed", "{}", short.text);
    let right = code_now(&app, &totp);
    let wrong = common::wrong_code(&right);
    let refused = confirm(&app, &token, &wrong).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "invalid_code", "{}", refused.text);

    let confirmed = confirm(&app, &token, &right).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert_eq!(
        confirmed.body["factors"],
        json!({"totp": true, "backupCodesLeft": 10, "passkeys": 0})
    );
    let codes = confirmed.body["backupCodes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.as_str().unwrap().len() == 11 && c.as_str().unwrap().contains('-'))
    );
    assert_eq!(
        factors(&app, &token).await,
        json!({"totp": true, "backupCodesLeft": 10, "passkeys": 0})
    );
    let notice = app.outbox.last_to("ada@example.com").unwrap();
    assert!(
        notice
            .subject
            .contains("two-step verification was turned on"),
        "{}",
        notice.subject
    );
    for code in codes {
        assert!(
            !notice.text.contains(code.as_str().unwrap()),
            "codes are never emailed"
        );
    }

    // Enrolling again with a confirmed authenticator is refused; so is confirming again.
    let again = Req::post("/v1/me/mfa/totp", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "mfa_already_enrolled", "{}", again.text);
    let reconfirm = confirm(&app, &token, &code_now(&app, &totp)).await;
    assert_eq!(
        reconfirm.code(),
        "mfa_already_enrolled",
        "{}",
        reconfirm.text
    );
}

#[tokio::test]
async fn confirming_without_enrolling_is_refused_and_a_new_enrolment_replaces_an_unconfirmed_one() {
    let app = mfa_app().await;
    let token = signed_up(&app, "bob@example.com").await;
    let refused = confirm(&app, &token, "123456").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(refused.code(), "mfa_not_enrolled", "{}", refused.text);

    let first = enroll(&app, &token).await;
    let second = enroll(&app, &token).await;
    assert_ne!(first.get_secret_base32(), second.get_secret_base32());
    // Only the newer secret confirms.
    let old = confirm(&app, &token, &code_now(&app, &first)).await;
    assert_eq!(old.code(), "invalid_code", "{}", old.text);
    let new = confirm(&app, &token, &code_now(&app, &second)).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
}

#[tokio::test]
async fn a_password_sign_in_is_pending_until_an_authenticator_code_clears_it() {
    let app = mfa_app().await;
    let (_, totp, _) = enrolled_user(&app, "cy@example.com").await;
    let signed_in = password_sign_in(&app, "cy@example.com").await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_pending_on(&signed_in.body["session"], "second_factor");
    let token = signed_in.session_cookie().unwrap();
    assert_pending_on(&me(&app, &token).await["session"], "second_factor");
    // Protected routes refuse the pending session, naming the gate.
    let protected = Req::get("/v1/sessions").cookie(&token).send(&app).await;
    assert_eq!(protected.status, StatusCode::FORBIDDEN);
    assert_eq!(protected.code(), "session_pending");
    assert_eq!(
        protected.body["error"]["currentGate"]["key"],
        "second_factor"
    );
    // The second step may read which factors there are, but not enrol or change them.
    assert_eq!(factors(&app, &token).await["totp"], true);
    let enrol = Req::post("/v1/me/mfa/totp", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(enrol.code(), "session_pending", "{}", enrol.text);
    // Nor clear the other gates: the sign-in is not finished.
    for path in ["/v1/legal/accept", "/v1/email-verification/send"] {
        let other = Req::post(path, &json!({})).cookie(&token).send(&app).await;
        assert_eq!(
            other.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            other.text
        );
        assert_eq!(other.code(), "session_pending", "{path}");
    }

    let malformed = second_factor(&app, &token, "totp", "1234567").await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.code(), "validation_failed", "{}", malformed.text);
    let wrong = second_factor(
        &app,
        &token,
        "totp",
        &common::wrong_code(&code_now(&app, &totp)),
    )
    .await;
    assert_eq!(wrong.code(), "invalid_code", "{}", wrong.text);
    // The code that confirmed the authenticator was of this very step: used.
    let reused = second_factor(&app, &token, "totp", &code_now(&app, &totp)).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.code(), "code_reused", "{}", reused.text);
    // Two steps later the old code is expired, not merely wrong.
    let old = code_now(&app, &totp);
    app.clock.advance(Duration::seconds(60));
    let expired = second_factor(&app, &token, "totp", &old).await;
    assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(expired.code(), "code_expired", "{}", expired.text);
    assert_pending_on(&me(&app, &token).await["session"], "second_factor");

    let cleared = second_factor(&app, &token, "totp", &code_now(&app, &totp)).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.body["session"]["status"], "active");
    assert_eq!(cleared.body["session"]["gates"], json!([]));
    assert_eq!(cleared.body["session"]["currentGate"], Value::Null);
    // The session gets a new token: the one handed out before the second step is dead.
    let renewed = cleared.session_cookie().expect("a new session cookie");
    assert_ne!(renewed, token);
    assert_eq!(me(&app, &token).await["session"], Value::Null);
    assert_eq!(me(&app, &renewed).await["session"]["status"], "active");
    assert_eq!(
        me(&app, &renewed).await["session"]["id"],
        signed_in.body["session"]["id"]
    );
    let protected = Req::get("/v1/sessions").cookie(&renewed).send(&app).await;
    assert_eq!(protected.status, StatusCode::OK, "{}", protected.text);

    // Verifying clears the gate of that session only. A client holding its token itself
    // gets the new one in the body.
    let other = password_sign_in(&app, "cy@example.com").await;
    assert_pending_on(&other.body["session"], "second_factor");
    let bearer = other.session_cookie().unwrap();
    app.clock.advance(Duration::seconds(30));
    let cleared = Req::post(
        "/v1/session/second-factor",
        &json!({"method": "totp", "code": code_now(&app, &totp)}),
    )
    .bearer(&bearer)
    .send(&app)
    .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert!(cleared.session_cookie().is_none());
    let token = cleared.body["token"]
        .as_str()
        .expect("the new token")
        .to_owned();
    let found = Req::get("/me").bearer(&token).send(&app).await;
    assert_eq!(found.body["session"]["status"], "active");
}

#[tokio::test]
async fn backup_codes_work_once_are_counted_and_regenerating_voids_the_old_set() {
    let app = mfa_app().await;
    let (_, _, codes) = enrolled_user(&app, "dee@example.com").await;
    let token = password_sign_in(&app, "dee@example.com")
        .await
        .session_cookie()
        .unwrap();
    let malformed = second_factor(&app, &token, "backup_code", "abc").await;
    assert_eq!(malformed.code(), "validation_failed", "{}", malformed.text);
    // Case, spaces and the dash do not matter.
    let typed = format!(" {} ", codes[0].to_uppercase().replace('-', " "));
    let used = second_factor(&app, &token, "backup_code", &typed).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.text);
    assert_eq!(used.body["session"]["status"], "active");
    let token = used.session_cookie().unwrap();
    let notice = app.outbox.last_to("dee@example.com").unwrap();
    assert!(
        notice.subject.contains("a backup code was used"),
        "{}",
        notice.subject
    );
    assert!(notice.text.contains("Codes left: 9"), "{}", notice.text);
    assert_eq!(factors(&app, &token).await["backupCodesLeft"], 9);

    let again = password_sign_in(&app, "dee@example.com")
        .await
        .session_cookie()
        .unwrap();
    let twice = second_factor(&app, &again, "backup_code", &codes[0]).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(twice.code(), "invalid_code", "{}", twice.text);
    assert_pending_on(&me(&app, &again).await["session"], "second_factor");

    // New codes (the session just gave its second factor): the unused old ones stop working.
    let regenerated = Req::post("/v1/me/mfa/backup-codes", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(
        regenerated.status,
        StatusCode::CREATED,
        "{}",
        regenerated.text
    );
    let notice = app.outbox.last_to("dee@example.com").unwrap();
    assert!(
        notice.subject.contains("new backup codes"),
        "{}",
        notice.subject
    );
    let new_codes = regenerated.body["codes"].as_array().unwrap();
    assert_eq!(new_codes.len(), 10);
    assert_eq!(factors(&app, &token).await["backupCodesLeft"], 10);
    let old = second_factor(&app, &again, "backup_code", &codes[1]).await;
    assert_eq!(old.code(), "invalid_code", "{}", old.text);
    let new = second_factor(&app, &again, "backup_code", new_codes[0].as_str().unwrap()).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    assert_eq!(factors(&app, &token).await["backupCodesLeft"], 9);
}

#[tokio::test]
async fn required_second_factors_send_a_new_user_through_setup_and_keep_the_last_one() {
    let app = app_with(vec![env_with(MfaPolicy::Required)]).await;
    let environment = Req::get("/v1/environment").send(&app).await;
    assert_eq!(environment.body["mfa"], "required");
    let token = signed_up(&app, "eve@example.com").await;
    assert_pending_on(&me(&app, &token).await["session"], "setup_mfa");
    let protected = Req::get("/v1/sessions").cookie(&token).send(&app).await;
    assert_eq!(protected.code(), "session_pending");
    assert_eq!(protected.body["error"]["currentGate"]["key"], "setup_mfa");
    // The second step is not this session's to take.
    let step = second_factor(&app, &token, "totp", "123456").await;
    assert_eq!(step.code(), "session_pending", "{}", step.text);

    let totp = enroll(&app, &token).await;
    let confirmed = confirm(&app, &token, &code_now(&app, &totp)).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert_eq!(confirmed.body["backupCodes"].as_array().unwrap().len(), 10);
    assert_eq!(me(&app, &token).await["session"]["status"], "active");

    // The last second factor stays.
    let removed = delete("/v1/me/mfa/totp").cookie(&token).send(&app).await;
    assert_eq!(removed.status, StatusCode::CONFLICT);
    assert_eq!(removed.code(), "mfa_required", "{}", removed.text);

    // Signing in again asks for it.
    app.clock.advance(Duration::seconds(30));
    let again = password_sign_in(&app, "eve@example.com").await;
    assert_pending_on(&again.body["session"], "second_factor");

    // A passkey is a second factor too: with one, the authenticator may go, and then the
    // passkey is the last one.
    let mut device = Authenticator::new(ORIGIN);
    register_passkey(&app, &token, &mut device).await;
    let removed = delete("/v1/me/mfa/totp").cookie(&token).send(&app).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let passkeys = Req::get("/v1/passkeys").cookie(&token).send(&app).await;
    let id = passkeys.body[0]["id"].as_str().unwrap().to_owned();
    let last = delete(&format!("/v1/passkeys/{id}"))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert_eq!(last.code(), "mfa_required", "{}", last.text);
    // Signing in with a password now asks for the passkey.
    let again = password_sign_in(&app, "eve@example.com").await;
    assert_pending_on(&again.body["session"], "second_factor");
}

#[tokio::test]
async fn sensitive_changes_need_a_recent_second_factor() {
    let app = mfa_app().await;
    let (token, totp, _) = enrolled_user(&app, "fay@example.com").await;
    app.clock.advance(Duration::minutes(11));
    let change = |current: &str| json!({"currentPassword": current, "newPassword": "a brand new passphrase 2"});
    // The right password is a fresh first factor, but the second factor is stale.
    let refused = Req::post("/v1/me/password", &change(PASSWORD))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "second_factor_required", "{}", refused.text);
    // Removing the authenticator: first the stale sign-in, then the stale second factor.
    let removal = delete("/v1/me/mfa/totp").cookie(&token).send(&app).await;
    assert_eq!(
        removal.code(),
        "reauthentication_required",
        "{}",
        removal.text
    );
    let password = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(password.status, StatusCode::OK, "{}", password.text);
    let token = password.session_cookie().unwrap_or(token);
    let removal = delete("/v1/me/mfa/totp").cookie(&token).send(&app).await;
    assert_eq!(removal.status, StatusCode::FORBIDDEN);
    assert_eq!(removal.code(), "second_factor_required", "{}", removal.text);
    // A wrong code re-authenticates nothing.
    let wrong = Req::post(
        "/v1/session/reauthenticate",
        &json!({"method": "totp", "code": common::wrong_code(&code_now(&app, &totp))}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(wrong.code(), "invalid_code", "{}", wrong.text);
    let code = Req::post(
        "/v1/session/reauthenticate",
        &json!({"method": "totp", "code": code_now(&app, &totp)}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(code.status, StatusCode::OK, "{}", code.text);
    assert_eq!(code.body["session"]["status"], "active");
    let changed = Req::post("/v1/me/password", &change(PASSWORD))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let removed = delete("/v1/me/mfa/totp").cookie(&token).send(&app).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let notice = app.outbox.last_to("fay@example.com").unwrap();
    assert!(notice.subject.contains("turned off"), "{}", notice.subject);
    assert_eq!(
        factors(&app, &token).await,
        json!({"totp": false, "backupCodesLeft": 0, "passkeys": 0})
    );
    // Without second factors, nothing more is asked.
    let again = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "fay@example.com", "password": "a brand new passphrase 2"}),
    )
    .send(&app)
    .await;
    assert_eq!(again.body["session"]["status"], "active", "{}", again.text);
}

#[tokio::test]
async fn guessing_is_limited_with_retry_after() {
    let app = mfa_app().await;
    let (_, totp, _) = enrolled_user(&app, "gus@example.com").await;
    let token = password_sign_in(&app, "gus@example.com")
        .await
        .session_cookie()
        .unwrap();
    let wrong = common::wrong_code(&code_now(&app, &totp));
    let mut limited = None;
    for attempt in 0..12 {
        let answer = second_factor(&app, &token, "totp", &wrong).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((attempt, answer));
            break;
        }
        assert_eq!(answer.code(), "invalid_code", "{}", answer.text);
    }
    let (attempt, answer) = limited.expect("guessing is limited");
    assert!(attempt <= 10, "limited after {attempt} wrong codes");
    assert_eq!(answer.code(), "rate_limited");
    let retry_after: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    // While limited, even the right code is not judged.
    app.clock.advance(Duration::seconds(30));
    let right = second_factor(&app, &token, "totp", &code_now(&app, &totp)).await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        right.text
    );
    assert_pending_on(&me(&app, &token).await["session"], "second_factor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_backup_code_or_one_time_step_clears_one_session_of_two_racing() {
    let app = mfa_app().await;
    let (_, totp, codes) = enrolled_user(&app, "hal@example.com").await;
    let pending = || async {
        password_sign_in(&app, "hal@example.com")
            .await
            .session_cookie()
            .unwrap()
    };
    let (a, b) = (pending().await, pending().await);
    let (first, second) = tokio::join!(
        second_factor(&app, &a, "backup_code", &codes[3]),
        second_factor(&app, &b, "backup_code", &codes[3]),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
        "{} / {}",
        first.text,
        second.text
    );

    app.clock.advance(Duration::seconds(30));
    let (c, d) = (pending().await, pending().await);
    let code = code_now(&app, &totp);
    let (first, second) = tokio::join!(
        second_factor(&app, &c, "totp", &code),
        second_factor(&app, &d, "totp", &code),
    );
    let mut answers = [
        (first.status, first.code().to_owned()),
        (second.status, second.code().to_owned()),
    ];
    answers.sort();
    assert_eq!(
        answers,
        [
            (StatusCode::OK, String::new()),
            (StatusCode::UNPROCESSABLE_ENTITY, "code_reused".to_owned())
        ],
        "{} / {}",
        first.text,
        second.text
    );
}

async fn register_passkey(app: &TestApp, token: &str, device: &mut Authenticator) {
    let options = Req::post("/v1/passkeys/registration/options", &json!({}))
        .cookie(token)
        .send(app)
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.text);
    let credential = device.register(&options.body["publicKey"]);
    let registered = Req::post(
        "/v1/passkeys",
        &json!({"ceremonyId": options.body["ceremonyId"], "credential": credential}),
    )
    .cookie(token)
    .send(app)
    .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );
}

#[tokio::test]
async fn a_passkey_sign_in_skips_the_second_step_and_a_passkey_can_be_the_second_step() {
    let app = mfa_app().await;
    let token = signed_up(&app, "ivy@example.com").await;
    let mut device = Authenticator::new(ORIGIN);
    register_passkey(&app, &token, &mut device).await;
    let totp = enroll(&app, &token).await;
    let confirmed = confirm(&app, &token, &code_now(&app, &totp)).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert_eq!(confirmed.body["factors"]["passkeys"], 1);

    // A passkey with user verification is both factors.
    let options = Req::post("/v1/passkeys/sign-in/options", &json!({}))
        .send(&app)
        .await;
    let credential = device.sign_in(&options.body["publicKey"]);
    let signed_in = Req::post(
        "/v1/passkeys/sign-in",
        &json!({"ceremonyId": options.body["ceremonyId"], "credential": credential}),
    )
    .send(&app)
    .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(signed_in.body["session"]["status"], "active");
    assert_eq!(signed_in.body["session"]["gates"], json!([]));

    // After a password, the passkey answers the second step.
    let pending = password_sign_in(&app, "ivy@example.com")
        .await
        .session_cookie()
        .unwrap();
    let options = Req::post("/v1/session/second-factor/passkey/options", &json!({}))
        .cookie(&pending)
        .send(&app)
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.text);
    let credential = device.sign_in(&options.body["publicKey"]);
    // Another session cannot use this session's challenge.
    let elsewhere = password_sign_in(&app, "ivy@example.com")
        .await
        .session_cookie()
        .unwrap();
    let foreign = Req::post(
        "/v1/session/second-factor/passkey",
        &json!({"ceremonyId": options.body["ceremonyId"], "credential": credential}),
    )
    .cookie(&elsewhere)
    .send(&app)
    .await;
    assert_eq!(foreign.code(), "ceremony_expired", "{}", foreign.text);
    assert_pending_on(&me(&app, &elsewhere).await["session"], "second_factor");

    let options = Req::post("/v1/session/second-factor/passkey/options", &json!({}))
        .cookie(&pending)
        .send(&app)
        .await;
    let credential = device.sign_in(&options.body["publicKey"]);
    let cleared = Req::post(
        "/v1/session/second-factor/passkey",
        &json!({"ceremonyId": options.body["ceremonyId"], "credential": credential}),
    )
    .cookie(&pending)
    .send(&app)
    .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.body["session"]["status"], "active");
}

#[tokio::test]
async fn the_secret_key_api_lists_and_resets_a_users_second_factors() {
    let app = mfa_app().await;
    enrolled_user(&app, "jo@example.com").await;
    let user_id = password_sign_in(&app, "jo@example.com").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/admin/users/{user_id}/mfa");
    let listed = Req::get(&path).header("authorization", SK).send(&app).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(
        listed.body,
        json!({"totp": true, "backupCodesLeft": 10, "passkeys": 0})
    );
    let anonymous = Req::get(&path).send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let unknown = Req::get("/v1/admin/users/usr_nobody/mfa")
        .header("authorization", SK)
        .send(&app)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let reset = delete(&path).header("authorization", SK).send(&app).await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.text);
    let notice = app.outbox.last_to("jo@example.com").unwrap();
    assert!(notice.text.contains("administrators"), "{}", notice.text);
    let listed = Req::get(&path).header("authorization", SK).send(&app).await;
    assert_eq!(
        listed.body,
        json!({"totp": false, "backupCodesLeft": 0, "passkeys": 0})
    );
    let signed_in = password_sign_in(&app, "jo@example.com").await;
    assert_eq!(signed_in.body["session"]["status"], "active");
}

#[tokio::test]
async fn a_jwt_session_gets_a_new_token_when_its_second_factor_clears_the_gate() {
    let mut env = env_with(MfaPolicy::Optional);
    env.session.kind = SessionKind::Jwt;
    let app = app_with(vec![env]).await;
    let (_, totp, _) = enrolled_user(&app, "kim@example.com").await;
    app.clock.advance(Duration::seconds(30));
    let signed_in = password_sign_in(&app, "kim@example.com").await;
    assert_pending_on(&signed_in.body["session"], "second_factor");
    let token = signed_in.session_cookie().unwrap();
    let cleared = second_factor(&app, &token, "totp", &code_now(&app, &totp)).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.body["session"]["status"], "active");
    let renewed = cleared
        .session_cookie()
        .expect("the renewed refresh session");
    assert_eq!(
        cleared.body["token"].as_str().unwrap().matches('.').count(),
        2,
        "a JWT with the cleared state"
    );
    assert_ne!(renewed, token);
    assert_eq!(me(&app, &renewed).await["session"]["status"], "active");
}

#[tokio::test]
async fn second_factors_can_be_turned_off() {
    let app = app_with(vec![env_with(MfaPolicy::Off)]).await;
    assert_eq!(
        Req::get("/v1/environment").send(&app).await.body["mfa"],
        "off"
    );
    let token = signed_up(&app, "lee@example.com").await;
    let refused = Req::post("/v1/me/mfa/totp", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "method_disabled", "{}", refused.text);
}

#[tokio::test]
async fn authenticator_secrets_move_to_a_new_server_key_during_its_rotation() {
    let app = mfa_app().await;
    let (_, totp, _) = enrolled_user(&app, "max@example.com").await;
    let node = |current: [u8; 32], previous: Option<[u8; 32]>| {
        let mut builder = torii_server::Torii::builder()
            .shared_store(app.torii.store_arc())
            .mailer(app.outbox.clone())
            .clock(app.clock.clone())
            .public_url(ORIGIN.parse().unwrap())
            .hash_parallelism(2)
            .environment(env_with(MfaPolicy::Optional))
            .secret_key(torii_server::secret_key::ServerKey::from_bytes(current));
        if let Some(previous) = previous {
            builder = builder
                .previous_secret_key(torii_server::secret_key::ServerKey::from_bytes(previous));
        }
        builder.build()
    };
    // Restarted with a new key and the old one as previous: the secret is sealed again.
    assert_eq!(
        common::test_server_key(),
        torii_server::secret_key::ServerKey::from_bytes([7; 32])
    );
    let rotating = node([9; 32], Some([7; 32])).await.unwrap();
    drop(rotating);
    // Then the old key is gone, and the authenticator still works.
    let mut rotated = TestApp::from_parts(node([9; 32], None).await.unwrap(), app.outbox.clone());
    rotated.clock = app.clock.clone();
    app.clock.advance(Duration::seconds(30));
    let token = password_sign_in(&rotated, "max@example.com")
        .await
        .session_cookie()
        .unwrap();
    let cleared = second_factor(&rotated, &token, "totp", &code_now(&rotated, &totp)).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
}

async fn link_sign_in(app: &TestApp, email: &str) -> TestResponse {
    let requested = Req::post("/v1/magic-links", &json!({"email": email}))
        .send(app)
        .await;
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{}", requested.text);
    let message = app.outbox.last_to(email).expect("a link was sent");
    let token = message
        .text
        .split_whitespace()
        .find_map(|w| w.split("/v1/magic-links/verify?token=").nth(1))
        .and_then(|rest| rest.split('&').next())
        .expect("a link in the text part")
        .to_owned();
    Req::post("/v1/magic-links/verify", &json!({"token": token}))
        .send(app)
        .await
}

#[tokio::test]
async fn the_environment_says_after_which_first_factors_the_second_is_asked() {
    let links = |first_factors: Option<Vec<torii_server::FirstFactor>>| {
        let mut env = env_with(MfaPolicy::Optional);
        env.methods.push(SignInMethod::MagicLink);
        if let Some(first_factors) = first_factors {
            env.mfa.first_factors = first_factors;
        }
        env
    };
    // By default a sign-in link is a first factor like a password.
    let app = app_with(vec![links(None)]).await;
    enrolled_user(&app, "nia@example.com").await;
    let linked = link_sign_in(&app, "nia@example.com").await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    assert_pending_on(&linked.body["session"], "second_factor");

    // An environment may ask only after a password.
    let app = app_with(vec![links(Some(vec![torii_server::FirstFactor::Password]))]).await;
    enrolled_user(&app, "oli@example.com").await;
    let linked = link_sign_in(&app, "oli@example.com").await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    assert_eq!(linked.body["session"]["status"], "active");
    let password = password_sign_in(&app, "oli@example.com").await;
    assert_pending_on(&password.body["session"], "second_factor");
}
