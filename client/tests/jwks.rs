//! The offline verifier against a real Torii server on a socket: JWT sessions verified with
//! the keys it publishes, refused when forged, for another environment or after rotation to a
//! key the verifier has not seen yet (it fetches the set again), and an unreachable server is
//! an error, not a signed-out user.

use std::sync::Arc;
use torii_client::ssr::{JwksVerifier, SessionState, SessionVerifier, Sessions, VerifyError};
use torii_server::admin::NewUser;
use torii_server::environment::Environment;
use torii_server::store::{GateTarget, SqliteStore, Store};
use torii_server::{ClientInfo, FirstFactor, Torii};
use torii_shared::{GateKey, SessionKind};

const ENV: &str = "env_jwt";

struct Server {
    torii: Torii,
    url: String,
    task: tokio::task::JoinHandle<()>,
    _dir: TempDir,
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn server() -> Server {
    let dir = std::env::temp_dir().join(format!(
        "torii-client-jwks-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::connect(&format!("sqlite://{}", dir.join("t.db").display()), 4)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut env = Environment::new_test(ENV, "Jwt App", "pk_test_jwt", "sk_test_jwt");
    env.session.kind = SessionKind::Jwt;
    let torii = Torii::builder()
        .shared_store(Arc::new(store))
        .public_url(url.parse().unwrap())
        .environment(env)
        .hash_parallelism(1)
        .build()
        .await
        .unwrap();
    let app = torii_server::router(torii.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        torii,
        url,
        task,
        _dir: TempDir(dir),
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A new user signed in: their JWT.
async fn signed_in(server: &Server, email: &str) -> String {
    let env = server.torii.environment_for(None).unwrap().clone();
    let user = server
        .torii
        .create_user(
            &env,
            &NewUser {
                email: email.to_owned(),
                name: Some("Ada".to_owned()),
                password: None,
                email_verified: true,
            },
        )
        .await
        .unwrap();
    let signed = server
        .torii
        .sign_in_user(&env, user, &ClientInfo::default(), FirstFactor::Password)
        .await
        .unwrap();
    // The short-lived JWT of the answer (the token is the refresh session's).
    signed.jwt.unwrap()
}

#[tokio::test]
async fn jwt_sessions_are_verified_offline_with_the_published_keys() {
    let server = server().await;
    let token = signed_in(&server, "ada@example.com").await;
    let verifier = JwksVerifier::new(&server.url, ENV).unwrap();

    let state = verifier.verify(&token).await.unwrap();
    let SessionState::Active { user, session } = state else {
        panic!("an active session, got {state:?}");
    };
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(user.name.as_deref(), Some("Ada"));
    assert_eq!(session.kind, SessionKind::Jwt);

    // The same answer as the server's own check, through the `Sessions` front.
    let sessions = Sessions::jwks(&server.url, ENV).unwrap();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    assert_eq!(
        sessions
            .resolve(&headers)
            .await
            .unwrap()
            .user()
            .unwrap()
            .email,
        "ada@example.com"
    );

    // A forged signature, a token for another environment, garbage, an opaque token.
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", "A".repeat(86));
    assert_eq!(
        verifier.verify(&forged).await.unwrap(),
        SessionState::SignedOut
    );
    let elsewhere = JwksVerifier::new(&server.url, "env_other").unwrap();
    assert_eq!(
        elsewhere.verify(&token).await.unwrap(),
        SessionState::SignedOut
    );
    let other_issuer = JwksVerifier::new(&server.url, ENV)
        .unwrap()
        .issuer("https://auth.example.com");
    assert_eq!(
        other_issuer.verify(&token).await.unwrap(),
        SessionState::SignedOut
    );
    assert_eq!(
        verifier.verify("not-a-jwt").await.unwrap(),
        SessionState::SignedOut
    );
    server.task.abort();
}

#[tokio::test]
async fn a_pending_session_reads_as_pending_with_its_gates() {
    let server = server().await;
    let env = server.torii.environment_for(None).unwrap().clone();
    let token = signed_in(&server, "gated@example.com").await;
    let verifier = JwksVerifier::new(&server.url, ENV).unwrap();
    let user_id = verifier
        .verify(&token)
        .await
        .unwrap()
        .user()
        .unwrap()
        .id
        .clone();
    server
        .torii
        .require_gate(&env, GateTarget::User(&user_id), &GateKey::LegalAcceptance)
        .await
        .unwrap();
    // A token issued after the gate carries it.
    let user = server
        .torii
        .user_in_environment(&env, &user_id)
        .await
        .unwrap()
        .unwrap();
    let again = server
        .torii
        .sign_in_user(&env, user, &ClientInfo::default(), FirstFactor::Password)
        .await
        .unwrap();
    let state = verifier
        .verify(again.jwt.as_deref().unwrap())
        .await
        .unwrap();
    let SessionState::Pending { session, .. } = state else {
        panic!("a pending session, got {state:?}");
    };
    assert_eq!(
        session.info.current_gate.map(|gate| gate.key),
        Some(GateKey::LegalAcceptance)
    );
    server.task.abort();
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let server = server().await;
    let env = server.torii.environment_for(None).unwrap().clone();
    // No wait between fetches, so the new key is asked for at once.
    let verifier = JwksVerifier::new(&server.url, ENV)
        .unwrap()
        .refetch_interval(std::time::Duration::ZERO);
    let before = signed_in(&server, "before@example.com").await;
    assert!(verifier.verify(&before).await.unwrap().user().is_some());

    server.torii.rotate_jwt_key(&env).await.unwrap();
    let after = signed_in(&server, "after@example.com").await;
    let state = verifier.verify(&after).await.unwrap();
    assert_eq!(state.user().unwrap().email, "after@example.com");
    // The retired key still verifies the tokens it signed.
    assert!(verifier.verify(&before).await.unwrap().user().is_some());

    // With the default interval, a made-up key id right after a fetch costs no request:
    // the token reads as signed out.
    let limited = JwksVerifier::new(&server.url, ENV).unwrap();
    assert!(limited.verify(&before).await.unwrap().user().is_some());
    server.torii.rotate_jwt_key(&env).await.unwrap();
    let newest = signed_in(&server, "newest@example.com").await;
    assert_eq!(
        limited.verify(&newest).await.unwrap(),
        SessionState::SignedOut
    );
    server.task.abort();
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_signed_out_user() {
    let server = server().await;
    let token = signed_in(&server, "away@example.com").await;
    let url = server.url.clone();
    server.task.abort();
    let _ = server.task.await;
    let verifier = JwksVerifier::new(&url, ENV).unwrap();
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Unreachable));
    // Asked again at once (no new fetch yet): still unknown, not signed out.
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Unreachable));
}
