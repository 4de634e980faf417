//! The HTTP server's limits, on a real listener inside the test (`torii_server::serve::serve`,
//! what `torii-server` runs): a client that sends its header slowly is cut off; a request
//! slower than the request timeout answers 408 in the error shape; a connection over the cap
//! is answered 503 `server_busy` at once; shutdown stops accepting and lets the request in
//! flight finish. And a real `torii-server` process stopped with SIGTERM: it drains (readiness
//! 503, every request still served), then closes its listener, finishes the request in
//! flight and exits 0.

mod common;

use axum::routing::get;
use common::*;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use torii_server::serve::{ServeSettings, serve};

/// Longest a test waits for something that must happen.
const DEADLINE: Duration = Duration::from_secs(20);

struct Served {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// `/test/wait`'s signals: it notifies `entered`, then answers once `release` is notified.
#[derive(Default)]
struct Gate {
    entered: Notify,
    release: Notify,
}

/// Serves the app's router, plus `/test/slow` (never answers) and `/test/wait`, with
/// `settings`.
async fn served(app: &TestApp, settings: ServeSettings, gate: Arc<Gate>) -> Served {
    let router = app
        .router
        .clone()
        .route(
            "/test/slow",
            get(|| async {
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route(
            "/test/wait",
            get(move || {
                let gate = Arc::clone(&gate);
                async move {
                    gate.entered.notify_one();
                    gate.release.notified().await;
                    "released"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, router, settings, async {
        let _ = stopped.await;
    }));
    Served {
        addr,
        stop: Some(stop),
        done,
    }
}

struct Answer {
    status: u16,
    head: String,
    body: Value,
}

/// Sends `request` on `stream` and reads one answer (its `content-length` body).
async fn exchange(stream: &mut TcpStream, request: &str) -> Answer {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut chunk))
            .await
            .expect("an answer within the deadline")
            .unwrap();
        assert!(n > 0, "closed before a whole answer: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = text[..end].to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        if buf.len() >= end + 4 + length {
            let status = head[9..12].parse().unwrap();
            let body =
                serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap_or(Value::Null);
            return Answer { status, head, body };
        }
    }
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n")
}

/// Reads until the server closes the connection; fails after the deadline.
async fn closed_by_server(stream: &mut TcpStream) {
    let mut chunk = [0_u8; 1024];
    tokio::time::timeout(DEADLINE, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closed the connection");
}

#[tokio::test]
async fn a_client_sending_its_header_slowly_is_cut_off() {
    let app = app().await;
    let settings = ServeSettings {
        header_read_timeout: Duration::from_millis(300),
        ..ServeSettings::default()
    };
    let server = served(&app, settings, Arc::default()).await;
    // A whole request is answered...
    let mut quick = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(
        exchange(&mut quick, &get_request("/healthz")).await.status,
        200
    );
    // ...one whose header never ends is closed (a slowloris holds nothing for long).
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-a: 1\r\n")
        .await
        .unwrap();
    closed_by_server(&mut slow).await;
    // An idle keep-alive connection is closed the same way.
    closed_by_server(&mut quick).await;
}

#[tokio::test]
async fn a_request_slower_than_the_request_timeout_answers_408_in_the_error_shape() {
    let app = app().await;
    let settings = ServeSettings {
        request_timeout: Duration::from_millis(300),
        ..ServeSettings::default()
    };
    let server = served(&app, settings, Arc::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let answer = exchange(&mut stream, &get_request("/test/slow")).await;
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert_eq!(answer.body["error"]["code"], "request_timeout");
    assert!(answer.body["error"]["message"].is_string());
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    // A body that never arrives is cut off the same way.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let answer = exchange(
        &mut stream,
        "POST /v1/sign-in/password HTTP/1.1\r\nhost: localhost\r\norigin: http://localhost:3000\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"email\":",
    )
    .await;
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert_eq!(answer.body["error"]["code"], "request_timeout");
}

#[tokio::test]
async fn a_connection_over_the_cap_is_answered_503_at_once_and_served_once_there_is_room() {
    let app = app().await;
    let settings = ServeSettings {
        max_connections: 1,
        ..ServeSettings::default()
    };
    let server = served(&app, settings, Arc::default()).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(
        exchange(&mut first, &get_request("/healthz")).await.status,
        200
    );
    // The first connection stays open (keep-alive): the second is over the cap.
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    let refused = exchange(&mut second, &get_request("/healthz")).await;
    assert_eq!(refused.status, 503, "{}", refused.head);
    assert_eq!(refused.body["error"]["code"], "server_busy");
    assert!(refused.head.contains("retry-after: 1"), "{}", refused.head);
    closed_by_server(&mut second).await;
    // Once the first goes, there is room again (its slot is given back when the server sees
    // it close, so ask until then).
    drop(first);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let mut next = TcpStream::connect(server.addr).await.unwrap();
        let answer = exchange(&mut next, &get_request("/healthz")).await;
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 503);
        assert!(tokio::time::Instant::now() < deadline, "no room again");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn shutdown_stops_accepting_and_lets_the_request_in_flight_finish() {
    let app = app().await;
    let gate = Arc::new(Gate::default());
    let mut server = served(&app, ServeSettings::default(), Arc::clone(&gate)).await;
    let mut in_flight = TcpStream::connect(server.addr).await.unwrap();
    in_flight
        .write_all(get_request("/test/wait").as_bytes())
        .await
        .unwrap();
    gate.entered.notified().await;

    server.stop.take().unwrap().send(()).unwrap();
    // No new connection is accepted once the listener is gone.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while TcpStream::connect(server.addr).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "still accepting");
        tokio::task::yield_now().await;
    }
    assert!(!server.done.is_finished(), "a request is still in flight");
    // The request in flight is answered, then the server is done.
    gate.release.notify_one();
    let answer = exchange(&mut in_flight, "").await;
    assert_eq!(answer.status, 200);
    tokio::time::timeout(DEADLINE, server.done)
        .await
        .expect("serve returns once every connection is done")
        .unwrap()
        .unwrap();
}

/// The graceful stop of a real process, as a balancer sees it: SIGTERM turns `/readyz` to
/// `503 shutting_down` while the listener is still open and `/healthz` and the API still
/// answer; after the drain delay the listener closes; a request in flight (its body still
/// arriving) is answered; the process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_then_closes_the_listener_finishes_in_flight_requests_and_exits_0() {
    let db = db::TestDb::new(db::Backend::Sqlite).await;
    let node = process::Node::start(&[
        ("TORII_DATABASE_URL", &db.url),
        ("TORII_DRAIN_DELAY_SECS", "5"),
    ])
    .await;
    let ready = node.request("GET", "/readyz", &[], None).await.unwrap();
    assert_eq!(ready.status, 200);

    // In flight across the whole stop: the header and the start of the body are sent now, the
    // rest only once the listener is closed.
    let body = r#"{"email": "not an address", "password": "correct horse battery"}"#;
    let (start, rest) = body.split_at(12);
    let mut in_flight = TcpStream::connect(("127.0.0.1", node.port)).await.unwrap();
    in_flight
        .write_all(
            format!(
                "POST /v1/sign-ups HTTP/1.1\r\nhost: localhost\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n{start}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();

    node.terminate();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let ready = node
            .request("GET", "/readyz", &[], None)
            .await
            .expect("the listener stays open while readiness turns");
        if ready.status == 503 {
            assert_eq!(ready.body["error"]["code"], "shutting_down");
            break;
        }
        assert_eq!(ready.status, 200, "{:?}", ready.body);
        assert!(
            tokio::time::Instant::now() < deadline,
            "readiness never turned"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Draining, not stopped: liveness and the API answer as before.
    let health = node.request("GET", "/healthz", &[], None).await.unwrap();
    assert_eq!(health.status, 200);
    let environment = node
        .request("GET", "/v1/environment", &[], None)
        .await
        .unwrap();
    assert_eq!(environment.status, 200, "{:?}", environment.body);
    let again = node.request("GET", "/readyz", &[], None).await.unwrap();
    assert_eq!(again.body["error"]["code"], "shutting_down");

    // After the drain delay the listener closes.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while TcpStream::connect(("127.0.0.1", node.port)).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener never closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The request in flight is still answered, in full.
    let answer = exchange(&mut in_flight, rest).await;
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["code"], "validation_failed");
    let log = node.log().join("\n");
    let status = node.exited(DEADLINE).await;
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(log.contains("shutting down"), "{log}");
}
