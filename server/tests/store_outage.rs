//! The database goes away and comes back: readiness and API calls answer 503
//! `store_unavailable` within a bound (no hang), the server recovers by itself, and nothing
//! acknowledged before the outage is lost.

mod common;

use common::db::{Backend, TestDb};
use common::process::{Node, Proxy};
use serde_json::json;
use std::time::{Duration, Instant};

async fn outage_and_recovery(backend: Backend, db_port: u16) {
    let db = TestDb::new(backend).await;
    let mut proxy = Proxy::start(db_port).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let node = Node::start(&[("TORII_DATABASE_URL", url.as_str())]).await;

    let created = node
        .request(
            "POST",
            "/v1/sign-ups",
            &[],
            Some(&json!({"email": "durable@example.com", "password": "correct horse battery"})),
        )
        .await
        .unwrap();
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let line = node.wait_for_log("Your verification code is").await;
    let code: String = line
        .split("Your verification code is")
        .nth(1)
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    let verified = node
        .request(
            "POST",
            &format!("/v1/sign-ups/{id}/verify"),
            &[],
            Some(&json!({"code": code})),
        )
        .await
        .unwrap();
    assert_eq!(verified.status, 200);
    let bearer = format!("Bearer {}", verified.session_token().unwrap());

    proxy.cut().await;
    let started = Instant::now();
    let ready = node.request("GET", "/readyz", &[], None).await.unwrap();
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body["error"]["code"], "store_unavailable");
    let me = node
        .request("GET", "/me", &[("Authorization", &bearer)], None)
        .await
        .unwrap();
    assert_eq!(me.status, 503, "{:?}", me.body);
    assert_eq!(me.body["error"]["code"], "store_unavailable");
    let sign_in = node
        .request(
            "POST",
            "/v1/sign-in/password",
            &[],
            Some(&json!({"email": "durable@example.com", "password": "correct horse battery"})),
        )
        .await
        .unwrap();
    assert_eq!(sign_in.status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded, not a hang"
    );
    // Liveness is not readiness.
    assert_eq!(
        node.request("GET", "/healthz", &[], None)
            .await
            .unwrap()
            .status,
        200
    );

    proxy.resume().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = node.request("GET", "/readyz", &[], None).await.unwrap();
        if ready.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let me = node
        .request("GET", "/me", &[("Authorization", &bearer)], None)
        .await
        .unwrap();
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["email"], "durable@example.com");
    node.stop().await;
    proxy.cut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_is_503_and_recovers() {
    let port = url::Url::parse(&common::db::admin_url(Backend::Postgres))
        .unwrap()
        .port()
        .unwrap_or(5432);
    outage_and_recovery(Backend::Postgres, port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_outage_is_503_and_recovers() {
    let port = url::Url::parse(&common::db::admin_url(Backend::MySql))
        .unwrap()
        .port()
        .unwrap_or(3306);
    outage_and_recovery(Backend::MySql, port).await;
}
