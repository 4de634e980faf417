//! `cargo fuzz run email`: the email canonicaliser never panics, and what it accepts is
//! canonical for good: one `@`, nothing invisible, and canonicalising it again changes nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use torii_server::validate;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(address) = validate::email(text) else {
        return;
    };
    assert_eq!(address.canonical.matches('@').count(), 1, "{text:?}");
    assert!(
        !address
            .canonical
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == ','),
        "{text:?}"
    );
    assert_eq!(
        address.canonical,
        address.canonical.to_lowercase(),
        "{text:?}"
    );
    let again = validate::email(&address.display).expect("a canonical address stays valid");
    assert_eq!(again.canonical, address.canonical, "{text:?}");
    assert_eq!(again.display, address.display, "{text:?}");
});
