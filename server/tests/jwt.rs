//! JWT sessions: the refresh session in the cookie, the short-lived JWT signed from it,
//! verification without the store, every rejection, rotation, JWKS, refresh with current
//! gates, and revocation ending refreshes at once while an issued JWT lives out its lifetime.

mod common;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use serde_json::{Value, json};
use time::Duration;
use torii_server::Environment;
use torii_server::secret_key::ServerKey;
use torii_server::session::jwt::{Claims, JwtError};
use torii_shared::SessionKind;

fn jwt_env(id: &str, pk: &str, sk: &str) -> Environment {
    let mut env = Environment::new_test(id, "Jwt App", pk, sk);
    env.session.kind = SessionKind::Jwt;
    env.session.absolute_timeout = Duration::hours(1);
    env
}

async fn jwt_app() -> TestApp {
    app_with(vec![jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt")]).await
}

fn sign_up_body_plain(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD})
}

/// A signed-up user's refresh session token (the cookie) and the JWT the answer carried.
struct Signed {
    cookie: String,
    jwt: String,
}

/// Signs a user up and answers the JWT of the sign-up's answer.
async fn jwt_user(app: &TestApp, email: &str) -> String {
    jwt_session(app, email).await.jwt
}

async fn jwt_session(app: &TestApp, email: &str) -> Signed {
    let created = Req::post("/v1/sign-ups", &sign_up_body_plain(email))
        .send(app)
        .await;
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let code = code_from(app, email);
    let verified = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    Signed {
        cookie: verified.session_cookie().unwrap(),
        jwt: verified.body["token"].as_str().unwrap().to_owned(),
    }
}

fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn me_user(app: &TestApp, token: &str) -> Value {
    Req::get("/me").bearer(token).send(app).await.body["user"].clone()
}

#[tokio::test]
async fn sign_in_issues_a_signed_token_with_the_session_state() {
    let app = jwt_app().await;
    let Signed { cookie, jwt: token } = jwt_session(&app, "jwt@example.com").await;
    assert_eq!(token.matches('.').count(), 2, "a JWT");
    assert_eq!(
        cookie.matches('.').count(),
        0,
        "the cookie holds the refresh session, not a JWT"
    );
    let claims = claims_of(&token);
    assert_eq!(
        claims.exp,
        claims.iat + 60,
        "a JWT lives a minute by default"
    );
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.iss, "http://localhost:3000");
    assert_eq!(claims.aud, "env_jwt");
    assert_eq!(claims.email, "jwt@example.com");
    assert!(claims.email_verified);
    assert!(claims.gates.is_empty());
    assert!(claims.sub.starts_with("usr_") && claims.sid.starts_with("ses_"));
    let me = Req::get("/me").cookie(&cookie).send(&app).await;
    assert_eq!(me.body["session"]["kind"], "jwt");
    assert_eq!(me.body["session"]["status"], "active");
    assert_eq!(me.body["user"]["email"], "jwt@example.com");

    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let jwks = Req::get("/.well-known/jwks.json").send(&app).await;
    assert_eq!(jwks.body["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");
    assert_eq!(jwks.body["keys"][0]["crv"], "Ed25519");
    assert!(
        jwks.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );

    let signed_in = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "jwt@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    assert_eq!(signed_in.session_cookie().unwrap().matches('.').count(), 0);
    let signed_in_jwt = signed_in.body["token"].as_str().unwrap();
    assert_eq!(claims_of(signed_in_jwt).email, "jwt@example.com");
    assert!(me_user(&app, signed_in_jwt).await.is_object());
}

#[tokio::test]
async fn hostile_and_stale_tokens_are_refused() {
    let app = jwt_app().await;
    let token = jwt_user(&app, "hostile@example.com").await;
    let keys = app.torii.jwt_keys().unwrap();
    let good = claims_of(&token);
    let now = app.torii.now().unix_timestamp();
    let with = |edit: &dyn Fn(&mut Claims)| {
        let mut claims = good.clone();
        edit(&mut claims);
        keys.sign_with_header("env_jwt", &claims, |_| {}).unwrap()
    };
    let mut refused = vec![
        ("expired", with(&|c| c.exp = now - 1)),
        ("not yet valid", with(&|c| c.nbf = now + 3600)),
        (
            "wrong issuer",
            with(&|c| c.iss = "https://evil.example".into()),
        ),
        ("wrong audience", with(&|c| c.aud = "env_other".into())),
        (
            "jku header",
            keys.sign_with_header("env_jwt", &good, |h| {
                h.jku = Some("https://evil.example/jwks".into())
            })
            .unwrap(),
        ),
        (
            "x5u header",
            keys.sign_with_header("env_jwt", &good, |h| {
                h.x5u = Some("https://evil.example/cert".into())
            })
            .unwrap(),
        ),
        (
            "unknown kid",
            keys.sign_with_header("env_jwt", &good, |h| h.kid = Some("key_unknown".into()))
                .unwrap(),
        ),
        (
            "no kid",
            keys.sign_with_header("env_jwt", &good, |h| h.kid = None)
                .unwrap(),
        ),
    ];
    // alg none: a header and payload with no signature.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = token.split('.').nth(1).unwrap();
    refused.push(("alg none", format!("{none_header}.{payload}.")));
    // HS256 signed with the public key as the HMAC secret.
    let jwks = Req::get("/.well-known/jwks.json").send(&app).await;
    let public = URL_SAFE_NO_PAD
        .decode(jwks.body["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = jwks.body["keys"][0]["kid"].as_str().map(str::to_owned);
    let hs = jsonwebtoken::encode(
        &hs_header,
        &good,
        &jsonwebtoken::EncodingKey::from_secret(&public),
    )
    .unwrap();
    refused.push(("HS256 with the public key", hs));
    // A tampered payload.
    let mut tampered_claims = good.clone();
    tampered_claims.email = "admin@example.com".into();
    let tampered_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered_claims).unwrap());
    let parts: Vec<&str> = token.split('.').collect();
    refused.push((
        "tampered",
        format!("{}.{tampered_payload}.{}", parts[0], parts[2]),
    ));

    for (why, bad) in refused {
        let me = Req::get("/me").bearer(&bad).send(&app).await;
        assert_eq!(me.status, StatusCode::OK, "{why}");
        assert_eq!(me.body["user"], json!(null), "{why} must be refused");
    }
    assert!(
        me_user(&app, &token).await.is_object(),
        "the genuine token still works"
    );

    app.clock.advance(Duration::seconds(59));
    assert!(
        me_user(&app, &token).await.is_object(),
        "within its lifetime"
    );
    app.clock.advance(Duration::seconds(1));
    assert_eq!(
        me_user(&app, &token).await,
        json!(null),
        "expired by the clock at iat + the JWT lifetime"
    );
}

#[tokio::test]
async fn a_token_of_one_environment_is_refused_by_another() {
    let app = app_with(vec![
        jwt_env("env_a", "pk_test_a", "sk_test_a"),
        jwt_env("env_b", "pk_test_b", "sk_test_b"),
    ])
    .await;
    let created = Req::post("/v1/sign-ups", &sign_up_body_plain("two@example.com"))
        .header("torii-publishable-key", "pk_test_a")
        .send(&app)
        .await;
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let code = code_from(&app, "two@example.com");
    let verified = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .header("torii-publishable-key", "pk_test_a")
        .send(&app)
        .await;
    let token = verified.body["token"].as_str().unwrap().to_owned();
    let cookie = verified.session_cookie().unwrap();
    let refresh_in_b = Req::post("/v1/session/refresh", &json!({}))
        .header("torii-publishable-key", "pk_test_b")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(refresh_in_b.status, StatusCode::UNAUTHORIZED);
    let in_a = Req::get("/me")
        .header("torii-publishable-key", "pk_test_a")
        .bearer(&token)
        .send(&app)
        .await;
    assert!(in_a.body["user"].is_object());
    let in_b = Req::get("/me")
        .header("torii-publishable-key", "pk_test_b")
        .bearer(&token)
        .send(&app)
        .await;
    assert_eq!(in_b.body["user"], json!(null));
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() {
    let app = jwt_app().await;
    let old = jwt_user(&app, "rotate@example.com").await;
    let old_kid = app
        .torii
        .jwt_keys()
        .unwrap()
        .current_kid("env_jwt")
        .unwrap();
    let rotated = Req::post("/v1/admin/jwt-keys/rotate", &json!({}))
        .header("authorization", "Bearer sk_test_jwt")
        .send(&app)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new_kid = rotated.body["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert!(
        me_user(&app, &old).await.is_object(),
        "old tokens verify until they expire"
    );
    let fresh = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "rotate@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await
    .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(fresh.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], new_kid.as_str());
    let jwks = Req::get("/.well-known/jwks.json").send(&app).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
    // Once every token the old key signed has expired (a JWT lifetime after the rotation), it
    // is no longer published.
    app.clock.advance(Duration::seconds(61));
    let jwks = Req::get("/.well-known/jwks.json").send(&app).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks.body["keys"][0]["kid"], new_kid.as_str());
}

#[tokio::test]
async fn another_node_rotating_is_picked_up_by_kid() {
    let app = jwt_app().await;
    let other = app_on(
        app.torii.store_arc(),
        vec![jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt")],
        app.outbox.clone(),
        app.clock.clone(),
    )
    .await;
    jwt_user(&app, "nodes@example.com").await;
    Req::post("/v1/admin/jwt-keys/rotate", &json!({}))
        .header("authorization", "Bearer sk_test_jwt")
        .send(&other)
        .await;
    let from_other = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "nodes@example.com", "password": PASSWORD}),
    )
    .send(&other)
    .await
    .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(me_user(&app, &from_other).await.is_object());
}

#[tokio::test]
async fn refresh_carries_gates_and_sign_out_stops_refresh() {
    let app = jwt_app().await;
    let Signed { cookie, jwt: token } = jwt_session(&app, "refresh@example.com").await;
    let user = claims_of(&token).sub;
    Req::post(
        &format!("/v1/admin/users/{user}/gates"),
        &json!({"key": "mfa_enrollment"}),
    )
    .header("authorization", "Bearer sk_test_jwt")
    .send(&app)
    .await;
    let stale = Req::get("/me").bearer(&token).send(&app).await;
    assert_eq!(
        stale.body["session"]["status"], "active",
        "a JWT carries its state until refreshed"
    );
    let refreshed = Req::post("/v1/session/refresh", &json!({}))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    assert_eq!(refreshed.body["session"]["status"], "pending");
    assert!(
        refreshed.session_cookie().is_none(),
        "the refresh session keeps its token"
    );
    let pending_token = refreshed.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        Req::get("/me").bearer(&pending_token).send(&app).await.body["session"]["currentGate"],
        json!({"key": "mfa_enrollment"})
    );
    Req::get("/")
        .method(
            "DELETE",
            &format!("/v1/admin/users/{user}/gates/mfa_enrollment"),
        )
        .header("authorization", "Bearer sk_test_jwt")
        .send(&app)
        .await;
    let cleared = Req::post("/v1/session/refresh", &json!({}))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(cleared.body["session"]["status"], "active");
    let active = cleared.body["token"].as_str().unwrap().to_owned();

    let out = Req::post("/v1/sign-out", &json!({}))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // The refresh session is gone at once; the JWT already issued verifies offline until it
    // expires, a JWT lifetime after it was signed.
    let after = Req::post("/v1/session/refresh", &json!({}))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let me = Req::get("/me").cookie(&cookie).send(&app).await;
    assert_eq!(me.body["user"], json!(null));
    assert!(me.body.get("token").is_none());
    assert!(me_user(&app, &active).await.is_object());
    let exp = claims_of(&active).exp;
    app.clock.advance(Duration::seconds(
        exp - app.torii.now().unix_timestamp() - 1,
    ));
    assert!(me_user(&app, &active).await.is_object(), "until its exp");
    app.clock.advance(Duration::seconds(1));
    assert_eq!(me_user(&app, &active).await, json!(null), "not after");
}

#[tokio::test]
async fn a_refresh_signs_a_new_short_lived_token_and_a_jwt_cannot_refresh() {
    let mut env = jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt");
    env.session.jwt_lifetime = Duration::seconds(10);
    let app = app_with(vec![env]).await;
    let Signed { cookie, jwt } = jwt_session(&app, "short@example.com").await;
    let first = claims_of(&jwt);
    assert_eq!(
        first.exp,
        first.iat + 10,
        "exp is iat plus the configured lifetime"
    );
    let mut previous = jwt;
    // Across several lifetimes, each refresh answers a new token that lives 10 seconds more.
    for _ in 0..3 {
        app.clock.advance(Duration::seconds(7));
        let refreshed = Req::post("/v1/session/refresh", &json!({}))
            .cookie(&cookie)
            .send(&app)
            .await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
        let token = refreshed.body["token"].as_str().unwrap().to_owned();
        assert_ne!(token, previous);
        let claims = claims_of(&token);
        assert_eq!(claims.iat, app.torii.now().unix_timestamp());
        assert_eq!(claims.exp, claims.iat + 10);
        assert_eq!(claims.sid, first.sid);
        assert!(me_user(&app, &token).await.is_object());
        previous = token;
    }
    // /me with the cookie answers a fresh token too.
    app.clock.advance(Duration::seconds(1));
    let me = Req::get("/me").cookie(&cookie).send(&app).await;
    let from_me = me.body["token"].as_str().unwrap();
    assert_eq!(
        claims_of(from_me).iat,
        app.torii.now().unix_timestamp(),
        "signed now"
    );
    // A bearer client holding the refresh session token refreshes the same way.
    let bearer = Req::post("/v1/session/refresh", &json!({}))
        .bearer(&cookie)
        .send(&app)
        .await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.text);
    assert_eq!(
        bearer.body["token"].as_str().unwrap().matches('.').count(),
        2
    );
    // A JWT is not a refresh session: presented as a bearer or a cookie, no new token.
    for refused in [
        Req::post("/v1/session/refresh", &json!({})).bearer(&previous),
        Req::post("/v1/session/refresh", &json!({})).cookie(&previous),
    ] {
        assert_eq!(refused.send(&app).await.status, StatusCode::UNAUTHORIZED);
    }
    // /me with a JWT answers that same JWT, never a longer-lived one.
    let me = Req::get("/me").bearer(&previous).send(&app).await;
    assert_eq!(me.body["token"], previous.as_str());
}

#[tokio::test]
async fn revocation_ends_the_refresh_session_at_once_and_the_jwt_within_its_lifetime() {
    let app = jwt_app().await;
    // Revoked from another of the user's sessions.
    let first = jwt_session(&app, "revoked@example.com").await;
    let second = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "revoked@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await;
    let second_cookie = second.session_cookie().unwrap();
    let first_sid = claims_of(&first.jwt).sid;
    let revoked = Req::get("/")
        .method("DELETE", &format!("/v1/sessions/{first_sid}"))
        .cookie(&second_cookie)
        .header("origin", "http://localhost:3000")
        .send(&app)
        .await;
    assert!(revoked.status.is_success(), "{}", revoked.text);
    assert_eq!(
        Req::post("/v1/session/refresh", &json!({}))
            .cookie(&first.cookie)
            .send(&app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        Req::get("/me").cookie(&first.cookie).send(&app).await.body["user"],
        json!(null)
    );
    assert!(
        me_user(&app, &first.jwt).await.is_object(),
        "the issued JWT lives out its lifetime"
    );

    // Deleted through the secret-key API.
    let second_sid = claims_of(second.body["token"].as_str().unwrap()).sid;
    let deleted = Req::get("/")
        .method("DELETE", &format!("/v1/admin/sessions/{second_sid}"))
        .header("authorization", "Bearer sk_test_jwt")
        .send(&app)
        .await;
    assert!(deleted.status.is_success(), "{}", deleted.text);
    assert_eq!(
        Req::post("/v1/session/refresh", &json!({}))
            .cookie(&second_cookie)
            .send(&app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        Req::get("/me").cookie(&second_cookie).send(&app).await.body["user"],
        json!(null)
    );

    // Every session of a deleted user.
    let third = jwt_session(&app, "deleted@example.com").await;
    let user = claims_of(&third.jwt).sub;
    let gone = Req::get("/")
        .method("DELETE", &format!("/v1/admin/users/{user}"))
        .header("authorization", "Bearer sk_test_jwt")
        .send(&app)
        .await;
    assert!(gone.status.is_success(), "{}", gone.text);
    assert_eq!(
        Req::post("/v1/session/refresh", &json!({}))
            .cookie(&third.cookie)
            .send(&app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Issued JWTs end with their lifetime (60 seconds here), whatever the session's timeout.
    app.clock.advance(Duration::seconds(60));
    assert_eq!(me_user(&app, &first.jwt).await, json!(null));
    assert_eq!(me_user(&app, &third.jwt).await, json!(null));
}

#[tokio::test]
async fn me_answers_for_a_jwt_session_while_the_database_is_down() {
    use common::db::{Backend, TestDb};
    use common::process::Proxy;
    let db = TestDb::new(Backend::Postgres).await;
    let port = url::Url::parse(&db.url).unwrap().port().unwrap_or(5432);
    let mut proxy = Proxy::start(port).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let store = torii_server::store::PostgresStore::connect_lazy(url.as_str(), 4).unwrap();
    let app = app_on(
        std::sync::Arc::new(store),
        vec![jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt")],
        torii_server::mail::OutboxMailer::new(),
        torii_server::ManualClock::default(),
    )
    .await;
    let token = jwt_user(&app, "offline@example.com").await;
    proxy.cut().await;
    assert_eq!(
        Req::get("/readyz").send(&app).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let me = Req::get("/me").bearer(&token).send(&app).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], "offline@example.com");
}

#[tokio::test]
async fn the_token_is_on_me_only_for_jwt_sessions() {
    let app = jwt_app().await;
    let Signed { cookie, jwt } = jwt_session(&app, "token@example.com").await;
    app.clock.advance(Duration::seconds(1));
    let me = Req::get("/me").cookie(&cookie).send(&app).await;
    let token = me.body["token"].as_str().unwrap();
    assert_ne!(token, jwt.as_str(), "a JWT signed for this answer");
    assert_eq!(claims_of(token).sid, claims_of(&jwt).sid);
    let db_app = common::app().await;
    let db_token = signed_up(&db_app, "db-token@example.com").await;
    let me = Req::get("/me").cookie(&db_token).send(&db_app).await;
    assert!(
        me.body.get("token").is_none(),
        "database tokens stay in the HttpOnly cookie"
    );
}

/// A node on `app`'s store with its own server keys.
async fn node_with_keys(
    app: &TestApp,
    envs: Vec<Environment>,
    current: Option<ServerKey>,
    previous: Option<ServerKey>,
) -> Result<torii_server::Torii, torii_server::BuildError> {
    let mut builder = torii_server::Torii::builder()
        .shared_store(app.torii.store_arc())
        .mailer(app.outbox.clone())
        .clock(app.clock.clone())
        .public_url(ORIGIN.parse().unwrap())
        .hash_parallelism(2);
    if let Some(key) = current {
        builder = builder.secret_key(key);
    }
    if let Some(key) = previous {
        builder = builder.previous_secret_key(key);
    }
    for env in envs {
        builder = builder.environment(env);
    }
    builder.build().await
}

#[tokio::test]
async fn stored_signing_keys_are_sealed_under_the_server_key() {
    let app = jwt_app().await;
    let keys = app.torii.store().list_jwt_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key.environment_id, "env_jwt");
    let sealed = key.private_key.strip_prefix("v1:").expect("a sealed value");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .unwrap();
    // The Ed25519 object identifier is in every PKCS#8 Ed25519 key; sealed, it is nowhere.
    let ed25519_oid = [0x06, 0x03, 0x2b, 0x65, 0x70];
    let has_oid = |bytes: &[u8]| bytes.windows(ed25519_oid.len()).any(|w| w == ed25519_oid);
    assert!(!has_oid(&bytes));
    let associated = format!("torii-jwt-key:{}:env_jwt", key.kid);
    let der = test_server_key()
        .open(&key.private_key, associated.as_bytes())
        .unwrap();
    assert!(has_oid(&der), "the server key opens it");
    assert!(
        ServerKey::from_bytes([9; 32])
            .open(&key.private_key, associated.as_bytes())
            .is_err(),
        "another key does not"
    );
    assert!(
        test_server_key()
            .open(&key.private_key, b"torii-jwt-key:other:env_other")
            .is_err(),
        "nor for another key id or environment"
    );
}

#[tokio::test]
async fn a_wrong_server_key_stops_the_start_instead_of_replacing_the_keys() {
    let app = jwt_app().await;
    let before = app.torii.store().list_jwt_keys().await.unwrap();
    let error = node_with_keys(
        &app,
        vec![jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt")],
        Some(ServerKey::from_bytes([9; 32])),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            error,
            torii_server::BuildError::Jwt(JwtError::WrongServerKey { .. })
        ),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("secret_key_file"), "{message}");
    assert!(message.contains("TORII_SECRET_KEY_FILE"), "{message}");
    assert_eq!(
        app.torii.store().list_jwt_keys().await.unwrap(),
        before,
        "no key was minted or retired"
    );
}

#[tokio::test]
async fn a_server_key_rotation_replaces_the_signing_keys_and_old_tokens_still_verify() {
    let app = jwt_app().await;
    let token = jwt_user(&app, "rotating@example.com").await;
    let old_kid = app
        .torii
        .jwt_keys()
        .unwrap()
        .current_kid("env_jwt")
        .unwrap();
    let new_key = ServerKey::from_bytes([9; 32]);
    // The documented rotation: the new key as secret_key_file, the old one as
    // secret_key_previous_file.
    let rotated = node_with_keys(
        &app,
        vec![jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt")],
        Some(new_key.clone()),
        Some(test_server_key()),
    )
    .await
    .unwrap();
    let new_kid = rotated.jwt_keys().unwrap().current_kid("env_jwt").unwrap();
    assert_ne!(
        new_kid, old_kid,
        "the key sealed under the old server key is replaced"
    );
    let node = TestApp::from_parts(rotated, app.outbox.clone());
    assert!(
        me_user(&node, &token).await.is_object(),
        "tokens signed before verify until they expire"
    );
    // Once every node has the new key, the previous one is no longer needed.
    let after = node_with_keys(
        &app,
        vec![jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt")],
        Some(new_key),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        after.jwt_keys().unwrap().current_kid("env_jwt").unwrap(),
        new_kid
    );
    let signed_in = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "rotating@example.com", "password": PASSWORD}),
    )
    .send(&TestApp::from_parts(after, app.outbox.clone()))
    .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
}

#[tokio::test]
async fn a_retired_key_is_refused_once_its_tokens_can_have_expired() {
    let app = jwt_app().await;
    let token = jwt_user(&app, "retired@example.com").await;
    let keys = app.torii.jwt_keys().unwrap();
    // A token that claims to live far longer than any token can.
    let mut claims = claims_of(&token);
    claims.exp = app.torii.now().unix_timestamp() + 10 * 3600;
    let long_lived = keys.sign_with_header("env_jwt", &claims, |_| {}).unwrap();
    let rotated = Req::post("/v1/admin/jwt-keys/rotate", &json!({}))
        .header("authorization", "Bearer sk_test_jwt")
        .send(&app)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    app.clock.advance(Duration::seconds(59));
    assert!(
        me_user(&app, &long_lived).await.is_object(),
        "within the bound"
    );
    // The longest JWT lifetime (a minute by default; not the session's hour) after its
    // retirement, the key is done.
    app.clock.advance(Duration::seconds(1));
    assert_eq!(me_user(&app, &long_lived).await, json!(null));
    let jwks = Req::get("/.well-known/jwks.json").send(&app).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn keys_of_one_environment_never_sign_or_verify_for_another() {
    let app = app_with(vec![
        jwt_env("env_a", "pk_test_a", "sk_test_a"),
        jwt_env("env_b", "pk_test_b", "sk_test_b"),
    ])
    .await;
    let keys = app.torii.jwt_keys().unwrap();
    let kid_a = keys.current_kid("env_a").unwrap();
    let kid_b = keys.current_kid("env_b").unwrap();
    assert_ne!(kid_a, kid_b, "each environment has its own key");
    let created = Req::post("/v1/sign-ups", &sign_up_body_plain("both@example.com"))
        .header("torii-publishable-key", "pk_test_b")
        .send(&app)
        .await;
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let code = code_from(&app, "both@example.com");
    let token_b = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .header("torii-publishable-key", "pk_test_b")
        .send(&app)
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Environment A's key signing claims that are right in every way for environment B.
    let forged = keys
        .sign_with_header("env_a", &claims_of(&token_b), |_| {})
        .unwrap();
    let in_b = |token: String| {
        Req::get("/me")
            .header("torii-publishable-key", "pk_test_b")
            .bearer(&token)
    };
    assert!(in_b(token_b.clone()).send(&app).await.body["user"].is_object());
    assert_eq!(in_b(forged).send(&app).await.body["user"], json!(null));
    // Rotating A leaves B's key alone.
    let rotated = Req::post("/v1/admin/jwt-keys/rotate", &json!({}))
        .header("authorization", "Bearer sk_test_a")
        .send(&app)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_ne!(keys.current_kid("env_a").unwrap(), kid_a);
    assert_eq!(keys.current_kid("env_b").unwrap(), kid_b);
}

#[tokio::test]
async fn a_live_environment_needs_a_server_key() {
    let app = jwt_app().await;
    let mut live = Environment::new_test(
        "env_live",
        "Live",
        "pk_live_x",
        "sk_live_0123456789abcdef0123456789abcdef",
    );
    live.mode = torii_shared::EnvironmentMode::Live;
    live.allowed_origins = vec!["https://app.example.com".into()];
    let error = node_with_keys(&app, vec![live.clone()], None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, torii_server::BuildError::SecretKeyRequired(_)),
        "{error}"
    );
    assert!(error.to_string().contains("secret_key_file"));
    assert!(
        node_with_keys(&app, vec![live], Some(test_server_key()), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_idle_refresh_session_ends_like_a_database_session() {
    let mut env = jwt_env("env_jwt", "pk_test_jwt", "sk_test_jwt");
    env.session.idle_timeout = Duration::minutes(10);
    let app = app_with(vec![env]).await;
    let Signed { cookie, .. } = jwt_session(&app, "idle@example.com").await;
    // A second session, left unused.
    let idle = Req::post(
        "/v1/sign-in/password",
        &json!({"email": "idle@example.com", "password": PASSWORD}),
    )
    .send(&app)
    .await
    .session_cookie()
    .unwrap();
    let refresh = || {
        Req::post("/v1/session/refresh", &json!({}))
            .cookie(&cookie)
            .send(&app)
    };
    // Each refresh marks it active: used every 9 minutes, it outlives the idle timeout.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(9));
        assert_eq!(refresh().await.status, StatusCode::OK);
    }
    let listed = Req::get("/v1/sessions").bearer(&cookie).send(&app).await;
    assert_eq!(
        listed.body["sessions"].as_array().unwrap().len(),
        1,
        "the idle session is over: {}",
        listed.text
    );
    assert_eq!(
        Req::get("/me").cookie(&idle).send(&app).await.body["user"],
        json!(null)
    );
    app.clock.advance(Duration::minutes(10));
    assert_eq!(refresh().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        Req::get("/me").cookie(&cookie).send(&app).await.body["user"],
        json!(null)
    );
}
