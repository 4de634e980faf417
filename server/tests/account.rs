//! The signed-in user's account through the real router: the sessions list and revocation,
//! re-authentication and the 10-minute rule, name, password and email changes.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};
use time::Duration;
use torii_server::Environment;
use torii_shared::SessionKind;

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                            Chrome/131.0.0.0 Safari/537.36";
const FIREFOX_MAC: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0";
const NEW_PASSWORD: &str = "a brand new passphrase";

fn delete(path: &str) -> Req {
    Req::post(path, &json!({})).method("DELETE", path)
}

fn patch(path: &str, body: &Value) -> Req {
    Req::post(path, body).method("PATCH", path)
}

/// Signs the user in with the password from another device; its session token.
async fn sign_in_from(app: &TestApp, email: &str, password: &str, user_agent: &str) -> String {
    let response = Req::post(
        "/v1/sign-in/password",
        &json!({"email": email, "password": password}),
    )
    .header("user-agent", user_agent)
    .send(app)
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.session_cookie().unwrap()
}

async fn session_id(app: &TestApp, token: &str) -> String {
    let me = Req::get("/me").cookie(token).send(app).await;
    me.body["session"]["id"].as_str().unwrap().to_owned()
}

async fn is_signed_in(app: &TestApp, token: &str) -> bool {
    let me = Req::get("/me").cookie(token).send(app).await;
    !me.body["user"].is_null()
}

#[tokio::test]
async fn the_sessions_list_shows_each_device_and_marks_the_current_one() {
    let app = app().await;
    let first = signed_up(&app, "list@example.com").await;
    let first_id = session_id(&app, &first).await;
    app.clock.advance(Duration::minutes(5));
    let chrome = sign_in_from(&app, "list@example.com", PASSWORD, CHROME_LINUX).await;
    app.clock.advance(Duration::minutes(5));
    let firefox = sign_in_from(&app, "list@example.com", PASSWORD, FIREFOX_MAC).await;
    let firefox_id = session_id(&app, &firefox).await;
    app.clock.advance(Duration::minutes(1));

    // This request marks the Chrome session active now, so it comes first.
    let listed = Req::get("/v1/sessions").cookie(&chrome).send(&app).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.headers["cache-control"], "no-store");
    let sessions = listed.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    // Most recently active first.
    assert_eq!(sessions[0]["device"], "Chrome on Linux");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[1]["id"], firefox_id);
    assert_eq!(sessions[1]["device"], "Firefox on macOS");
    assert_eq!(sessions[1]["browser"], "Firefox");
    assert_eq!(sessions[1]["os"], "macOS");
    assert_eq!(sessions[1]["current"], false);
    assert_eq!(sessions[2]["id"], first_id);
    assert_eq!(sessions[2]["device"], "Unknown device");
    for session in sessions {
        assert!(session["createdAt"].is_string() && session["lastActiveAt"].is_string());
        assert!(session.get("ip").is_some());
        assert!(session.get("tokenHash").is_none(), "{session}");
    }
    assert_eq!(
        sessions
            .iter()
            .filter(|s| s["current"] == json!(true))
            .count(),
        1
    );
}

#[tokio::test]
async fn the_sessions_list_leaves_out_other_users_and_dead_sessions() {
    let app = app().await;
    let mine = signed_up(&app, "mine@example.com").await;
    signed_up(&app, "theirs@example.com").await;
    let listed = Req::get("/v1/sessions").cookie(&mine).send(&app).await;
    assert_eq!(listed.body["sessions"].as_array().unwrap().len(), 1);

    // A session idle past the timeout is over, even while its row is still there.
    let idle = sign_in_from(&app, "mine@example.com", PASSWORD, CHROME_LINUX).await;
    let idle_id = session_id(&app, &idle).await;
    app.clock.advance(Duration::days(6));
    let _ = Req::get("/me").cookie(&mine).send(&app).await;
    app.clock.advance(Duration::days(2));
    let listed = Req::get("/v1/sessions").cookie(&mine).send(&app).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let ids: Vec<&Value> = listed.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert!(!ids.contains(&&json!(idle_id)), "{ids:?}");
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn account_routes_need_an_active_session() {
    let app = app().await;
    for request in [
        Req::get("/v1/sessions"),
        delete("/v1/sessions"),
        delete("/v1/sessions/ses_x"),
        patch("/v1/me", &json!({"name": "X"})),
        Req::post(
            "/v1/me/password",
            &json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
        ),
        Req::post("/v1/me/email", &json!({"email": "x@example.com"})),
        Req::post("/v1/me/email/verify", &json!({"code": "123456"})),
        Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD})),
    ] {
        let response = request.cookie("not-a-session").send(&app).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.text
        );
        assert_eq!(response.code(), "unauthenticated");
    }
}

#[tokio::test]
async fn revoking_a_session_ends_it_on_its_next_request() {
    let app = app().await;
    let here = signed_up(&app, "revoke@example.com").await;
    let there = sign_in_from(&app, "revoke@example.com", PASSWORD, FIREFOX_MAC).await;
    let there_id = session_id(&app, &there).await;

    let revoked = delete(&format!("/v1/sessions/{there_id}"))
        .cookie(&here)
        .send(&app)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    assert!(
        revoked.headers.get("set-cookie").is_none(),
        "another session's revocation leaves this cookie alone"
    );
    assert!(!is_signed_in(&app, &there).await);
    assert!(is_signed_in(&app, &here).await);
    let refused = Req::get("/v1/sessions").cookie(&there).send(&app).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let again = delete(&format!("/v1/sessions/{there_id}"))
        .cookie(&here)
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_users_session_id_is_not_found_and_stays_alive() {
    let app = app().await;
    let mine = signed_up(&app, "me@example.com").await;
    let theirs = signed_up(&app, "them@example.com").await;
    let their_id = session_id(&app, &theirs).await;

    let refused = delete(&format!("/v1/sessions/{their_id}"))
        .cookie(&mine)
        .send(&app)
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    assert_eq!(refused.code(), "not_found");
    let unknown = delete("/v1/sessions/ses_does_not_exist")
        .cookie(&mine)
        .send(&app)
        .await;
    assert_eq!(unknown.status, refused.status);
    assert_eq!(
        unknown.body, refused.body,
        "indistinguishable from an unknown id"
    );
    assert!(is_signed_in(&app, &theirs).await);
}

#[tokio::test]
async fn revoking_the_current_session_by_id_signs_out() {
    let app = app().await;
    let token = signed_up(&app, "self@example.com").await;
    let id = session_id(&app, &token).await;
    let revoked = delete(&format!("/v1/sessions/{id}"))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert!(
        revoked.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(!is_signed_in(&app, &token).await);
}

#[tokio::test]
async fn revoking_the_others_leaves_the_current_session_alive() {
    let app = app().await;
    let here = signed_up(&app, "others@example.com").await;
    let a = sign_in_from(&app, "others@example.com", PASSWORD, FIREFOX_MAC).await;
    let b = sign_in_from(&app, "others@example.com", PASSWORD, CHROME_LINUX).await;
    let bystander = signed_up(&app, "bystander@example.com").await;

    let revoked = delete("/v1/sessions").cookie(&here).send(&app).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body, json!({"revoked": 2}));
    assert!(is_signed_in(&app, &here).await);
    assert!(!is_signed_in(&app, &a).await);
    assert!(!is_signed_in(&app, &b).await);
    assert!(is_signed_in(&app, &bystander).await);

    let listed = Req::get("/v1/sessions").cookie(&here).send(&app).await;
    assert_eq!(listed.body["sessions"].as_array().unwrap().len(), 1);
    let again = delete("/v1/sessions").cookie(&here).send(&app).await;
    assert_eq!(again.body, json!({"revoked": 0}));
}

#[tokio::test]
async fn the_name_changes_and_is_validated() {
    let app = app().await;
    let token = signed_up(&app, "name@example.com").await;
    let changed = patch("/v1/me", &json!({"name": "  Grace Hopper "}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["user"]["name"], "Grace Hopper");
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"]["name"], "Grace Hopper");

    let too_long = patch("/v1/me", &json!({"name": "x".repeat(101)}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body["error"]["fields"]["name"].is_string());

    let cleared = patch("/v1/me", &json!({"name": ""}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(cleared.body["user"]["name"], Value::Null);
    let untouched = patch("/v1/me", &json!({})).cookie(&token).send(&app).await;
    assert_eq!(untouched.status, StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_needs_the_current_password() {
    let app = app().await;
    let token = signed_up(&app, "pw@example.com").await;
    let missing = Req::post("/v1/me/password", &json!({"newPassword": NEW_PASSWORD}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body["error"]["fields"]["currentPassword"].is_string());

    let wrong = Req::post(
        "/v1/me/password",
        &json!({"currentPassword": "not the password", "newPassword": NEW_PASSWORD}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(
        wrong.body["error"]["fields"]["currentPassword"],
        "That password is not right."
    );

    let short = Req::post(
        "/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": "short"}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body["error"]["fields"]["newPassword"].is_string());

    // Long after the sign-in: the current password is the proof, no 403.
    app.clock.advance(Duration::hours(2));
    let changed = Req::post(
        "/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body, json!({"revokedSessions": 0}));

    let old = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "pw@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    sign_in_from(&app, "pw@example.com", NEW_PASSWORD, CHROME_LINUX).await;
    assert!(is_signed_in(&app, &token).await);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_when_asked() {
    let app = app().await;
    let here = signed_up(&app, "pwout@example.com").await;
    let kept = sign_in_from(&app, "pwout@example.com", PASSWORD, FIREFOX_MAC).await;
    let keep = Req::post(
        "/v1/me/password",
        &json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD,
                "signOutOtherSessions": false}),
    )
    .cookie(&here)
    .send(&app)
    .await;
    assert_eq!(keep.body, json!({"revokedSessions": 0}));
    assert!(is_signed_in(&app, &kept).await);

    let ended = Req::post(
        "/v1/me/password",
        &json!({"currentPassword": NEW_PASSWORD, "newPassword": PASSWORD,
                "signOutOtherSessions": true}),
    )
    .cookie(&here)
    .send(&app)
    .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    assert_eq!(ended.body, json!({"revokedSessions": 1}));
    assert!(!is_signed_in(&app, &kept).await);
    assert!(is_signed_in(&app, &here).await);
}

#[tokio::test]
async fn an_email_change_needs_a_recent_sign_in_and_reauthentication_renews_it() {
    let app = app().await;
    let token = signed_up(&app, "old@example.com").await;
    app.clock
        .advance(Duration::minutes(10) - Duration::seconds(1));
    let still_recent = Req::post("/v1/me/email", &json!({"email": "first@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(
        still_recent.status,
        StatusCode::ACCEPTED,
        "{}",
        still_recent.text
    );

    app.clock.advance(Duration::seconds(2));
    let stale = Req::post("/v1/me/email", &json!({"email": "new@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.text);
    assert_eq!(stale.code(), "reauthentication_required");
    assert!(app.outbox.last_to("new@example.com").is_none());

    let wrong = Req::post(
        "/v1/session/reauthenticate",
        &json!({"password": "not the password"}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert!(wrong.body["error"]["fields"]["password"].is_string());

    let renewed = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    assert_eq!(renewed.body["user"]["email"], "old@example.com");
    // Re-authentication renews the session's token (hardening::re_authentication_…).
    let token = renewed.session_cookie().expect("the renewed token");

    app.clock.advance(Duration::seconds(30));
    let started = Req::post("/v1/me/email", &json!({"email": "New@Example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);

    // Re-authentication is per session: another, older one is still refused.
    let other = sign_in_from(&app, "old@example.com", PASSWORD, FIREFOX_MAC).await;
    app.clock.advance(Duration::minutes(11));
    let other_refused = Req::post("/v1/me/email", &json!({"email": "x@example.com"}))
        .cookie(&other)
        .send(&app)
        .await;
    assert_eq!(other_refused.code(), "reauthentication_required");
}

#[tokio::test]
async fn an_email_change_is_verified_by_a_code_to_the_new_address_and_the_old_one_is_told() {
    let app = app().await;
    let token = signed_up(&app, "move@example.com").await;
    let started = Req::post("/v1/me/email", &json!({"email": " Moved@Example.com "}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    assert!(started.body["codeExpiresAt"].is_string());
    let code = code_from(&app, "moved@example.com");

    // Until the code is entered the account keeps its address.
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"]["email"], "move@example.com");

    let wrong = Req::post("/v1/me/email/verify", &json!({"code": wrong_code(&code)}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.code(), "invalid_code");
    assert_eq!(wrong.body["error"]["triesLeft"], 9);

    let verified = Req::post("/v1/me/email/verify", &json!({"code": code}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.body["user"]["email"], "Moved@example.com");
    assert_eq!(verified.body["user"]["emailVerified"], true);

    let notice = app.outbox.last_to("move@example.com").unwrap();
    assert!(
        notice.subject.contains("email is changing"),
        "{}",
        notice.subject
    );
    assert!(notice.text.contains("Moved@example.com"));

    let again = Req::post("/v1/me/email/verify", &json!({"code": code}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "the code was used");

    sign_in_from(&app, "moved@example.com", PASSWORD, CHROME_LINUX).await;
    let old = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "move@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_email_change_to_a_taken_address_answers_alike_and_never_verifies() {
    let app = app().await;
    let token = signed_up(&app, "wants@example.com").await;
    signed_up(&app, "owner@example.com").await;
    let mails_before = app.outbox.messages().len();

    let taken = Req::post("/v1/me/email", &json!({"email": "OWNER@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    let free = Req::post("/v1/me/email", &json!({"email": "free@example.com"}))
        .cookie(&signed_up(&app, "other@example.com").await)
        .send(&app)
        .await;
    assert_eq!(taken.status, StatusCode::ACCEPTED, "{}", taken.text);
    assert_eq!(taken.status, free.status);
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<String>>()
    };
    assert_eq!(keys(&taken.body), keys(&free.body));
    let to_owner = app
        .outbox
        .messages()
        .into_iter()
        .skip(mails_before)
        .filter(|m| m.to == "owner@example.com")
        .count();
    assert_eq!(to_owner, 0, "the owner of the address is not bothered");

    let mut last = None;
    for guess in ["000000", "111111", "222222", "333333", "444444"] {
        last = Some(
            Req::post("/v1/me/email/verify", &json!({"code": guess}))
                .cookie(&token)
                .send(&app)
                .await,
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::UNPROCESSABLE_ENTITY);
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["user"]["email"], "wants@example.com");
}

#[tokio::test]
async fn an_email_change_refuses_bad_and_unchanged_addresses_and_resends_after_a_cooldown() {
    let app = app().await;
    let token = signed_up(&app, "same@example.com").await;
    for (email, status) in [
        ("not an address", StatusCode::UNPROCESSABLE_ENTITY),
        ("SAME@example.com", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let response = Req::post("/v1/me/email", &json!({"email": email}))
            .cookie(&token)
            .send(&app)
            .await;
        assert_eq!(response.status, status, "{email}: {}", response.text);
        assert!(response.body["error"]["fields"]["email"].is_string());
    }
    let first = Req::post("/v1/me/email", &json!({"email": "a@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let soon = Req::post("/v1/me/email", &json!({"email": "b@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(soon.status, StatusCode::TOO_MANY_REQUESTS, "{}", soon.text);
    assert!(soon.headers.get("retry-after").is_some());
    app.clock.advance(Duration::seconds(31));
    let later = Req::post("/v1/me/email", &json!({"email": "b@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(later.status, StatusCode::ACCEPTED);
    // The newer address replaced the older one: only its code works.
    let code_b = code_from(&app, "b@example.com");
    let verified = Req::post("/v1/me/email/verify", &json!({"code": code_b}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(verified.body["user"]["email"], "b@example.com");
}

#[tokio::test]
async fn without_a_password_setting_one_needs_a_recent_sign_in() {
    let app = app().await;
    let token = signed_up(&app, "nopw@example.com").await;
    let user_id = {
        let me = Req::get("/me").cookie(&token).send(&app).await;
        me.body["user"]["id"].as_str().unwrap().to_owned()
    };
    // As an account made by a passkey or an emailed link would be: no password at all.
    let store = app.torii.store();
    store.delete_user_sessions(&user_id).await.unwrap();
    let user = store.get_user(&user_id).await.unwrap().unwrap();
    store.delete_user(&user_id).await.unwrap();
    store.insert_user(&user, None).await.unwrap();
    let env = app.torii.environments()[0].clone();
    let (_, token) = app
        .torii
        .create_session(&env, &user, &torii_server::ClientInfo::default())
        .await
        .unwrap();
    let token = token.expose().to_owned();

    app.clock.advance(Duration::minutes(11));
    let stale = Req::post("/v1/me/password", &json!({"newPassword": NEW_PASSWORD}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.text);
    assert_eq!(stale.code(), "reauthentication_required");
    let no_password = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(no_password.status, StatusCode::UNPROCESSABLE_ENTITY);

    let fresh = app
        .torii
        .create_session(&env, &user, &torii_server::ClientInfo::default())
        .await
        .unwrap()
        .1;
    let set = Req::post("/v1/me/password", &json!({"newPassword": NEW_PASSWORD}))
        .cookie(fresh.expose())
        .send(&app)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    sign_in_from(&app, "nopw@example.com", NEW_PASSWORD, CHROME_LINUX).await;
}

fn jwt_env() -> Environment {
    let mut env = Environment::new_test("env_jwt", "Jwt App", "pk_test_jwt", "sk_test_jwt");
    env.session.kind = SessionKind::Jwt;
    env.session.absolute_timeout = Duration::hours(1);
    env
}

#[tokio::test]
async fn a_revoked_jwt_session_can_no_longer_refresh_and_the_recent_rule_reads_the_store() {
    let app = app_with(vec![jwt_env()]).await;
    let created = Req::post(
        "/v1/sign-ups",
        &json!({"email": "jwt@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let code = code_from(&app, "jwt@example.com");
    let here = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(&app)
        .await
        .session_cookie()
        .unwrap();
    let there_answer = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "jwt@example.com", "password": PASSWORD}),
    )
    .header("user-agent", FIREFOX_MAC)
    .send(&app)
    .await;
    let there_refresh = there_answer.session_cookie().unwrap();
    // The short-lived JWT handed out with it, as a page would give its backend.
    let there = there_answer.body["token"].as_str().unwrap().to_owned();

    let listed = Req::get("/v1/sessions").bearer(&here).send(&app).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let sessions = listed.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let there_id = sessions
        .iter()
        .find(|s| s["current"] == json!(false))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let revoked = delete(&format!("/v1/sessions/{there_id}"))
        .bearer(&here)
        .send(&app)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    // A JWT stays valid until it expires (its short lifetime); the refresh session it came
    // from ends at once.
    let refresh = Req::post("/v1/session/refresh", &json!({}))
        .bearer(&there_refresh)
        .send(&app)
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    let me = Req::get("/me").bearer(&there).send(&app).await;
    assert!(me.body["user"].is_object(), "verified offline");
    let gone = Req::post("/v1/me/email", &json!({"email": "x@example.com"}))
        .bearer(&there)
        .send(&app)
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{}", gone.text);
    // Nor may it manage the account: a leaked token cannot end the user's real sessions.
    for request in [
        Req::get("/v1/sessions"),
        delete("/v1/sessions"),
        patch("/v1/me", &json!({"name": "Mallory"})),
    ] {
        let refused = request.bearer(&there).send(&app).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    }
    let still = Req::get("/v1/sessions").bearer(&here).send(&app).await;
    assert_eq!(still.body["sessions"].as_array().unwrap().len(), 1);

    app.clock.advance(Duration::minutes(11));
    let stale = Req::post("/v1/me/email", &json!({"email": "x@example.com"}))
        .bearer(&here)
        .send(&app)
        .await;
    assert_eq!(stale.code(), "reauthentication_required");
    let renewed = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .bearer(&here)
        .send(&app)
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let here = renewed.body["token"]
        .as_str()
        .expect("the renewed token")
        .to_owned();
    let started = Req::post("/v1/me/email", &json!({"email": "x@example.com"}))
        .bearer(&here)
        .send(&app)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
}

#[tokio::test]
async fn password_checks_on_the_account_count_against_the_sign_in_limit() {
    let mut env = legal_env();
    env.rate_limits.enabled = true;
    env.rate_limits.sign_in_per_account.free_attempts = 2;
    let app = app_with(vec![env]).await;
    let token = signed_up(&app, "limit@example.com").await;
    for _ in 0..2 {
        let wrong = Req::post(
            "/v1/session/reauthenticate",
            &json!({"password": "nope nope"}),
        )
        .cookie(&token)
        .send(&app)
        .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let limited = Req::post("/v1/session/reauthenticate", &json!({"password": PASSWORD}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text
    );
}

#[tokio::test]
async fn the_recent_sign_in_window_is_the_environments_and_the_methods_route_tells_it() {
    let mut env = legal_env();
    env.session.recent_sign_in = Duration::seconds(30);
    let app = app_with(vec![env]).await;
    let token = signed_up(&app, "short@example.com").await;
    let signed_in_at = app.torii.now();
    let methods = Req::get("/v1/me/sign-in-methods")
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(methods.status, StatusCode::OK, "{}", methods.text);
    assert_eq!(methods.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(methods.body["password"], true);
    assert_eq!(methods.body["passkeys"], 0);
    assert_eq!(methods.body["oauthProviders"], json!([]));
    let until = time::OffsetDateTime::parse(
        methods.body["recentSignInUntil"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!((until - (signed_in_at + Duration::seconds(30))).abs() < Duration::milliseconds(1));

    app.clock.advance(Duration::seconds(29));
    let within = Req::post("/v1/me/email", &json!({"email": "first.short@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(within.status, StatusCode::ACCEPTED, "{}", within.text);
    app.clock.advance(Duration::seconds(2));
    let stale = Req::post("/v1/me/email", &json!({"email": "new.short@example.com"}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(stale.code(), "reauthentication_required", "{}", stale.text);

    let anonymous = Req::get("/v1/me/sign-in-methods").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
