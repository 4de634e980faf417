//! The client's address behind a proxy, through the real router: `X-Forwarded-For` and
//! `Forwarded` from a peer that is not a trusted proxy change nothing (a spoofed header does
//! not escape a per-address limit); from a trusted proxy the client it names is the one
//! limited; IPv6 clients of one /64 share a bucket; sessions record the client's address.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use torii_server::Environment;
use torii_server::client_ip::TrustedProxies;
use torii_server::rate_limit::Rule;

/// Three password sign-ins per address per window; the per-account delay is out of the way
/// because every attempt names another (unknown) account.
fn tight_env() -> Environment {
    let mut env = legal_env();
    env.rate_limits.sign_in_per_ip = Rule {
        max: 3,
        window: time::Duration::minutes(5),
    };
    env
}

async fn proxied_app() -> TestApp {
    app_built(vec![tight_env()], |builder| {
        builder.trusted_proxies(TrustedProxies::parse(&["10.0.0.0/8", "fd00::/8"]).unwrap())
    })
    .await
}

fn attempt() -> Req {
    Req::post(
        "/v1/sign-in/password",
        &json!({"email": format!("{}@example.com", unique("nobody")), "password": "wrong password!"}),
    )
}

/// Sends `n` sign-ins built by `req`; the statuses in order.
async fn statuses(app: &TestApp, n: usize, mut req: impl FnMut() -> Req) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(req().send(app).await.status);
    }
    out
}

const JUDGED: StatusCode = StatusCode::UNAUTHORIZED;
const LIMITED: StatusCode = StatusCode::TOO_MANY_REQUESTS;

#[tokio::test]
async fn a_spoofed_forwarding_header_from_an_untrusted_peer_does_not_escape_the_limit() {
    let app = proxied_app().await;
    let mut n = 0_u32;
    let answers = statuses(&app, 5, || {
        // Each request claims another address.
        n += 1;
        let fake = format!("203.0.113.{n}");
        attempt()
            .peer("198.51.100.7:40000")
            .header("x-forwarded-for", &fake)
            .header("forwarded", &format!("for={fake}"))
    })
    .await;
    assert_eq!(answers, [JUDGED, JUDGED, JUDGED, LIMITED, LIMITED]);
    // Rotating the claimed address on every request changes nothing either.
    for i in 0..3 {
        let rotated = attempt()
            .peer("198.51.100.7:40001")
            .header("x-forwarded-for", &format!("192.0.2.{i}"))
            .send(&app)
            .await;
        assert_eq!(rotated.status, LIMITED, "{}", rotated.text);
    }
    // Another peer is not limited by the first one's attempts.
    let other = attempt().peer("198.51.100.8:40000").send(&app).await;
    assert_eq!(other.status, JUDGED);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_the_one_limited() {
    let app = proxied_app().await;
    // One client behind the proxy; its spoofed leftmost entry is not believed.
    let answers = statuses(&app, 4, || {
        attempt().peer("10.0.0.5:5000").header(
            "x-forwarded-for",
            &format!("{}, 198.51.100.7", unique("spoof")),
        )
    })
    .await;
    assert_eq!(answers, [JUDGED, JUDGED, JUDGED, LIMITED]);
    // Another client through the same proxy has its own bucket, in either header.
    let forwarded = attempt()
        .peer("10.0.0.5:5000")
        .header("forwarded", "for=\"198.51.100.9:1234\";proto=https")
        .send(&app)
        .await;
    assert_eq!(forwarded.status, JUDGED, "{}", forwarded.text);
    let second = attempt()
        .peer("[fd00::5]:5000")
        .header("x-forwarded-for", "198.51.100.10")
        .send(&app)
        .await;
    assert_eq!(second.status, JUDGED);
    // The limited client is still limited when it arrives through another proxy hop.
    let via_two = attempt()
        .peer("10.0.0.5:5000")
        .header("x-forwarded-for", "198.51.100.7, 10.0.0.99")
        .send(&app)
        .await;
    assert_eq!(via_two.status, LIMITED);
}

#[tokio::test]
async fn ipv6_clients_in_one_64_share_a_bucket() {
    let app = proxied_app().await;
    let mut i = 0_u16;
    let answers = statuses(&app, 4, || {
        i += 1;
        attempt().peer(&format!("[2001:db8:1:2::{i:x}]:443"))
    })
    .await;
    assert_eq!(answers, [JUDGED, JUDGED, JUDGED, LIMITED]);
    let same_64 = attempt()
        .peer("[2001:db8:1:2:ffff:ffff:ffff:ffff]:443")
        .send(&app)
        .await;
    assert_eq!(same_64.status, LIMITED);
    let next_64 = attempt().peer("[2001:db8:1:3::1]:443").send(&app).await;
    assert_eq!(next_64.status, JUDGED);
    // IPv4 clients seen through a dual-stack socket are not one /64.
    let v4a = attempt()
        .peer("[::ffff:198.51.100.20]:443")
        .send(&app)
        .await;
    let v4b = attempt()
        .peer("[::ffff:198.51.100.21]:443")
        .send(&app)
        .await;
    let v4c = attempt()
        .peer("[::ffff:198.51.100.22]:443")
        .send(&app)
        .await;
    let v4d = attempt()
        .peer("[::ffff:198.51.100.23]:443")
        .send(&app)
        .await;
    assert_eq!(
        [v4a.status, v4b.status, v4c.status, v4d.status],
        [JUDGED; 4]
    );
}

#[tokio::test]
async fn sessions_record_the_forwarded_client_address_in_full() {
    let app = proxied_app().await;
    let email = "proxied@example.com";
    signed_up(&app, email).await;
    let signed_in = Req::post(
        "/v1/sign-in/password",
        &json!({"email": email, "password": PASSWORD}),
    )
    .peer("10.0.0.5:5000")
    .header("x-forwarded-for", "6.6.6.6, 2001:db8:1:2::abcd")
    .send(&app)
    .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    let token = signed_in.session_cookie().unwrap();
    let listed = Req::get("/v1/sessions").cookie(&token).send(&app).await;
    assert!(
        listed.text.contains("2001:db8:1:2::abcd") && !listed.text.contains("6.6.6.6"),
        "{}",
        listed.text
    );
}

#[tokio::test]
async fn a_server_without_client_addresses_says_so_once() {
    // This test's runtime runs on this thread only, so the capture sees every request.
    let log = LogCapture::install();
    let app = proxied_app().await;
    for _ in 0..3 {
        // No connect info: an embedder that served the router without it.
        let answer = attempt().send(&app).await;
        assert_eq!(answer.status, JUDGED);
    }
    let with_peer = attempt().peer("198.51.100.7:1").send(&app).await;
    assert_eq!(with_peer.status, JUDGED);
    let text = log.text();
    assert_eq!(
        text.matches("requests carry no client address").count(),
        1,
        "{text}"
    );
    assert!(text.contains("WARN"), "{text}");
}
