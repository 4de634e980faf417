//! Real `torii-server` processes for multi-node tests, and a minimal HTTP/1.1 client over
//! loopback (one request per connection) so the tests need no client library.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub struct Node {
    pub base: String,
    pub port: u16,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

/// A key file holding the tests' server key, written once per test process.
pub fn shared_key_file() -> std::path::PathBuf {
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("torii-test-{}.key", std::process::id()));
        std::fs::write(&path, format!("{}\n", super::test_server_key().to_hex())).unwrap();
        path
    })
    .clone()
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Node {
    /// Starts `torii-server` on a free port with the given extra variables and waits (with a
    /// deadline) until `/healthz` answers.
    pub async fn start(vars: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_torii-server"));
        command
            .env_clear()
            .env("TORII_LISTEN", format!("127.0.0.1:{port}"))
            .env("TORII_PUBLIC_URL", format!("http://localhost:{port}"))
            .env("TORII_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Every node of a test shares one server key, as a deployment's nodes share their
        // key file.
        command.env("TORII_SECRET_KEY_FILE", shared_key_file());
        for (key, value) in vars {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let node = Self {
            base: format!("http://localhost:{port}"),
            port,
            child,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = node.request("GET", "/healthz", &[], None).await
                && response.status == 200
            {
                return node;
            }
            assert!(
                Instant::now() < deadline,
                "torii-server did not start:\n{}",
                node.log().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (with a deadline) for a log line containing `needle` and returns it.
    pub async fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.log().into_iter().rev().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(Instant::now() < deadline, "no log line with {needle:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> std::io::Result<HttpResponse> {
        request_port(self.port, method, path, headers, body).await
    }

    /// Sends SIGTERM, as a service manager or an orchestrator stops a node.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the process is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {pid} failed");
    }

    /// Waits (with a deadline) for the process to exit, and returns how it did.
    pub async fn exited(mut self, deadline: Duration) -> std::process::ExitStatus {
        match tokio::time::timeout(deadline, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => {
                let log = self.log().join("\n");
                let _ = self.child.start_kill();
                panic!("torii-server did not exit within {deadline:?}:\n{log}");
            }
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// One request to the server on `port` of loopback, on a connection of its own (for a task
/// that does not hold the [`Node`]).
pub async fn request_port(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let body = body.map(ToString::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    Ok(HttpResponse::parse(&raw))
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: serde_json::Value,
}

impl HttpResponse {
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                headers
                    .entry(name.trim().to_ascii_lowercase())
                    .or_default()
                    .push(value.trim().to_owned());
            }
        }
        // Chunked bodies: the JSON answers here are small; strip chunk-size lines.
        let body = if headers
            .get("transfer-encoding")
            .is_some_and(|v| v.iter().any(|e| e.contains("chunked")))
        {
            body.split("\r\n")
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, chunk)| chunk)
                .collect::<String>()
        } else {
            body.to_owned()
        };
        Self {
            status,
            headers,
            body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        }
    }

    pub fn session_token(&self) -> Option<String> {
        self.headers.get("set-cookie")?.iter().find_map(|v| {
            let first = v.split(';').next()?;
            let (name, value) = first.split_once('=')?;
            (name == "torii_session" && !value.is_empty()).then(|| value.to_owned())
        })
    }
}

/// A TCP proxy in front of a database server that a test can cut and restore, to simulate an
/// outage without stopping the shared server.
pub struct Proxy {
    pub port: u16,
    target: u16,
    task: Option<tokio::task::JoinHandle<()>>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(target: u16) -> Self {
        let mut proxy = Self {
            port: free_port(),
            target,
            task: None,
            connections: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.resume().await;
        proxy
    }

    /// Accepts connections again, on the same port.
    pub async fn resume(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let target = self.target;
        let connections = Arc::clone(&self.connections);
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let handle = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(handle);
            }
        }));
    }

    /// Refuses new connections; the open ones go on carrying what either side sends (as a
    /// database that is stopping still tells its live connections why it ends them).
    pub async fn refuse_new(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Refuses new connections and cuts the open ones.
    pub async fn cut(&mut self) {
        self.refuse_new().await;
        for handle in self.connections.lock().unwrap().drain(..) {
            handle.abort();
        }
    }
}
