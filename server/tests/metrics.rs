//! `GET /metrics` of a real `torii-server` process, on its own listener: after a known set of
//! requests the text parses under a strict reading of the exposition format, and every
//! counter equals what was sent.

mod common;

use common::db::{Backend, TestDb};
use common::process::{Node, free_port, request_port};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

type Labels = BTreeMap<String, String>;

/// A scrape, read strictly: every sample belongs to the family its `# TYPE` declared, with
/// that type's suffixes only; no series twice; histogram buckets cumulative up to `+Inf`,
/// which equals `_count`; the text ends with `# EOF`.
#[derive(Debug)]
struct Exposition {
    types: HashMap<String, String>,
    samples: HashMap<(String, Labels), f64>,
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(text: &str) -> f64 {
    match text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => text
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {text:?}")),
    }
}

/// `{a="x",b="y\"z"}` at the start of `text`: the labels and the rest after `}`.
fn parse_labels(text: &str) -> (Labels, &str) {
    let mut labels = Labels::new();
    let mut rest = text.strip_prefix('{').expect("labels open with {");
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        let (name, after) = rest.split_once("=\"").expect("a label name then =\"");
        assert!(is_label_name(name), "bad label name {name:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("an unterminated label value");
            match c {
                '"' => break i,
                '\\' => match chars.next().expect("an escape").1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => panic!("bad escape \\{other}"),
                },
                '\n' => panic!("a newline inside a label value"),
                c => value.push(c),
            }
        };
        assert!(
            labels.insert(name.to_owned(), value).is_none(),
            "label {name} twice"
        );
        rest = &after[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else {
            assert!(rest.starts_with('}'), "labels go on with , or end with }}");
        }
    }
}

fn parse(text: &str) -> Exposition {
    let body = text
        .strip_suffix("# EOF\n")
        .expect("the text ends with # EOF");
    let mut types = HashMap::new();
    let mut samples = HashMap::new();
    let mut family: Option<(String, String)> = None;
    for line in body.lines() {
        assert!(!line.is_empty(), "an empty line");
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let keyword = parts.next().unwrap();
            let name = parts.next().expect("a metric name").to_owned();
            let rest = parts.next().unwrap_or_default();
            assert!(is_metric_name(&name), "bad name in {line:?}");
            match keyword {
                "TYPE" => {
                    assert!(
                        matches!(
                            rest,
                            "counter" | "gauge" | "histogram" | "summary" | "unknown" | "info"
                        ),
                        "bad type in {line:?}"
                    );
                    assert!(
                        types.insert(name.clone(), rest.to_owned()).is_none(),
                        "{name} declared twice"
                    );
                    family = Some((name, rest.to_owned()));
                }
                "HELP" | "UNIT" => {}
                other => panic!("unknown comment {other:?} in {line:?}"),
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("a sample has a value");
        let name = &line[..name_end];
        assert!(is_metric_name(name), "bad sample name in {line:?}");
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..])
        } else {
            (Labels::new(), &line[name_end..])
        };
        let mut fields = rest
            .strip_prefix(' ')
            .expect("a space before the value")
            .split(' ');
        let value = parse_value(fields.next().expect("a value"));
        if let Some(timestamp) = fields.next() {
            parse_value(timestamp);
        }
        assert!(fields.next().is_none(), "trailing text in {line:?}");
        let (family_name, kind) = family.as_ref().expect("a sample before any # TYPE");
        let suffix = name
            .strip_prefix(family_name.as_str())
            .unwrap_or_else(|| panic!("{name} is not of family {family_name}"));
        let allowed: &[&str] = match kind.as_str() {
            "counter" => &["_total", "_created"],
            "histogram" => &["_bucket", "_count", "_sum", "_created"],
            "summary" => &["", "_count", "_sum", "_created"],
            "info" => &["_info"],
            _ => &[""],
        };
        assert!(allowed.contains(&suffix), "{name}: not a {kind} sample");
        if suffix == "_bucket" {
            assert!(labels.contains_key("le"), "{name} without le");
        }
        assert!(
            samples.insert((name.to_owned(), labels), value).is_none(),
            "a series twice: {line:?}"
        );
    }
    let exposition = Exposition { types, samples };
    exposition.check_histograms();
    exposition
}

impl Exposition {
    fn check_histograms(&self) {
        for (family, kind) in &self.types {
            if kind != "histogram" {
                continue;
            }
            let mut series: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
            for ((name, labels), value) in &self.samples {
                if *name == format!("{family}_bucket") {
                    let mut rest = labels.clone();
                    let le = parse_value(&rest.remove("le").unwrap());
                    series.entry(rest).or_default().push((le, *value));
                }
            }
            for (labels, mut buckets) in series {
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                assert!(
                    buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                    "{family}{labels:?}: buckets not cumulative"
                );
                let (last_le, last) = *buckets.last().unwrap();
                assert!(last_le.is_infinite(), "{family}{labels:?}: no +Inf bucket");
                let count = self.samples[&(format!("{family}_count"), labels.clone())];
                assert_eq!(last, count, "{family}{labels:?}: +Inf bucket is not _count");
            }
        }
    }

    /// The value of one series; 0 when it does not exist (a counter never incremented).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let labels: Labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .get(&(name.to_owned(), labels))
            .copied()
            .unwrap_or(0.0)
    }
}

/// `GET /metrics` on the metrics listener: the body, after checking the content type.
async fn scrape(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    body.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_was_sent_and_parse_strictly() {
    let db = TestDb::new(Backend::Sqlite).await;
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let node = Node::start(&[
        ("TORII_DATABASE_URL", &db.url),
        ("TORII_METRICS_LISTEN", &metrics_addr),
    ])
    .await;
    // Not on the API's listener.
    let public = node.request("GET", "/metrics", &[], None).await.unwrap();
    assert_eq!(public.status, 404);

    for _ in 0..3 {
        let environment = node
            .request("GET", "/v1/environment", &[], None)
            .await
            .unwrap();
        assert_eq!(environment.status, 200);
    }
    let email = "counted@example.com";
    let password = "correct horse battery";
    let created = node
        .request(
            "POST",
            "/v1/sign-ups",
            &[],
            Some(&json!({"email": email, "password": password})),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{:?}", created.body);
    let invalid = node
        .request(
            "POST",
            "/v1/sign-ups",
            &[],
            Some(&json!({"email": "not an address", "password": password})),
        )
        .await
        .unwrap();
    assert_eq!(invalid.status, 422);
    let line = node.wait_for_log("Your verification code is").await;
    let code: String = line
        .split("Your verification code is")
        .nth(1)
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    let id = created.body["signUpId"].as_str().unwrap();
    let verified = node
        .request(
            "POST",
            &format!("/v1/sign-ups/{id}/verify"),
            &[],
            Some(&json!({"code": code})),
        )
        .await
        .unwrap();
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    let sign_in = |password: &'static str| {
        let port = node.port;
        async move {
            request_port(
                port,
                "POST",
                "/v1/sign-in/password",
                &[],
                Some(&json!({"email": email, "password": password})),
            )
            .await
            .unwrap()
            .status
        }
    };
    assert_eq!(sign_in(password).await, 200);
    assert_eq!(sign_in("wrong horse battery").await, 401);
    assert_eq!(sign_in("wrong horse battery").await, 401);
    // Five emails per address per 15 minutes: the sixth request is refused.
    let mut refused = 0;
    for _ in 0..6 {
        let reset = node
            .request(
                "POST",
                "/v1/password-resets",
                &[],
                Some(&json!({"email": "flood@example.com"})),
            )
            .await
            .unwrap();
        match reset.status {
            202 => {}
            429 => refused += 1,
            other => panic!("password reset answered {other}: {:?}", reset.body),
        }
    }
    assert_eq!(refused, 1);

    // Emails go out in the background too: scrape until the count settles on what the log
    // shows was sent (bounded).
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let metrics = parse(&scrape(metrics_port).await);
        let logged = node
            .log()
            .iter()
            .filter(|l| l.contains("email (no SMTP configured)"))
            .count();
        #[allow(clippy::cast_precision_loss)]
        let logged = logged as f64;
        if logged >= 1.0 && metrics.value("torii_emails_total", &[("result", "sent")]) == logged {
            break metrics;
        }
        assert!(Instant::now() < deadline, "emails counted != emails sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let requests = |method: &str, route: &str, status: &str| {
        metrics.value(
            "torii_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("GET", "/v1/environment", "200"), 3.0);
    assert_eq!(requests("POST", "/v1/sign-ups", "201"), 1.0);
    assert_eq!(requests("POST", "/v1/sign-ups", "422"), 1.0);
    assert_eq!(requests("POST", "/v1/sign-ups/{id}/verify", "200"), 1.0);
    assert_eq!(requests("POST", "/v1/sign-in/password", "200"), 1.0);
    assert_eq!(requests("POST", "/v1/sign-in/password", "401"), 2.0);
    assert_eq!(requests("POST", "/v1/password-resets", "202"), 5.0);
    assert_eq!(requests("POST", "/v1/password-resets", "429"), 1.0);
    // The public /metrics request matched no route.
    assert_eq!(requests("GET", "unmatched", "404"), 1.0);
    assert_eq!(
        metrics.value(
            "torii_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/v1/environment")]
        ),
        3.0
    );
    let outcome = |name: &str, method: &str, result: &str| {
        metrics.value(name, &[("method", method), ("result", result)])
    };
    assert_eq!(outcome("torii_sign_ups_total", "start", "ok"), 1.0);
    assert_eq!(
        outcome("torii_sign_ups_total", "start", "validation_failed"),
        1.0
    );
    assert_eq!(outcome("torii_sign_ups_total", "verify", "ok"), 1.0);
    assert_eq!(outcome("torii_sign_ins_total", "password", "ok"), 1.0);
    assert_eq!(
        outcome("torii_sign_ins_total", "password", "invalid_credentials"),
        2.0
    );
    assert_eq!(
        metrics.value("torii_rate_limited_total", &[("bucket", "email_address")]),
        1.0
    );
    assert_eq!(
        metrics.value("torii_emails_total", &[("result", "failed")]),
        0.0
    );
    assert_eq!(metrics.types["torii_store_connections_idle"], "gauge");
    assert!(metrics.value("torii_store_connections_idle", &[]) >= 1.0);
    assert!(metrics.value("torii_store_connections_in_use", &[]) >= 0.0);
    assert_eq!(metrics.value("torii_password_hash_queue_depth", &[]), 0.0);
    node.stop().await;
}

#[test]
fn the_strict_reader_refuses_what_is_not_the_format() {
    let good = "# TYPE a counter\na_total{x=\"1\"} 2\n# EOF\n";
    assert_eq!(parse(good).value("a_total", &[("x", "1")]), 2.0);
    for bad in [
        "# TYPE a counter\na_total 1\n",                   // no # EOF
        "a_total 1\n# EOF\n",                              // no # TYPE
        "# TYPE a counter\na 1\n# EOF\n",                  // a counter's sample
        "# TYPE a counter\na_total{x=\"1} 1\n# EOF\n",     // unterminated
        "# TYPE a counter\na_total 1\na_total 2\n# EOF\n", // a series twice
        "# TYPE a counter\na_total one\n# EOF\n",          // not a number
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}
