//! The log as an operator's pipeline reads it, from a real `torii-server` process:
//! `TORII_LOG_FORMAT=json` writes one JSON object a line, each request's line with its
//! request id, method, route, status and latency; the id is the caller's `X-Request-Id` when
//! it sent a usable one, else a new one, and it comes back on the answer.

mod common;

use common::process::Node;
use serde_json::Value;

fn temp_db() -> String {
    let dir = std::env::temp_dir().join(common::unique("torii-logs-test"));
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite://{}?mode=rwc", dir.join("torii.db").display())
}

fn request_id(response: &common::process::HttpResponse) -> String {
    let ids = response
        .headers
        .get("x-request-id")
        .expect("an X-Request-Id header");
    assert_eq!(ids.len(), 1, "one X-Request-Id: {ids:?}");
    ids[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line_with_the_request_id_route_status_and_latency() {
    let db = temp_db();
    let node = Node::start(&[("TORII_DATABASE_URL", &db), ("TORII_LOG_FORMAT", "json")]).await;

    // The caller's id is kept and sent back.
    let me = node
        .request("GET", "/me", &[("X-Request-Id", "edge-7f3a.1")], None)
        .await
        .unwrap();
    assert_eq!(me.status, 200);
    assert_eq!(request_id(&me), "edge-7f3a.1");

    // Without one, or with one a log line cannot hold as it is, each request gets its own.
    let first = node.request("GET", "/healthz", &[], None).await.unwrap();
    let second = node
        .request("GET", "/healthz", &[("X-Request-Id", "two words\"")], None)
        .await
        .unwrap();
    let (first, second) = (request_id(&first), request_id(&second));
    assert_eq!(first.len(), 32);
    assert_eq!(second.len(), 32);
    assert_ne!(first, second);

    // A refused request is logged with its status too.
    let refused = node
        .request(
            "POST",
            "/v1/sign-in/password",
            &[],
            Some(&serde_json::json!({})),
        )
        .await
        .unwrap();
    let refused_id = request_id(&refused);
    assert_eq!(refused.status, 422);

    node.wait_for_log(&refused_id).await;
    let finished = |id: &str| -> Value {
        node.log()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|entry| {
                entry["span"]["request_id"] == id
                    && entry["message"] == "finished processing request"
            })
            .unwrap_or_else(|| panic!("no finished line for {id}:\n{}", node.log().join("\n")))
    };
    node.wait_for_log("edge-7f3a.1").await;
    let me_line = finished("edge-7f3a.1");
    assert_eq!(me_line["level"], "INFO");
    assert_eq!(me_line["span"]["method"], "GET");
    assert_eq!(me_line["span"]["route"], "/me");
    assert_eq!(me_line["span"]["path"], "/me");
    assert_eq!(me_line["status"], 200);
    assert!(me_line["latency"].is_string(), "{me_line}");
    assert!(me_line["timestamp"].is_string(), "{me_line}");
    let refused_line = finished(&refused_id);
    assert_eq!(refused_line["status"], 422);
    assert_eq!(refused_line["span"]["route"], "/v1/sign-in/password");

    // Every line of the log parses as one JSON object.
    let log = node.log();
    assert!(log.len() >= 4, "{log:?}");
    for line in &log {
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("not one JSON object ({err}): {line}"));
        assert!(entry.is_object(), "{line}");
        assert!(entry["level"].is_string(), "{line}");
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_log_format_is_refused_at_start() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_torii-server"))
        .env_clear()
        .env("TORII_DATABASE_URL", temp_db())
        .env("TORII_LOG_FORMAT", "xml")
        .env("TORII_LISTEN", "127.0.0.1:0")
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), output)
        .await
        .expect("torii-server exits when it refuses to start")
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TORII_LOG_FORMAT"), "{stderr}");
}
