//! Two `torii-server` processes on one database: nothing a flow needs lives in one process's
//! memory, so any node serves any request. Run on PostgreSQL (the scale-out backend) and
//! MariaDB.

mod common;

use common::db::{Backend, TestDb};
use common::process::Node;
use serde_json::json;

async fn two_nodes_share_sessions_and_sign_ups(backend: Backend) {
    let db = TestDb::new(backend).await;
    let vars = [("TORII_DATABASE_URL", db.url.as_str())];
    let a = Node::start(&vars).await;
    let b = Node::start(&vars).await;
    // No environment is configured: the first node creates one, the second finds it.
    let env_a = a
        .request("GET", "/v1/environment", &[], None)
        .await
        .unwrap();
    let env_b = b
        .request("GET", "/v1/environment", &[], None)
        .await
        .unwrap();
    assert_eq!(env_a.body, env_b.body);

    // A sign-up started on A is verified on B.
    let origin_a = a.base.clone();
    let created = a
        .request(
            "POST",
            "/v1/sign-ups",
            &[("Origin", &origin_a)],
            Some(&json!({"email": "nodes@example.com", "password": "correct horse battery"})),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let line = a.wait_for_log("Your verification code is").await;
    let code: String = line
        .split("Your verification code is")
        .nth(1)
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    let verified = b
        .request(
            "POST",
            &format!("/v1/sign-ups/{id}/verify"),
            &[],
            Some(&json!({"code": code})),
        )
        .await
        .unwrap();
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    let token = verified.session_token().unwrap();
    let bearer = format!("Bearer {token}");

    // The session created on B is valid on A.
    let me_a = a
        .request("GET", "/me", &[("Authorization", &bearer)], None)
        .await
        .unwrap();
    assert_eq!(me_a.body["user"]["email"], "nodes@example.com");
    assert_eq!(me_a.body["session"]["status"], "active");

    // A password sign-in on A, signed out on B, is seen by A on its next request.
    let signed_in = a
        .request(
            "POST",
            "/v1/sign-in/password",
            &[],
            Some(&json!({"email": "nodes@example.com", "password": "correct horse battery"})),
        )
        .await
        .unwrap();
    assert_eq!(signed_in.status, 200);
    let second = format!("Bearer {}", signed_in.session_token().unwrap());
    let out = b
        .request("POST", "/v1/sign-out", &[("Authorization", &second)], None)
        .await
        .unwrap();
    assert_eq!(out.status, 204);
    let me_after = a
        .request("GET", "/me", &[("Authorization", &second)], None)
        .await
        .unwrap();
    assert_eq!(me_after.body["user"], json!(null));
    // The first session is untouched.
    let me_first = a
        .request("GET", "/me", &[("Authorization", &bearer)], None)
        .await
        .unwrap();
    assert_eq!(me_first.body["user"]["email"], "nodes@example.com");

    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_postgres() {
    two_nodes_share_sessions_and_sign_ups(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_mariadb() {
    two_nodes_share_sessions_and_sign_ups(Backend::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_database_url_is_a_one_line_error_naming_the_variable() {
    for url in ["oracle://nope", "postgres://[bad"] {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_torii-server"))
            .env_clear()
            .env("TORII_DATABASE_URL", url)
            .env("TORII_LISTEN", "127.0.0.1:0")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("TORII_DATABASE_URL"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_migrated_by_a_newer_version_is_refused() {
    let db = TestDb::new(Backend::Postgres).await;
    {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99991231000000, 'from the future', TRUE, '\\x00', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_torii-server"))
        .env_clear()
        .env("TORII_DATABASE_URL", &db.url)
        .env("TORII_LISTEN", "127.0.0.1:0")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("newer version"), "{stderr}");
}
