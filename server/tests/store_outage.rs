//! The database goes away and comes back, the ways an operator sees it happen: a stop (every
//! live connection ended by the server, new ones refused), a network cut, another process
//! holding SQLite's write lock past the busy timeout. Every request the outage fails answers
//! `503 store_unavailable` with `Retry-After` within a bound (never a 500, never a hang), the
//! server recovers by itself, nothing acknowledged before the outage is lost, and a sign-up
//! caught by it is either complete or cleanly absent afterwards.
//!
//! The shared database servers of the machine are never stopped: a stop is what the server
//! sees of it, its own connections terminated by the database (`pg_terminate_backend`,
//! `KILL CONNECTION`) while a proxy in front of the database refuses new ones.

mod common;

use common::db::{Backend, TestDb};
use common::process::{HttpResponse, Node, Proxy};
use serde_json::json;
use sqlx::Connection as _;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

const CODE_LINE: &str = "Your verification code is";

/// How many codes the node has emailed so far.
fn codes_sent(node: &Node) -> usize {
    node.log().iter().filter(|l| l.contains(CODE_LINE)).count()
}

/// The six-digit code of the first email sent after `before` codes had been.
async fn code_after(node: &Node, before: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(line) = node
            .log()
            .into_iter()
            .filter(|l| l.contains(CODE_LINE))
            .nth(before)
        {
            return line
                .split(CODE_LINE)
                .nth(1)
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .take(6)
                .collect();
        }
        assert!(Instant::now() < deadline, "no code emailed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts a sign-up and reads the code it emailed: its id and code.
async fn sign_up_with_code(node: &Node, email: &str) -> (String, String) {
    let before = codes_sent(node);
    let created = start_sign_up(node, email).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    (id, code_after(node, before).await)
}

async fn start_sign_up(node: &Node, email: &str) -> HttpResponse {
    node.request(
        "POST",
        "/v1/sign-ups",
        &[],
        Some(&json!({"email": email, "password": PASSWORD})),
    )
    .await
    .unwrap()
}

async fn verify(node: &Node, id: &str, code: &str) -> HttpResponse {
    node.request(
        "POST",
        &format!("/v1/sign-ups/{id}/verify"),
        &[],
        Some(&json!({"code": code})),
    )
    .await
    .unwrap()
}

async fn sign_in(node: &Node, email: &str) -> HttpResponse {
    node.request(
        "POST",
        "/v1/sign-in/password",
        &[],
        Some(&json!({"email": email, "password": PASSWORD})),
    )
    .await
    .unwrap()
}

/// A signed-up user: its bearer header, and the id of a second session of it to revoke.
struct Account {
    bearer: String,
    other_session: String,
}

async fn signed_up(node: &Node, email: &str) -> Account {
    let (id, code) = sign_up_with_code(node, email).await;
    let verified = verify(node, &id, &code).await;
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    let second = sign_in(node, email).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    Account {
        bearer: format!("Bearer {}", verified.session_token().unwrap()),
        other_session: second.body["session"]["id"].as_str().unwrap().to_owned(),
    }
}

/// `503 store_unavailable` with a `Retry-After` of whole seconds, and an opaque body.
#[track_caller]
fn assert_store_unavailable(what: &str, answer: &HttpResponse) {
    assert_eq!(answer.status, 503, "{what}: {:?}", answer.body);
    assert_eq!(answer.body["error"]["code"], "store_unavailable", "{what}");
    let retry_after = answer
        .headers
        .get("retry-after")
        .and_then(|v| v.first())
        .unwrap_or_else(|| panic!("{what}: no Retry-After"));
    assert!(
        retry_after.parse::<u64>().is_ok_and(|s| s > 0),
        "{what}: Retry-After {retry_after:?}"
    );
    assert_eq!(
        answer.body["error"]["retryAfterSecs"].to_string(),
        *retry_after,
        "{what}"
    );
}

/// A `503` page with a `Retry-After` of whole seconds: what a browser step answers while the
/// store is unreachable.
#[track_caller]
fn assert_unavailable_page(what: &str, answer: &HttpResponse) {
    assert_eq!(answer.status, 503, "{what}: {:?}", answer.body);
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_else(|| panic!("{what}: no {name}"))
    };
    assert!(
        header("content-type").starts_with("text/html"),
        "{what}: not a page"
    );
    assert!(
        header("retry-after").parse::<u64>().is_ok_and(|s| s > 0),
        "{what}: Retry-After"
    );
}

/// Every kind of request the issue names, during the outage: each answers 503, none a 500,
/// within a bound.
async fn assert_outage_answers(node: &Node, account: &Account, email: &str, round: &str) {
    let started = Instant::now();
    let ready = node.request("GET", "/readyz", &[], None).await.unwrap();
    assert_store_unavailable("/readyz", &ready);
    let me = node
        .request("GET", "/me", &[("Authorization", &account.bearer)], None)
        .await
        .unwrap();
    assert_store_unavailable("/me", &me);
    assert_store_unavailable("password sign-in", &sign_in(node, email).await);
    let newcomer = format!("newcomer-{round}@example.com");
    assert_store_unavailable("sign-up", &start_sign_up(node, &newcomer).await);
    let revoke = node
        .request(
            "DELETE",
            &format!("/v1/sessions/{}", account.other_session),
            &[("Authorization", &account.bearer)],
            None,
        )
        .await
        .unwrap();
    assert_store_unavailable("session revoke", &revoke);
    // The browser steps of a provider sign-in answer pages, not JSON: the same 503 and
    // Retry-After, as a page.
    let start = node
        .request("GET", "/v1/oauth/oidc/start", &[], None)
        .await
        .unwrap();
    assert_unavailable_page("OAuth start", &start);
    let callback = node
        .request(
            "GET",
            "/v1/oauth/oidc/callback?code=some-code&state=some-state",
            &[("Cookie", "torii_oauth=some-state")],
            None,
        )
        .await
        .unwrap();
    assert_unavailable_page("OAuth callback", &callback);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "bounded, not a hang"
    );
    // Liveness is not readiness.
    let health = node.request("GET", "/healthz", &[], None).await.unwrap();
    assert_eq!(health.status, 200);
}

/// Polls readiness until it is back, then checks the account, the sign-up the outage refused
/// and the revoke it refused all work without a restart.
async fn assert_recovered(node: &Node, account: &Account, email: &str, round: &str) {
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
        .request("GET", "/me", &[("Authorization", &account.bearer)], None)
        .await
        .unwrap();
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["user"]["email"], email);
    assert_eq!(sign_in(node, email).await.status, 200);
    let newcomer = format!("newcomer-{round}@example.com");
    let created = start_sign_up(node, &newcomer).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let revoke = node
        .request(
            "DELETE",
            &format!("/v1/sessions/{}", account.other_session),
            &[("Authorization", &account.bearer)],
            None,
        )
        .await
        .unwrap();
    assert!(
        revoke.status == 204 || revoke.status == 404,
        "{:?}",
        revoke.body
    );
}

/// How many users hold `email`, read straight from the database.
async fn users_with_email(db: &TestDb, email: &str) -> i64 {
    match db.backend {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email_canonical = $1")
                .bind(email)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email_canonical = ?")
                .bind(email)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email_canonical = ?")
                .bind(email)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    }
}

/// A sign-up whose code was sent before the outage and whose verification raced it: after
/// recovery it is complete (the user signs in) or cleanly absent (the same code completes
/// it now), and there is exactly one user either way.
async fn assert_caught_sign_up_is_whole(
    node: &Node,
    db: &TestDb,
    email: &str,
    id: &str,
    code: &str,
    during: &HttpResponse,
) {
    if during.status == 200 {
        assert_eq!(sign_in(node, email).await.status, 200);
    } else {
        assert_store_unavailable("verification during the outage", during);
        let again = verify(node, id, code).await;
        if again.status != 200 {
            // The commit reached the database but its answer did not reach the server.
            assert_eq!(
                sign_in(node, email).await.status,
                200,
                "half-written: {:?}",
                again.body
            );
        }
    }
    assert_eq!(users_with_email(db, email).await, 1);
}

/// What a stop does to the server's own connections: each is ended by the database server
/// (PostgreSQL sends `57P01 admin_shutdown`, MariaDB ends the connection); waits until the
/// database no longer lists any of them.
async fn terminate_connections(db: &TestDb) {
    let name = url::Url::parse(&db.url).unwrap().path()[1..].to_owned();
    let admin = common::db::admin_url(db.backend);
    let deadline = Instant::now() + Duration::from_secs(10);
    match db.backend {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            loop {
                let left: Vec<i32> = sqlx::query_scalar(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 \
                     AND pid <> pg_backend_pid()",
                )
                .bind(&name)
                .fetch_all(&mut conn)
                .await
                .unwrap();
                if left.is_empty() {
                    return;
                }
                for pid in left {
                    sqlx::query("SELECT pg_terminate_backend($1)")
                        .bind(pid)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                assert!(Instant::now() < deadline, "connections survived");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Backend::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(&admin).await.unwrap();
            loop {
                let left: Vec<i64> = sqlx::query_scalar(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? \
                     AND ID <> CONNECTION_ID()",
                )
                .bind(&name)
                .fetch_all(&mut conn)
                .await
                .unwrap();
                if left.is_empty() {
                    return;
                }
                for id in left {
                    // Gone already between the read and the kill: fine.
                    let _ = sqlx::query(&format!("KILL CONNECTION {id}"))
                        .execute(&mut conn)
                        .await;
                }
                assert!(Instant::now() < deadline, "connections survived");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Backend::Sqlite => unreachable!("SQLite has no server"),
    }
}

/// One environment with passwords and an OpenID provider that is never reached (its discovery
/// happens on first use, and every request here fails before it).
fn oauth_config() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "{}.toml",
        torii_server::session::new_id("torii-outage")
    ));
    std::fs::write(
        &path,
        "[[environments]]\nname = \"Outage\"\nmode = \"test\"\n\
         publishable_key = \"pk_test_outage\"\nsecret_key = \"sk_test_outage\"\n\
         methods = [\"password\", \"oauth\"]\n\n\
         [[environments.oauth_providers]]\nid = \"oidc\"\nkind = \"oidc\"\nname = \"IdP\"\n\
         issuer = \"http://127.0.0.1:9\"\nclient_id = \"outage\"\nclient_secret = \"outage-secret\"\n",
    )
    .unwrap();
    path
}

async fn outage_and_recovery(backend: Backend, db_port: u16) {
    let db = TestDb::new(backend).await;
    let mut proxy = Proxy::start(db_port).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let config = oauth_config();
    let node = Node::start(&[
        ("TORII_DATABASE_URL", url.as_str()),
        ("TORII_CONFIG", config.to_str().unwrap()),
    ])
    .await;
    let email = "durable@example.com";
    let account = signed_up(&node, email).await;

    // A stop: the database ends every live connection and refuses new ones, while a sign-up
    // is being verified.
    let caught = "caught@example.com";
    let (caught_id, caught_code) = sign_up_with_code(&node, caught).await;
    let racing = {
        let node_port = node.port;
        let (id, code) = (caught_id.clone(), caught_code.clone());
        tokio::spawn(async move {
            common::process::request_port(
                node_port,
                "POST",
                &format!("/v1/sign-ups/{id}/verify"),
                &[],
                Some(&json!({"code": code})),
            )
            .await
            .unwrap()
        })
    };
    proxy.refuse_new().await;
    terminate_connections(&db).await;
    assert_outage_answers(&node, &account, email, "stop").await;
    let during = racing.await.unwrap();
    // The outage reached the server as the database's own words on its live connections,
    // not only as refused connections.
    let log = node.log().join("\n");
    let shutdown_words = match backend {
        Backend::Postgres => "administrator command",
        _ => "store unavailable",
    };
    assert!(
        log.contains(shutdown_words),
        "no {shutdown_words:?} in the log"
    );
    assert!(
        !log.contains("internal error"),
        "a request failed as internal"
    );
    proxy.resume().await;
    assert_recovered(&node, &account, email, "stop").await;
    assert_caught_sign_up_is_whole(&node, &db, caught, &caught_id, &caught_code, &during).await;

    // A network cut: open connections reset, new ones refused.
    let account = signed_up(&node, "cut@example.com").await;
    proxy.cut().await;
    assert_outage_answers(&node, &account, "cut@example.com", "cut").await;
    proxy.resume().await;
    assert_recovered(&node, &account, "cut@example.com", "cut").await;
    assert!(
        !node.log().join("\n").contains("internal error"),
        "a request failed as internal"
    );
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

/// SQLite: another process holds the write lock past the busy timeout. Reads still answer
/// (write-ahead log), every write answers 503 with `Retry-After`, and all is well once the
/// lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_locked_past_the_busy_timeout_is_503_and_recovers() {
    let db = TestDb::new(Backend::Sqlite).await;
    let node = Node::start(&[("TORII_DATABASE_URL", &db.url)]).await;
    let email = "durable@example.com";
    let account = signed_up(&node, email).await;

    let mut holder = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("DELETE FROM rate_limits")
        .execute(&mut holder)
        .await
        .unwrap();

    let me = node
        .request("GET", "/me", &[("Authorization", &account.bearer)], None)
        .await
        .unwrap();
    assert!(
        me.status == 200 || me.status == 503,
        "/me while locked: {:?}",
        me.body
    );
    if me.status == 503 {
        assert_store_unavailable("/me", &me);
    }
    assert_store_unavailable("password sign-in", &sign_in(&node, email).await);
    assert_store_unavailable(
        "sign-up",
        &start_sign_up(&node, "newcomer-lock@example.com").await,
    );
    let revoke = node
        .request(
            "DELETE",
            &format!("/v1/sessions/{}", account.other_session),
            &[("Authorization", &account.bearer)],
            None,
        )
        .await
        .unwrap();
    assert_store_unavailable("session revoke", &revoke);

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    drop(holder);
    assert_recovered(&node, &account, email, "lock").await;
    assert!(
        !node.log().join("\n").contains("internal error"),
        "a request failed as internal"
    );
    node.stop().await;
}
