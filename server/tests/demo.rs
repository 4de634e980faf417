//! The configuration `cargo xtask demo` serves (`demo/torii.toml`), run by a real server
//! process as the demo runs it: on SQLite without SMTP, every method that works on localhost
//! is on, and what a developer needs from their email (codes, sign-in links) is in the log.

mod common;

use common::process::Node;
use serde_json::json;
use std::path::Path;

const KEY: &str = "pk_test_demo";

/// The number in a log line after `marker`.
fn code_after(line: &str, marker: &str) -> String {
    let rest = line.split(marker).nth(1).unwrap_or_default();
    rest.chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_offers_every_local_method_and_logs_codes_and_links() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/torii.toml");
    let dir = std::env::temp_dir().join(format!("torii-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}", dir.join("demo.db").display());
    let node = Node::start(&[
        ("TORII_CONFIG", config.to_str().unwrap()),
        ("TORII_DATABASE_URL", &database),
    ])
    .await;
    let origin = node.base.clone();
    let headers = [("Torii-Publishable-Key", KEY), ("Origin", origin.as_str())];

    let environment = node
        .request("GET", "/v1/environment", &headers, None)
        .await
        .unwrap();
    assert_eq!(environment.status, 200, "{:?}", environment.body);
    let methods = environment.body["methods"].as_array().unwrap().clone();
    for method in ["password", "magic_link", "passkey"] {
        assert!(methods.contains(&json!(method)), "{method} in {methods:?}");
    }

    // A sign-up: the code is in the log.
    let email = "demo@example.com";
    let created = node
        .request(
            "POST",
            "/v1/sign-ups",
            &headers,
            Some(&json!({"email": email, "password": "correct horse battery"})),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["signUpId"].as_str().unwrap().to_owned();
    let line = node.wait_for_log("Your verification code is").await;
    let code = code_after(&line, "Your verification code is");
    assert_eq!(code.len(), 6, "{line}");
    let verified = node
        .request(
            "POST",
            &format!("/v1/sign-ups/{id}/verify"),
            &headers,
            Some(&json!({"code": code})),
        )
        .await
        .unwrap();
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    let cookie = format!("torii_session={}", verified.session_token().unwrap());

    // A passkey can be registered from the demo's origin.
    let mut signed_in = headers.to_vec();
    signed_in.push(("Cookie", cookie.as_str()));
    let options = node
        .request(
            "POST",
            "/v1/passkeys/registration/options",
            &signed_in,
            Some(&json!({})),
        )
        .await
        .unwrap();
    assert_eq!(options.status, 200, "{:?}", options.body);
    assert_eq!(options.body["publicKey"]["rp"]["id"], "localhost");

    // A sign-in link: it is in the log, on the demo's address.
    let sent = node
        .request(
            "POST",
            "/v1/magic-links",
            &headers,
            Some(&json!({"email": email})),
        )
        .await
        .unwrap();
    assert!(sent.status == 200 || sent.status == 202, "{:?}", sent.body);
    let link = format!("{origin}/v1/magic-links/verify?token=");
    node.wait_for_log(&link).await;

    node.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
