//! What a node counts, for `GET /metrics` (Prometheus scrapes its OpenMetrics text): requests
//! by route template and status, latency by route, sign-ins and sign-up steps by method and
//! result, rate-limit refusals by bucket, emails sent and failed, session-cache lookups by
//! result and the revocation lag, and, read at each scrape, the store pool's connections, the
//! password-hashing queue and the sessions cached.
//!
//! Every label value comes from a closed set (route templates, never raw paths; stable error
//! codes; bucket names), so no client can grow the number of series.

use crate::mail::{Email, MailError, Mailer};
use async_trait::async_trait;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use torii_shared::ErrorCode;

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    method: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BucketLabels {
    bucket: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

type Histograms = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Upper bounds of the revocation-lag buckets, in seconds (the default bound is 1 s).
const LAG_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The session cache's counters, handed to the cache and its follower (cheap clones of the
/// registered metrics).
#[derive(Debug, Clone)]
pub(crate) struct CacheCounters {
    /// Lookups answered from the cache.
    pub(crate) hits: Counter,
    /// Lookups the cache could have answered but did not hold.
    pub(crate) misses: Counter,
    /// Lookups while the cache was not fresh (the log not read within the bound).
    pub(crate) stale: Counter,
    /// From a revoking change's commit (its log entry's time) to this node reading it.
    pub(crate) lag: Histogram,
}

impl Default for CacheCounters {
    fn default() -> Self {
        Self {
            hits: Counter::default(),
            misses: Counter::default(),
            stale: Counter::default(),
            lag: Histogram::new(LAG_BUCKETS),
        }
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// A node's metrics. Cheap to record into from any task.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms,
    sign_ins: Family<OutcomeLabels, Counter>,
    sign_ups: Family<OutcomeLabels, Counter>,
    rate_limited: Family<BucketLabels, Counter>,
    emails: Family<ResultLabels, Counter>,
    pool_in_use: Gauge,
    pool_idle: Gauge,
    hash_queue: Gauge,
    cache: CacheCounters,
    cache_entries: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What a completed sign-in or sign-up step route is, by its route template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    SignIn(&'static str),
    SignUp(&'static str),
}

fn flow(method: &str, route: &str) -> Option<Flow> {
    Some(match (method, route) {
        ("POST", "/v1/sign-in/password") => Flow::SignIn("password"),
        ("POST", "/v1/magic-links/verify") => Flow::SignIn("magic_link"),
        ("POST", "/v1/passkeys/sign-in") => Flow::SignIn("passkey"),
        ("GET", "/v1/oauth/{provider}/callback") => Flow::SignIn("oauth"),
        ("POST", "/v1/sign-ups") => Flow::SignUp("start"),
        ("POST", "/v1/sign-ups/{id}/verify") => Flow::SignUp("verify"),
        ("POST", "/v1/sign-ups/{id}/continue") => Flow::SignUp("continue"),
        _ => return None,
    })
}

impl Metrics {
    /// Every metric, registered under the `torii_` prefix, all at zero.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("torii");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's header to its answer, by method and route template",
            latency.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Sign-in attempts by method and result (ok, or the error code answered)",
            sign_ins.clone(),
        );
        let sign_ups = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ups",
            "Sign-up steps (start, verify, continue) by result (ok, or the error code answered)",
            sign_ups.clone(),
        );
        let rate_limited = Family::<BucketLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by bucket",
            rate_limited.clone(),
        );
        let emails = Family::<ResultLabels, Counter>::default();
        registry.register(
            "emails",
            "Emails handed to the mailer, by result (sent or failed)",
            emails.clone(),
        );
        let pool_in_use = Gauge::default();
        registry.register(
            "store_connections_in_use",
            "Store pool connections serving a query",
            pool_in_use.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "store_connections_idle",
            "Store pool connections open and idle",
            pool_idle.clone(),
        );
        let hash_queue = Gauge::default();
        registry.register(
            "password_hash_queue_depth",
            "Password hashes waiting for a hashing thread",
            hash_queue.clone(),
        );
        let lookups = Family::<ResultLabels, Counter>::default();
        registry.register(
            "session_cache_lookups",
            "Database-session lookups by result: hit (answered from memory), miss (read from \
             the store), stale (the revocation log not read within the bound: read from the store)",
            lookups.clone(),
        );
        // One statement each: the family's read guard lives to the end of its statement, and
        // creating the next label takes its write lock.
        let hits = lookups
            .get_or_create(&ResultLabels { result: "hit" })
            .clone();
        let misses = lookups
            .get_or_create(&ResultLabels { result: "miss" })
            .clone();
        let stale = lookups
            .get_or_create(&ResultLabels { result: "stale" })
            .clone();
        let cache = CacheCounters {
            hits,
            misses,
            stale,
            lag: Histogram::new(LAG_BUCKETS),
        };
        registry.register(
            "session_revocation_lag_seconds",
            "From a revoking change's log entry to this node reading it from the revocation log",
            cache.lag.clone(),
        );
        let cache_entries = Gauge::default();
        registry.register(
            "session_cache_entries",
            "Sessions held in this node's cache",
            cache_entries.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            sign_ins,
            sign_ups,
            rate_limited,
            emails,
            pool_in_use,
            pool_idle,
            hash_queue,
            cache,
            cache_entries,
        }
    }

    /// Counts one answered request; `route` is its route template (`None`: no route matched),
    /// `code` the error code it answered, if any.
    pub fn request(
        &self,
        method: &str,
        route: Option<&str>,
        status: u16,
        code: Option<ErrorCode>,
        elapsed: Duration,
    ) {
        let route_label = route.unwrap_or("unmatched").to_owned();
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route_label.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route_label,
            })
            .observe(elapsed.as_secs_f64());
        let Some(flow) = route.and_then(|route| flow(method, route)) else {
            return;
        };
        let result = match code {
            Some(code) => code.as_str(),
            None if status < 400 => "ok",
            None => "failed",
        };
        match flow {
            Flow::SignIn(method) => self
                .sign_ins
                .get_or_create(&OutcomeLabels { method, result }),
            Flow::SignUp(step) => self.sign_ups.get_or_create(&OutcomeLabels {
                method: step,
                result,
            }),
        }
        .inc();
    }

    /// The session cache's counters, for the cache and its follower to count into.
    pub(crate) fn cache_counters(&self) -> CacheCounters {
        self.cache.clone()
    }

    /// Counts a refusal by the rate limit named `bucket`.
    pub fn rate_limited(&self, bucket: &'static str) {
        self.rate_limited
            .get_or_create(&BucketLabels { bucket })
            .inc();
    }

    fn email(&self, sent: bool) {
        let result = if sent { "sent" } else { "failed" };
        self.emails.get_or_create(&ResultLabels { result }).inc();
    }

    /// The text of every metric, after setting the gauges read at scrape time.
    ///
    /// # Errors
    /// Never in practice (writing to a `String`).
    pub fn encode(
        &self,
        connections: Option<(u32, u32)>,
        hash_queue: usize,
        cache_entries: usize,
    ) -> Result<String, std::fmt::Error> {
        self.cache_entries
            .set(i64::try_from(cache_entries).unwrap_or(i64::MAX));
        if let Some((open, idle)) = connections {
            self.pool_in_use.set(i64::from(open.saturating_sub(idle)));
            self.pool_idle.set(i64::from(idle));
        }
        self.hash_queue
            .set(i64::try_from(hash_queue).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// A [`Mailer`] that counts what the mailer it wraps sends and fails to send.
#[derive(Debug)]
pub(crate) struct CountedMailer {
    inner: Arc<dyn Mailer>,
    metrics: Arc<Metrics>,
}

impl CountedMailer {
    pub(crate) fn new(inner: Arc<dyn Mailer>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl Mailer for CountedMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let sent = self.inner.send(email).await;
        self.metrics.email(sent.is_ok());
        sent
    }

    fn delivers(&self) -> bool {
        self.inner.delivers()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_are_told_by_route_template_and_results_by_error_code() {
        let metrics = Metrics::new();
        let tick = Duration::from_millis(3);
        let route = Some("/v1/sign-in/password");
        metrics.request("POST", route, 200, None, tick);
        let refused = Some(ErrorCode::InvalidCredentials);
        metrics.request("POST", route, 401, refused, tick);
        metrics.request("GET", Some("/me"), 200, None, tick);
        metrics.request("GET", None, 404, Some(ErrorCode::NotFound), tick);
        metrics.rate_limited("sign_in_ip");
        let cache = metrics.cache_counters();
        cache.hits.inc();
        cache.hits.inc();
        cache.misses.inc();
        cache.lag.observe(0.2);
        let text = metrics.encode(Some((5, 2)), 3, 7).unwrap();
        for line in [
            r#"torii_sign_ins_total{method="password",result="ok"} 1"#,
            r#"torii_sign_ins_total{method="password",result="invalid_credentials"} 1"#,
            r#"torii_http_requests_total{method="GET",route="/me",status="200"} 1"#,
            r#"torii_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
            r#"torii_rate_limited_total{bucket="sign_in_ip"} 1"#,
            "torii_store_connections_in_use 3",
            "torii_store_connections_idle 2",
            "torii_password_hash_queue_depth 3",
            r#"torii_session_cache_lookups_total{result="hit"} 2"#,
            r#"torii_session_cache_lookups_total{result="miss"} 1"#,
            r#"torii_session_cache_lookups_total{result="stale"} 0"#,
            "torii_session_cache_entries 7",
            "torii_session_revocation_lag_seconds_count 1",
            r#"torii_session_revocation_lag_seconds_bucket{le="0.25"} 1"#,
            r#"torii_session_revocation_lag_seconds_bucket{le="0.1"} 0"#,
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        assert!(!text.contains("torii_sign_ups_total{"), "{text}");
    }
}
