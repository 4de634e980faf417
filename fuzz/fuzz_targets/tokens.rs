//! `cargo fuzz run tokens`: cookie headers and session tokens from clients are parsed without
//! panics, a found cookie value is a piece of the header, and a token's hash is always 64 hex
//! digits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use torii_server::session::{SessionToken, find_cookie};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    for name in ["torii_session", "__Host-torii_session"] {
        if let Some(value) = find_cookie(header, name) {
            assert!(!value.is_empty());
            assert!(header.contains(value));
            assert!(!value.contains(';'));
        }
    }
    let hash = SessionToken::from_client(header).hash();
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
});
