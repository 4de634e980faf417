//! The store contract, written once and run against SQLite, PostgreSQL and MariaDB. Each test
//! gets its own database, so the suite runs in parallel and leaves nothing behind. The tests of
//! each aggregate's contract live in a module of their own; the store-wide ones are here.

#[path = "../common/mod.rs"]
mod common;

use common::db::{Backend, TestDb};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use torii_server::session::{SessionToken, new_id};
use torii_server::store::{
    AttemptReservation, AttemptVerdict, CodeSend, CompleteSignUp, JwtKeyRecord, MethodRemoval,
    PasskeyRecord, SessionRecord, SignInMethodRef, SignUpRecord, Store, StoreError,
    StoredEnvironment, UserCodeRecord, UserRecord,
};

fn now() -> OffsetDateTime {
    // Millisecond precision, as stored.
    torii_server::clock::from_millis(torii_server::clock::to_millis(OffsetDateTime::now_utc()))
}

fn sign_up(env: &str, email: &str, at: OffsetDateTime) -> SignUpRecord {
    SignUpRecord {
        id: new_id("sgu"),
        environment_id: env.to_owned(),
        email: email.to_owned(),
        email_canonical: email.to_lowercase(),
        name: Some("Ada".to_owned()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        legal_accepted_at: Some(at),
        legal_version: Some("v1".to_owned()),
        code_hash: "c0de".repeat(16),
        code_expires_at: at + Duration::minutes(10),
        attempts: 0,
        resend_available_at: at + Duration::seconds(30),
        created_at: at,
    }
}

fn user_for(s: &SignUpRecord, at: OffsetDateTime) -> UserRecord {
    UserRecord {
        id: new_id("usr"),
        environment_id: s.environment_id.clone(),
        email: s.email.clone(),
        email_canonical: s.email_canonical.clone(),
        name: s.name.clone(),
        email_verified: true,
        legal_version: s.legal_version.clone(),
        created_at: at,
        updated_at: at,
    }
}

fn session_for(user: &UserRecord, at: OffsetDateTime) -> (SessionRecord, SessionToken) {
    let token = SessionToken::generate();
    (
        SessionRecord {
            id: new_id("ses"),
            environment_id: user.environment_id.clone(),
            user_id: user.id.clone(),
            token_hash: token.hash(),
            created_at: at,
            expires_at: at + Duration::days(30),
            last_active_at: at,
            authenticated_at: at,
            user_agent: Some("test-agent".to_owned()),
            ip: Some("127.0.0.1".to_owned()),
        },
        token,
    )
}

/// Creates a user (with a session) through the sign-up path.
async fn create_user(store: &dyn Store, env: &str, email: &str) -> (UserRecord, SessionRecord) {
    let at = now();
    let s = sign_up(env, email, at);
    store.insert_sign_up(&s).await.unwrap();
    let user = user_for(&s, at);
    let (session, _) = session_for(&user, at);
    let done = store
        .complete_sign_up(&s.id, &user, s.password_hash.as_deref(), &session)
        .await
        .unwrap();
    assert_eq!(done, CompleteSignUp::Created(user.clone()));
    (user, session)
}

/// Runs each listed test on SQLite, PostgreSQL and MariaDB: a module per backend, in the
/// module of the aggregate whose contract the tests check.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        conformance!(@backend sqlite, Backend::Sqlite; $($test),*);
        conformance!(@backend postgres, Backend::Postgres; $($test),*);
        conformance!(@backend mysql, Backend::MySql; $($test),*);
    };
    (@backend $backend:ident, $kind:expr; $($test:ident),*) => {
        mod $backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(TestDb::new($kind).await).await;
                }
            )*
        }
    };
}

mod ceremonies;
mod codes;
mod environments;
mod gates;
mod identities;
mod keys;
mod passkeys;
mod rate_limits;
mod revocations;
mod second_factors;
mod sessions;
mod sign_ups;
mod users;

async fn migrations_are_idempotent(db: TestDb) {
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

async fn a_second_node_sees_the_first_nodes_writes(db: TestDb) {
    let other = db.second_store().await;
    let (user, session) = create_user(db.store.as_ref(), "env_a", "nodes@example.com").await;
    let (found, _) = other
        .session_by_token_hash(&session.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user_id, user.id);
    assert!(other.delete_session(&session.id).await.unwrap());
    assert!(
        db.store
            .session_by_token_hash(&session.token_hash)
            .await
            .unwrap()
            .is_none()
    );
}

conformance!(
    migrations_are_idempotent,
    a_second_node_sees_the_first_nodes_writes,
);

#[tokio::test]
async fn an_unreachable_store_reports_unavailable_quickly() {
    use torii_server::store::{MySqlStore, PostgresStore};
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let pg =
        PostgresStore::connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/x"), 2).unwrap();
    let my = MySqlStore::connect_lazy(&format!("mysql://root@127.0.0.1:{port}/x"), 2).unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(pg.ping().await, Err(StoreError::Unavailable(_))));
    assert!(matches!(my.ping().await, Err(StoreError::Unavailable(_))));
    // Bounded by the pool's acquire timeout, never a hang.
    assert!(started.elapsed() < torii_server::store::ACQUIRE_TIMEOUT * 3);
}
