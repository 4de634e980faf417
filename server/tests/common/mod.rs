//! Helpers for HTTP tests: a Torii instance on a fresh database (a SQLite file, or with
//! `TORII_TEST_BACKEND=postgres` / `mysql` a database of its own on that server), an outbox
//! mailer, a manual clock, and a small client that drives the real router with `oneshot`.

#![allow(dead_code, unreachable_pub)]

pub mod authenticator;
pub mod db;
pub mod process;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use torii_server::mail::OutboxMailer;
use torii_server::store::Store;
use torii_server::{Environment, ManualClock, Torii};
use torii_shared::SignInMethod;
use tower::ServiceExt as _;

pub const ORIGIN: &str = "http://localhost:3000";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub torii: Torii,
    pub router: Router,
    pub outbox: OutboxMailer,
    pub clock: ManualClock,
    db_dir: PathBuf,
    /// The test's own database, dropped with the app.
    db: Option<db::TestDb>,
}

impl TestApp {
    /// An app around a Torii built by the test itself; `outbox` is where its mail ends up.
    pub fn from_parts(torii: Torii, outbox: OutboxMailer) -> Self {
        Self {
            router: torii_server::router(torii.clone()),
            torii,
            outbox,
            clock: ManualClock::default(),
            db_dir: std::env::temp_dir().join(unique("torii-unused")),
            db: None,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.db_dir);
    }
}

pub fn unique(prefix: &str) -> String {
    torii_server::session::new_id(prefix)
}

pub fn legal_env() -> Environment {
    let mut env = Environment::new_test("env_test", "Acme", "pk_test_acme", "sk_test_acme");
    env.terms_url = Some("https://example.com/terms".into());
    env.privacy_url = Some("https://example.com/privacy".into());
    env
}

/// [`legal_env`] with sign-in links enabled beside passwords.
pub fn links_env() -> Environment {
    let mut env = legal_env();
    env.methods = vec![SignInMethod::Password, SignInMethod::MagicLink];
    env
}

pub async fn app() -> TestApp {
    app_with(vec![legal_env()]).await
}

pub async fn app_with(envs: Vec<Environment>) -> TestApp {
    let db = db::TestDb::new(backend_under_test()).await;
    let mut app = app_on(
        Arc::clone(&db.store),
        envs,
        OutboxMailer::new(),
        ManualClock::default(),
    )
    .await;
    app.db = Some(db);
    app
}

/// The backend HTTP tests run on: `TORII_TEST_BACKEND` (`sqlite`, the default, `postgres`
/// or `mysql`). The test command runs the HTTP suites on SQLite and again on PostgreSQL.
pub fn backend_under_test() -> db::Backend {
    match std::env::var("TORII_TEST_BACKEND").as_deref() {
        Err(_) | Ok("" | "sqlite") => db::Backend::Sqlite,
        Ok("postgres") => db::Backend::Postgres,
        Ok("mysql") => db::Backend::MySql,
        Ok(other) => panic!("TORII_TEST_BACKEND: unknown backend {other:?}"),
    }
}

/// The server key of every test node: nodes sharing a store share it, as a deployment's
/// nodes share their key file.
pub fn test_server_key() -> torii_server::secret_key::ServerKey {
    torii_server::secret_key::ServerKey::from_bytes([7; 32])
}

/// An app (one server node) on a given store, mailer and clock.
pub async fn app_on(
    store: Arc<dyn Store>,
    envs: Vec<Environment>,
    outbox: OutboxMailer,
    clock: ManualClock,
) -> TestApp {
    let db_dir = std::env::temp_dir().join(unique("torii-unused"));
    let mut builder = Torii::builder()
        .shared_store(store)
        .mailer(outbox.clone())
        .clock(clock.clone())
        .public_url(ORIGIN.parse().unwrap())
        .secret_key(test_server_key())
        .hash_parallelism(2);
    for env in envs {
        builder = builder.environment(env);
    }
    let torii = builder.build().await.unwrap();
    TestApp {
        router: torii_server::router(torii.clone()),
        torii,
        outbox,
        clock,
        db_dir,
        db: None,
    }
}

/// An app like [`app_with`] (its own database on the backend under test) whose builder the
/// test adjusts first: trusted proxies, the hashing queue, the breached-password check.
pub async fn app_built(
    envs: Vec<Environment>,
    adjust: impl FnOnce(torii_server::ToriiBuilder) -> torii_server::ToriiBuilder,
) -> TestApp {
    let db = db::TestDb::new(backend_under_test()).await;
    let outbox = OutboxMailer::new();
    let clock = ManualClock::default();
    let mut builder = Torii::builder()
        .shared_store(Arc::clone(&db.store))
        .mailer(outbox.clone())
        .clock(clock.clone())
        .public_url(ORIGIN.parse().unwrap())
        .hash_parallelism(2);
    for env in envs {
        builder = builder.environment(env);
    }
    let torii = adjust(builder).build().await.unwrap();
    TestApp {
        router: torii_server::router(torii.clone()),
        torii,
        outbox,
        clock,
        db_dir: std::env::temp_dir().join(unique("torii-unused")),
        db: Some(db),
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The session token from `Set-Cookie`, when one was set.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let first = v.split(';').next()?;
                let (name, value) = first.split_once('=')?;
                (name == "torii_session" && !value.is_empty()).then(|| value.to_owned())
            })
    }
}

pub async fn read(response: Response<Body>) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    TestResponse {
        status,
        headers,
        body,
        text,
    }
}

/// A request builder with the browser's defaults: same Origin, JSON.
pub struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

impl Req {
    pub fn get(path: &str) -> Self {
        Self {
            builder: Request::builder().method("GET").uri(path),
            body: Body::empty(),
        }
    }

    pub fn post(path: &str, json: &Value) -> Self {
        Self {
            builder: Request::builder()
                .method("POST")
                .uri(path)
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "application/json"),
            body: Body::from(json.to_string()),
        }
    }

    pub fn post_raw(path: &str, content_type: &str, body: impl Into<Body>) -> Self {
        Self {
            builder: Request::builder()
                .method("POST")
                .uri(path)
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, content_type),
            body: body.into(),
        }
    }

    /// Changes the method and path (for DELETE and friends), keeping the headers.
    pub fn method(mut self, method: &str, path: &str) -> Self {
        self.builder = self.builder.method(method).uri(path);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    /// The socket peer the request comes from (what `into_make_service_with_connect_info`
    /// gives a real server's requests): `ip:port`, or an IP alone.
    pub fn peer(mut self, addr: &str) -> Self {
        let addr: std::net::SocketAddr = addr
            .parse()
            .or_else(|_| format!("{addr}:40000").parse())
            .or_else(|_| format!("[{addr}]:40000").parse())
            .expect("an IP address");
        self.builder = self.builder.extension(axum::extract::ConnectInfo(addr));
        self
    }

    pub fn cookie(self, token: &str) -> Self {
        self.header("cookie", &format!("torii_session={token}"))
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub async fn send(self, app: &TestApp) -> TestResponse {
        let response = self.send_now(app).await;
        // Mail sent in the background (links, reset codes) is in the outbox before a test
        // looks.
        app.torii.mail_settled().await;
        response
    }

    /// Sends without waiting for the mail the request queued.
    pub async fn send_now(self, app: &TestApp) -> TestResponse {
        let request = self.builder.body(self.body).unwrap();
        read(app.router.clone().oneshot(request).await.unwrap()).await
    }
}

pub fn sign_up_body(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD, "name": "Ada", "legalAccepted": true})
}

pub fn code_from(app: &TestApp, email: &str) -> String {
    let message = app.outbox.last_to(email).expect("an email was sent");
    message
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code in the email")
        .to_owned()
}

/// Starts a sign-up and returns its id and the emailed code.
pub async fn start_sign_up(app: &TestApp, email: &str) -> (String, String) {
    let created = Req::post("/v1/sign-ups", &sign_up_body(email))
        .send(app)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    (id, code_from(app, email))
}

/// Signs up a user and returns their session token.
pub async fn signed_up(app: &TestApp, email: &str) -> String {
    let (id, code) = start_sign_up(app, email).await;
    let verified = Req::post(&format!("/v1/sign-ups/{id}/verify"), &json!({"code": code}))
        .send(app)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    verified.session_cookie().expect("a session cookie")
}

pub fn wrong_code(code: &str) -> String {
    let first = code.as_bytes()[0];
    let replaced = if first == b'9' {
        '0'
    } else {
        char::from(first + 1)
    };
    format!("{replaced}{}", &code[1..])
}

/// What the log says while it is installed on this thread (a current-thread test runtime
/// runs every request on it): `let log = LogCapture::install();` … `log.text()`.
pub struct LogCapture {
    buffer: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct LogWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    pub fn install() -> Self {
        let buffer = std::sync::Arc::default();
        let writer = LogWriter(std::sync::Arc::clone(&buffer));
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        Self {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.buffer.lock().unwrap().clone()).unwrap()
    }
}
