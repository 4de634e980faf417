//! `cargo fuzz run json_bodies`: the nesting check agrees with a real JSON parser on every
//! valid document, and no request type's deserialiser panics on any input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use torii_server::validate::json_nesting_depth;
use torii_shared::{
    MagicLinkRequest, PasswordResetComplete, PasswordResetRequest, PasswordSignInRequest,
    ReauthenticateRequest, SignUpRequest, VerifyCodeRequest,
};

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let measured = json_nesting_depth(data);
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        assert_eq!(
            measured,
            depth(&value),
            "{:?}",
            String::from_utf8_lossy(data)
        );
    }
    let _ = serde_json::from_slice::<SignUpRequest>(data);
    let _ = serde_json::from_slice::<VerifyCodeRequest>(data);
    let _ = serde_json::from_slice::<PasswordSignInRequest>(data);
    let _ = serde_json::from_slice::<MagicLinkRequest>(data);
    let _ = serde_json::from_slice::<PasswordResetRequest>(data);
    let _ = serde_json::from_slice::<PasswordResetComplete>(data);
    // Untagged: a password or a passkey assertion, tried in turn.
    let _ = serde_json::from_slice::<ReauthenticateRequest>(data);
});
