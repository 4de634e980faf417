//! Run with `cargo run --profile server-release -p torii-server --example jwt_verify_cost`.
//!
//! Compares the cost of verifying a session JWT signed with Ed25519 (`EdDSA`, what Torii
//! uses) and with P-256 (`ES256`), through the same `jsonwebtoken` code path the server uses.
//! Prints microseconds per verification for each; the numbers are for choosing, not asserting.

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use serde_json::json;
use std::time::Instant;

fn measure(name: &str, alg: Algorithm, encoding: &EncodingKey, decoding: &DecodingKey) {
    let claims = json!({
        "sub": "usr_1", "sid": "ses_1", "iss": "https://auth.example.com", "aud": "env_1",
        "iat": 1_800_000_000, "nbf": 1_800_000_000, "exp": 4_000_000_000_u64,
        "status": "active", "gates": [], "email": "ada@example.com", "email_verified": true,
    });
    let token = jsonwebtoken::encode(&Header::new(alg), &claims, encoding).expect("sign");
    let mut validation = Validation::new(alg);
    validation.set_audience(&["env_1"]);
    validation.set_issuer(&["https://auth.example.com"]);
    let rounds = 2_000;
    for _ in 0..100 {
        jsonwebtoken::decode::<serde_json::Value>(&token, decoding, &validation).expect("verify");
    }
    let started = Instant::now();
    for _ in 0..rounds {
        jsonwebtoken::decode::<serde_json::Value>(&token, decoding, &validation).expect("verify");
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let sign_started = Instant::now();
    for _ in 0..rounds {
        jsonwebtoken::encode(&Header::new(alg), &claims, encoding).expect("sign");
    }
    let sign_per = sign_started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!(
        "{name:6}  verify {per:8.1} µs   sign {sign_per:8.1} µs   token {} bytes",
        token.len()
    );
}

fn main() {
    let mut rng = rand::rngs::OsRng;
    let ed = ed25519_dalek::SigningKey::generate(&mut rng);
    let ed_der = ed.to_pkcs8_der().expect("pkcs8");
    let ed_x = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ed.verifying_key().as_bytes(),
    );
    measure(
        "EdDSA",
        Algorithm::EdDSA,
        &EncodingKey::from_ed_der(ed_der.as_bytes()),
        &DecodingKey::from_ed_components(&ed_x).expect("key"),
    );

    let p = p256::SecretKey::random(&mut rng);
    let p_der = p.to_pkcs8_der().expect("pkcs8");
    let point = p.public_key().to_encoded_point(false);
    let b64 = |bytes: &[u8]| {
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    };
    let (x, y) = (b64(point.x().expect("x")), b64(point.y().expect("y")));
    measure(
        "ES256",
        Algorithm::ES256,
        &EncodingKey::from_ec_der(p_der.as_bytes()),
        &DecodingKey::from_ec_components(&x, &y).expect("key"),
    );
}
