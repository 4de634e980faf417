//! JWT sessions: issuance, verification without the store, every rejection, rotation, JWKS,
//! refresh with current gates.

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

async fn jwt_user(app: &TestApp, email: &str) -> String {
    let created = Req::post("/v1/sign-ups", &sign_up_body_plain(email))
        .send(app)
        .await;
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let code = code_from(app, email);
    let verified = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    verified.session_cookie().unwrap()
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
    let token = jwt_user(&app, "jwt@example.com").await;
    assert_eq!(token.matches('.').count(), 2, "a JWT");
    let claims = claims_of(&token);
    assert_eq!(claims.iss, "http://localhost:3000");
    assert_eq!(claims.aud, "env_jwt");
    assert_eq!(claims.email, "jwt@example.com");
    assert!(claims.email_verified);
    assert!(claims.gates.is_empty());
    assert!(claims.sub.starts_with("usr_") && claims.sid.starts_with("ses_"));
    let me = Req::get("/me").cookie(&token).send(&app).await;
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
    assert_eq!(signed_in.session_cookie().unwrap().matches('.').count(), 2);
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

    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    assert_eq!(
        me_user(&app, &token).await,
        json!(null),
        "expired by the clock"
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
    let token = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .header("torii-publishable-key", "pk_test_a")
        .send(&app)
        .await
        .session_cookie()
        .unwrap();
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
    .session_cookie()
    .unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(fresh.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], new_kid.as_str());
    let jwks = Req::get("/.well-known/jwks.json").send(&app).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
    // Once every token the old key signed has expired, it is no longer published.
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
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
    .session_cookie()
    .unwrap();
    assert!(me_user(&app, &from_other).await.is_object());
}

#[tokio::test]
async fn refresh_carries_gates_and_sign_out_stops_refresh() {
    let app = jwt_app().await;
    let token = jwt_user(&app, "refresh@example.com").await;
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
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    assert_eq!(refreshed.body["session"]["status"], "pending");
    let pending_token = refreshed.session_cookie().unwrap();
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
        .cookie(&pending_token)
        .send(&app)
        .await;
    assert_eq!(cleared.body["session"]["status"], "active");
    let active = cleared.session_cookie().unwrap();

    let out = Req::post("/v1/sign-out", &json!({}))
        .cookie(&active)
        .send(&app)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // Not revocable: the token verifies until it expires, but it can no longer be refreshed.
    assert!(me_user(&app, &active).await.is_object());
    let after = Req::post("/v1/session/refresh", &json!({}))
        .cookie(&active)
        .send(&app)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
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
    let token = jwt_user(&app, "token@example.com").await;
    let me = Req::get("/me").cookie(&token).send(&app).await;
    assert_eq!(me.body["token"], token.as_str());
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
    app.clock.advance(Duration::minutes(59));
    assert!(
        me_user(&app, &long_lived).await.is_object(),
        "within the bound"
    );
    // The longest token lifetime (one hour here) after its retirement, the key is done.
    app.clock
        .advance(Duration::minutes(1) + Duration::seconds(1));
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
        .session_cookie()
        .unwrap();
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
