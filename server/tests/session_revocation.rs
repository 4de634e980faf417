//! Revocation across nodes: two `torii-server` processes on one database, each answering
//! sessions from its own cache. A change made through node A (sign-out, revoking the other
//! sessions, a password change, the user deleted, a name change) is seen by node B within the
//! revocation bound, found by polling B with a deadline; on PostgreSQL also after B's `LISTEN`
//! connection was killed, and through the notification alone when polls are far apart. Run on
//! PostgreSQL, on MariaDB, and on one SQLite file shared by both processes.

mod common;

use common::db::{Backend, TestDb};
use common::process::{HttpResponse, Node, Proxy};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SECRET_KEY: &str = "sk_test_revocation_nodes";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "another horse battery staple";
/// What the test allows beyond the bound: the polled request's own time on a busy machine.
const SLACK: Duration = Duration::from_millis(1500);

struct Nodes {
    a: Node,
    b: Node,
    db: TestDb,
    dir: PathBuf,
    bound: Duration,
}

impl Nodes {
    async fn start(backend: Backend, bound: Duration) -> Self {
        let db = TestDb::new(backend).await;
        let dir = std::env::temp_dir().join(torii_server::session::new_id("torii-revocation"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("torii.toml");
        std::fs::write(
            &config,
            format!(
                "[[environments]]\nname = \"Nodes\"\npublishable_key = \"pk_test_revocation\"\n\
                 secret_key = \"{SECRET_KEY}\"\n"
            ),
        )
        .unwrap();
        let bound_ms = bound.as_millis().to_string();
        let vars = [
            ("TORII_DATABASE_URL", db.url.as_str()),
            ("TORII_CONFIG", config.to_str().unwrap()),
            ("TORII_REVOCATION_BOUND_MS", bound_ms.as_str()),
        ];
        let a = Node::start(&vars).await;
        let b = Node::start(&vars).await;
        Self {
            a,
            b,
            db,
            dir,
            bound,
        }
    }

    async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        drop(self.db);
    }

    /// A user made through the secret-key API of node A; answers its id.
    async fn user(&self, email: &str) -> String {
        let admin = format!("Bearer {SECRET_KEY}");
        let created = self
            .a
            .request(
                "POST",
                "/v1/admin/users",
                &[("Authorization", &admin)],
                Some(&json!({"email": email, "password": PASSWORD, "emailVerified": true})),
            )
            .await
            .unwrap();
        assert_eq!(created.status, 201, "{:?}", created.body);
        created.body["id"].as_str().unwrap().to_owned()
    }

    /// A new session of the user (signed in on node A), as a bearer header value.
    async fn sign_in(&self, email: &str, password: &str) -> String {
        let signed_in = self
            .a
            .request(
                "POST",
                "/v1/sign-in/password",
                &[],
                Some(&json!({"email": email, "password": password})),
            )
            .await
            .unwrap();
        assert_eq!(signed_in.status, 200, "{:?}", signed_in.body);
        format!("Bearer {}", signed_in.session_token().unwrap())
    }
}

async fn me(node: &Node, bearer: &str) -> HttpResponse {
    let me = node
        .request("GET", "/me", &[("Authorization", bearer)], None)
        .await
        .unwrap();
    assert_eq!(me.status, 200, "{:?}", me.body);
    me
}

/// Reads `/me` on a node twice (the second answer may come from its cache) and checks the
/// session is signed in.
async fn warm(node: &Node, bearer: &str) {
    for _ in 0..2 {
        let me = me(node, bearer).await;
        assert_eq!(me.body["session"]["status"], "active", "{:?}", me.body);
    }
}

/// Polls `/me` on a node until `done` holds for its body; fails when that takes longer than
/// `within` from `since` (the moment the change was answered on the other node).
async fn until(
    node: &Node,
    bearer: &str,
    since: Instant,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) {
    loop {
        let me = me(node, bearer).await;
        if done(&me.body) {
            return;
        }
        assert!(
            since.elapsed() <= within,
            "the other node still answered {} after {:?}",
            me.body,
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn signed_out(body: &Value) -> bool {
    body["user"].is_null() && body["session"].is_null()
}

/// Each kind of change made on A reaches B's cache within the bound.
async fn changes_on_one_node_reach_the_other_within_the_bound(backend: Backend) {
    let nodes = Nodes::start(backend, Duration::from_secs(1)).await;
    let within = nodes.bound + SLACK;
    let (a, b) = (&nodes.a, &nodes.b);

    // Sign-out.
    nodes.user("out@example.com").await;
    let session = nodes.sign_in("out@example.com", PASSWORD).await;
    warm(a, &session).await;
    warm(b, &session).await;
    let out = a
        .request("POST", "/v1/sign-out", &[("Authorization", &session)], None)
        .await
        .unwrap();
    assert_eq!(out.status, 204);
    until(b, &session, Instant::now(), within, signed_out).await;
    // A protected route on B refuses it too.
    let listed = b
        .request("GET", "/v1/sessions", &[("Authorization", &session)], None)
        .await
        .unwrap();
    assert_eq!(listed.status, 401, "{:?}", listed.body);

    // Revoking the other sessions: the one that asked stays.
    nodes.user("others@example.com").await;
    let kept = nodes.sign_in("others@example.com", PASSWORD).await;
    let other = nodes.sign_in("others@example.com", PASSWORD).await;
    warm(b, &kept).await;
    warm(b, &other).await;
    let revoked = a
        .request("DELETE", "/v1/sessions", &[("Authorization", &kept)], None)
        .await
        .unwrap();
    assert!(revoked.status < 300, "{:?}", revoked.body);
    until(b, &other, Instant::now(), within, signed_out).await;
    assert_eq!(me(b, &kept).await.body["session"]["status"], "active");

    // A password change that signs the other sessions out.
    nodes.user("password@example.com").await;
    let changer = nodes.sign_in("password@example.com", PASSWORD).await;
    let other = nodes.sign_in("password@example.com", PASSWORD).await;
    warm(b, &other).await;
    let changed = a
        .request(
            "POST",
            "/v1/me/password",
            &[("Authorization", &changer)],
            Some(&json!({
                "currentPassword": PASSWORD,
                "newPassword": NEW_PASSWORD,
                "signOutOtherSessions": true
            })),
        )
        .await
        .unwrap();
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    until(b, &other, Instant::now(), within, signed_out).await;

    // The user deleted through the secret-key API.
    let id = nodes.user("deleted@example.com").await;
    let session = nodes.sign_in("deleted@example.com", PASSWORD).await;
    warm(b, &session).await;
    let admin = format!("Bearer {SECRET_KEY}");
    let deleted = a
        .request(
            "DELETE",
            &format!("/v1/admin/users/{id}"),
            &[("Authorization", &admin)],
            None,
        )
        .await
        .unwrap();
    assert!(deleted.status < 300, "{:?}", deleted.body);
    until(b, &session, Instant::now(), within, signed_out).await;

    // A name change shows on B's /me.
    nodes.user("name@example.com").await;
    let session = nodes.sign_in("name@example.com", PASSWORD).await;
    warm(b, &session).await;
    assert_eq!(me(b, &session).await.body["user"]["name"], Value::Null);
    let renamed = a
        .request(
            "PATCH",
            "/v1/me",
            &[("Authorization", &session)],
            Some(&json!({"name": "Ada"})),
        )
        .await
        .unwrap();
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    until(b, &session, Instant::now(), within, |body| {
        body["user"]["name"] == "Ada"
    })
    .await;

    // A gate required on the user through the secret-key API makes B's session pending.
    let id = nodes.user("gate@example.com").await;
    let session = nodes.sign_in("gate@example.com", PASSWORD).await;
    warm(b, &session).await;
    let required = a
        .request(
            "POST",
            &format!("/v1/admin/users/{id}/gates"),
            &[("Authorization", &admin)],
            Some(&json!({"key": "mfa_enrollment"})),
        )
        .await
        .unwrap();
    assert!(required.status < 300, "{:?}", required.body);
    until(b, &session, Instant::now(), within, |body| {
        body["session"]["status"] == "pending"
    })
    .await;

    nodes.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_reach_the_other_node_on_postgres() {
    changes_on_one_node_reach_the_other_within_the_bound(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_reach_the_other_node_on_mariadb() {
    changes_on_one_node_reach_the_other_within_the_bound(Backend::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_reach_the_other_process_on_one_sqlite_file() {
    changes_on_one_node_reach_the_other_within_the_bound(Backend::Sqlite).await;
}

/// The nodes' revocation listeners on this test's PostgreSQL database.
async fn listeners(db: &TestDb) -> i64 {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(torii_server::session::follow::LISTENER_NAME)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

async fn until_listeners(db: &TestDb, count: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while listeners(db).await != count {
        assert!(Instant::now() < deadline, "no {count} listeners");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills every revocation listener connection on the test's database; answers how many.
async fn kill_listeners(db: &TestDb) -> i64 {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(torii_server::session::follow::LISTENER_NAME)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    i64::try_from(killed.into_iter().filter(|k| *k).count()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_listen_connection_delays_no_revocation_past_the_bound_on_postgres() {
    let nodes = Nodes::start(Backend::Postgres, Duration::from_secs(1)).await;
    let within = nodes.bound + SLACK;
    until_listeners(&nodes.db, 2).await;
    nodes.user("killed@example.com").await;
    let session = nodes.sign_in("killed@example.com", PASSWORD).await;
    warm(&nodes.b, &session).await;

    assert_eq!(kill_listeners(&nodes.db).await, 2);
    // At once, before the listeners can be back: only the polled log can carry it.
    let out = nodes
        .a
        .request("POST", "/v1/sign-out", &[("Authorization", &session)], None)
        .await
        .unwrap();
    assert_eq!(out.status, 204);
    until(&nodes.b, &session, Instant::now(), within, signed_out).await;

    // The listeners come back by themselves.
    until_listeners(&nodes.db, 2).await;
    nodes.stop().await;
}

/// With polls two minutes apart, a revocation seen within seconds can only have come through
/// the notification: the listener works, and works again after its connection was killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_notification_alone_carries_a_revocation_on_postgres() {
    let nodes = Nodes::start(Backend::Postgres, Duration::from_secs(480)).await;
    // Polls are 120 s apart; the whole test takes far less, so none but the ones at start
    // and on each (re)connection of a listener happen during it.
    let within = Duration::from_secs(20);
    until_listeners(&nodes.db, 2).await;

    nodes.user("notified@example.com").await;
    let first = nodes.sign_in("notified@example.com", PASSWORD).await;
    let second = nodes.sign_in("notified@example.com", PASSWORD).await;
    warm(&nodes.b, &first).await;
    warm(&nodes.b, &second).await;
    let out = nodes
        .a
        .request("POST", "/v1/sign-out", &[("Authorization", &first)], None)
        .await
        .unwrap();
    assert_eq!(out.status, 204);
    until(&nodes.b, &first, Instant::now(), within, signed_out).await;

    // Killed, the listeners come back by themselves (each then reads the log once, for what
    // was sent while it was away), and revocations keep arriving long before the next poll.
    assert_eq!(kill_listeners(&nodes.db).await, 2);
    until_listeners(&nodes.db, 2).await;
    let out = nodes
        .a
        .request("POST", "/v1/sign-out", &[("Authorization", &second)], None)
        .await
        .unwrap();
    assert_eq!(out.status, 204);
    until(&nodes.b, &second, Instant::now(), within, signed_out).await;
    nodes.stop().await;
}

/// Deletes every session with SQL of its own, as no Torii write would: without a log entry.
async fn delete_sessions_directly(db: &TestDb) {
    use sqlx::Connection as _;
    match db.backend {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query("DELETE FROM sessions")
                .execute(&mut conn)
                .await
                .unwrap();
        }
        Backend::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
            sqlx::query("DELETE FROM sessions")
                .execute(&mut conn)
                .await
                .unwrap();
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query("DELETE FROM sessions")
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// The cache is what answers: a session removed behind the store's back (no log entry) is
/// still answered by a node that had it cached, while a node that had not asks the database.
/// (The tests above are therefore about the log, not about nodes that never cache.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_answers_a_cached_session_from_memory() {
    let nodes = Nodes::start(Backend::Postgres, Duration::from_secs(1)).await;
    nodes.user("cached@example.com").await;
    let session = nodes.sign_in("cached@example.com", PASSWORD).await;
    warm(&nodes.b, &session).await;
    delete_sessions_directly(&nodes.db).await;
    assert!(signed_out(&me(&nodes.a, &session).await.body));
    assert_eq!(
        me(&nodes.b, &session).await.body["session"]["status"],
        "active"
    );
    nodes.stop().await;
}

/// A node that cannot read the revocation log stops answering from its cache within the
/// bound (503 while the database is unreachable), and after the outage asks the database.
async fn a_node_cut_from_the_log_stops_answering_from_its_cache(backend: Backend, db_port: u16) {
    let db = TestDb::new(backend).await;
    let mut proxy = Proxy::start(db_port).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let node = Node::start(&[
        ("TORII_DATABASE_URL", url.as_str()),
        ("TORII_REVOCATION_BOUND_MS", "1000"),
    ])
    .await;
    let created = node
        .request(
            "POST",
            "/v1/sign-ups",
            &[],
            Some(&json!({"email": "cut@example.com", "password": PASSWORD})),
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
    warm(&node, &bearer).await;

    proxy.cut().await;
    let cut = Instant::now();
    // The cache may answer until the bound has passed; then every answer is 503.
    loop {
        let me = node
            .request("GET", "/me", &[("Authorization", &bearer)], None)
            .await
            .unwrap();
        if me.status == 503 {
            assert_eq!(me.body["error"]["code"], "store_unavailable");
            break;
        }
        assert_eq!(me.status, 200, "{:?}", me.body);
        assert!(
            cut.elapsed() <= Duration::from_secs(1) + SLACK,
            "still answered from the cache {:?} after the log became unreadable",
            cut.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Removed while the node could not see it, without a log entry the node could read later:
    // back online, the node must not answer from what it held before.
    delete_sessions_directly(&db).await;
    proxy.resume().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let me = node
            .request("GET", "/me", &[("Authorization", &bearer)], None)
            .await
            .unwrap();
        if me.status == 200 {
            assert!(signed_out(&me.body), "{:?}", me.body);
            break;
        }
        assert!(Instant::now() < deadline, "the node did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    node.stop().await;
    proxy.cut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_cut_from_the_log_stops_answering_from_its_cache_on_postgres() {
    let port = url::Url::parse(&common::db::admin_url(Backend::Postgres))
        .unwrap()
        .port()
        .unwrap_or(5432);
    a_node_cut_from_the_log_stops_answering_from_its_cache(Backend::Postgres, port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_cut_from_the_log_stops_answering_from_its_cache_on_mariadb() {
    let port = url::Url::parse(&common::db::admin_url(Backend::MySql))
        .unwrap()
        .port()
        .unwrap_or(3306);
    a_node_cut_from_the_log_stops_answering_from_its_cache(Backend::MySql, port).await;
}
