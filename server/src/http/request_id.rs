//! `X-Request-Id`: every request carries an id, the caller's when it sent a usable one (a
//! balancer's or a client's, so one request can be followed across services), else a new
//! random one. It is on the request's log span and sent back on the answer.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore as _;
use rand::rngs::OsRng;

/// The header that carries the id, both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Gives the request its id and sends the id back on the answer.
pub(crate) async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| usable(value))
        .map_or_else(new_id, str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// An id taken from a caller: 1 to 128 characters a log line can hold as they are.
fn usable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// 16 random bytes, in hexadecimal.
fn new_id() -> String {
    let mut bytes = [0_u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_id_is_kept_only_when_a_log_line_can_hold_it() {
        assert!(usable("req-42"));
        assert!(usable("0af7651916cd43dd8448eb211c80319c"));
        assert!(usable("lb:1.2_3"));
        assert!(!usable(""));
        assert!(!usable(&"a".repeat(129)));
        assert!(!usable("two words"));
        assert!(!usable("line\nbreak"));
        assert!(!usable("quote\""));
    }

    #[test]
    fn new_ids_are_random_hex() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
