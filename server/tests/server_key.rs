//! The server key as `torii-server` reads it: created beside a SQLite database in test mode
//! and reused, reported by its path only; required in live mode; a wrong one stops the start.

mod common;

use common::process::Node;

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(common::unique("torii-key-test"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `torii-server` until it exits (it exits at once when it refuses to start).
async fn run_to_exit(vars: &[(&str, &str)]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_torii-server"));
    command.env_clear().env("TORII_LISTEN", "127.0.0.1:0");
    for (key, value) in vars {
        command.env(key, value);
    }
    tokio::time::timeout(std::time::Duration::from_secs(30), command.output())
        .await
        .expect("torii-server exits when it refuses to start")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mode_creates_the_key_beside_the_database_reports_its_path_and_reuses_it() {
    let dir = temp_dir();
    let url = format!("sqlite://{}?mode=rwc", dir.join("torii.db").display());
    // No key file configured (an empty variable is unset).
    let vars = [
        ("TORII_DATABASE_URL", url.as_str()),
        ("TORII_SECRET_KEY_FILE", ""),
    ];
    let key_file = dir.join("torii.db.key");
    let node = Node::start(&vars).await;
    let line = node.wait_for_log("created the server key file").await;
    assert!(line.contains(&key_file.display().to_string()), "{line}");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim().len(), 64);
    assert!(
        node.log().iter().all(|l| !l.contains(key.trim())),
        "the key never reaches the log"
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    node.stop().await;
    let again = Node::start(&vars).await;
    assert!(
        again
            .log()
            .iter()
            .all(|l| !l.contains("created the server key")),
        "{:?}",
        again.log()
    );
    again.stop().await;
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key, "reused");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_without_a_key_file_refuses_to_start() {
    let dir = temp_dir();
    let config = dir.join("torii.toml");
    std::fs::write(
        &config,
        "[[environments]]\nname = \"Prod\"\nmode = \"live\"\npublishable_key = \"pk_live_x\"\n\
         secret_key = \"sk_live_0123456789abcdef0123456789abcdef\"\n\
         allowed_origins = [\"https://app.example.com\"]\n",
    )
    .unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("torii.db").display());
    let output = run_to_exit(&[
        ("TORII_CONFIG", config.to_str().unwrap()),
        ("TORII_DATABASE_URL", &url),
    ])
    .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TORII_SECRET_KEY_FILE"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !dir.join("torii.db.key").exists(),
        "no key is made up in live mode"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_file_stops_the_start_clearly() {
    let dir = temp_dir();
    let config = dir.join("torii.toml");
    std::fs::write(
        &config,
        "[[environments]]\nid = \"env_jwt\"\nname = \"Jwt\"\npublishable_key = \"pk_test_jwt\"\n\
         secret_key = \"sk_test_jwt\"\n\n[environments.session]\nkind = \"jwt\"\n",
    )
    .unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("torii.db").display());
    let vars = [
        ("TORII_CONFIG", config.to_str().unwrap()),
        ("TORII_DATABASE_URL", url.as_str()),
    ];
    // A first start seals the JWT signing key under the tests' key.
    Node::start(&vars).await.stop().await;
    let wrong = dir.join("wrong.key");
    std::fs::write(&wrong, format!("{}\n", "5a".repeat(32))).unwrap();
    let mut with_wrong = vars.to_vec();
    with_wrong.push(("TORII_SECRET_KEY_FILE", wrong.to_str().unwrap()));
    let output = run_to_exit(&with_wrong).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("secret_key_file"), "{stderr}");
    assert!(stderr.contains("cannot be opened"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A malformed file is refused before anything else, naming the setting.
    std::fs::write(&wrong, "not a key").unwrap();
    let output = run_to_exit(&with_wrong).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("TORII_SECRET_KEY_FILE"), "{stderr}");
    assert!(stderr.contains("64 hexadecimal"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
