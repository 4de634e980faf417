//! The built-in strings as the browser suite reads them: `e2e/fixtures/strings.json` lists
//! every text of the table in English and French, and the French pages are checked for any
//! English left. This test keeps the file in step with the table; after changing the table,
//! write it anew with `TORII_WRITE_STRINGS=1 cargo test -p torii-client --test strings`.

use std::path::PathBuf;
use torii_client::Locale;

fn strings_json() -> String {
    let en = Locale::en();
    let fr = Locale::fr();
    let entries: Vec<serde_json::Value> = en
        .entries()
        .into_iter()
        .zip(fr.entries())
        .map(|((key, en), (_, fr))| serde_json::json!({ "key": key, "en": en, "fr": fr }))
        .collect();
    let mut json = serde_json::to_string_pretty(&entries).expect("strings serialise");
    json.push('\n');
    json
}

#[test]
fn the_browser_suite_lists_every_built_in_string() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../e2e/fixtures/strings.json");
    let expected = strings_json();
    if std::env::var_os("TORII_WRITE_STRINGS").is_some() {
        std::fs::write(&path, &expected).expect("write e2e/fixtures/strings.json");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == expected,
        "e2e/fixtures/strings.json is out of date: run \
         `TORII_WRITE_STRINGS=1 cargo test -p torii-client --test strings`"
    );
}
