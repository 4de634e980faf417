//! The nodes' `/metrics` after the faults: every node is scraped, a counted batch of requests
//! goes through the balancer, every node is scraped again, and the counters' growth summed over
//! the nodes must equal what was sent — whichever node the balancer picked for each request.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{Context, Result, bail};

use super::cluster::Node;
use crate::bench::http_at;

/// One sample of the exposition: its name, labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Reads the text exposition (Prometheus or OpenMetrics): comments and `# EOF` skipped, every
/// other line `name{label="value",…} value` (labels optional). A line that is neither is an
/// error, not skipped.
pub fn parse(text: &str) -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .with_context(|| format!("no value on `{line}`"))?;
        let value: f64 = value
            .parse()
            .with_context(|| format!("`{value}` is not a number on `{line}`"))?;
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .with_context(|| format!("unclosed labels on `{line}`"))?;
                (name, labels_of(inner).with_context(|| line.to_owned())?)
            }
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            bail!("`{name}` is not a metric name");
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Ok(samples)
}

/// `a="x",b="y"` (values without quotes or backslashes, as Torii's closed label sets are).
fn labels_of(inner: &str) -> Result<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    for pair in inner.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').context("a label without `=`")?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .context("a label value without quotes")?;
        labels.insert(key.to_owned(), value.to_owned());
    }
    Ok(labels)
}

/// The sum of `name`'s samples that carry every label of `want`.
pub fn total(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            want.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

/// Every node's samples, concatenated.
fn scrape_all(nodes: &[Node]) -> Result<Vec<Sample>> {
    let mut all = Vec::new();
    for node in nodes {
        let answer = http_at(node.metrics, "GET", "/metrics", &[], None)
            .with_context(|| format!("could not scrape {}", node.name))?;
        if answer.status != 200 {
            bail!("{}'s /metrics answered {}", node.name, answer.status);
        }
        all.extend(parse(&answer.body).with_context(|| format!("{}'s /metrics", node.name))?);
    }
    Ok(all)
}

/// Requests of each kind in the counted batch.
const ROUNDS: u32 = 30;

/// Sends the counted batch through `balancer` (`/me` with `token`, and password sign-ins of an
/// unknown address) and checks the counters' growth summed over `nodes`. The problems found.
pub fn check(balancer: SocketAddr, nodes: &[Node], token: &str) -> Result<Vec<String>> {
    let before = scrape_all(nodes)?;
    let origin = format!("http://{balancer}");
    let bearer = format!("Bearer {token}");
    for round in 0..ROUNDS {
        let me = http_at(
            balancer,
            "GET",
            "/me",
            &[("Origin", &origin), ("Authorization", &bearer)],
            None,
        )?;
        let body = format!(
            r#"{{"email":"nobody-{round}@fleet.example.com","password":"not the password"}}"#
        );
        let sign_in = http_at(
            balancer,
            "POST",
            "/v1/sign-in/password",
            &[("Origin", &origin)],
            Some(&body),
        )?;
        if me.status != 200 || sign_in.status != 401 {
            bail!(
                "the counted batch got {} on /me and {} on a wrong sign-in",
                me.status,
                sign_in.status
            );
        }
    }
    let after = scrape_all(nodes)?;
    let growth =
        |name: &str, want: &[(&str, &str)]| total(&after, name, want) - total(&before, name, want);
    let expected = f64::from(ROUNDS);
    let mut problems = Vec::new();
    for (what, grew) in [
        (
            "GET /me 200 requests",
            growth(
                "torii_http_requests_total",
                &[("method", "GET"), ("route", "/me"), ("status", "200")],
            ),
        ),
        (
            "POST /v1/sign-in/password 401 requests",
            growth(
                "torii_http_requests_total",
                &[
                    ("method", "POST"),
                    ("route", "/v1/sign-in/password"),
                    ("status", "401"),
                ],
            ),
        ),
        (
            "GET /me latencies",
            growth(
                "torii_http_request_duration_seconds_count",
                &[("method", "GET"), ("route", "/me")],
            ),
        ),
        (
            "password sign-ins refused as invalid_credentials",
            growth(
                "torii_sign_ins_total",
                &[("method", "password"), ("result", "invalid_credentials")],
            ),
        ),
    ] {
        #[allow(clippy::float_cmp)] // counts of whole requests, exact in f64
        if grew != expected {
            problems.push(format!(
                "metrics: {what} grew by {grew} over the nodes, {expected} were sent"
            ));
        }
    }
    println!(
        "metrics: {ROUNDS} /me and {ROUNDS} refused sign-ins through the balancer, counted \
         exactly once over the three nodes' /metrics"
    );
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_reads_into_samples_and_sums_by_label() {
        let text = "# TYPE torii_http_requests_total counter\n\
            torii_http_requests_total{method=\"GET\",route=\"/me\",status=\"200\"} 3\n\
            torii_http_requests_total{method=\"GET\",route=\"/me\",status=\"401\"} 1\n\
            torii_store_connections_idle 2\n\
            # EOF\n";
        let samples = parse(text).unwrap();
        assert_eq!(samples.len(), 3);
        assert!(
            (total(&samples, "torii_http_requests_total", &[("route", "/me")]) - 4.0).abs()
                < f64::EPSILON
        );
        assert!(
            (total(&samples, "torii_http_requests_total", &[("status", "200")]) - 3.0).abs()
                < f64::EPSILON
        );
        assert!((total(&samples, "torii_store_connections_idle", &[]) - 2.0).abs() < f64::EPSILON);
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            "torii_x",
            "torii_x{a=\"1\" 2",
            "torii_x{a=1} 2",
            "torii_x NaNa",
            "bad-name 1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
