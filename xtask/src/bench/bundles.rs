//! Bundle sizes: the demo app, a SignIn-only app (every feature, and only passwords and
//! emailed codes) and a Leptos floor, raw and gzipped.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::demo;
use crate::setup;
use crate::util::{Cmd, Paths, find_tool};

use super::write_file;

#[derive(Debug, Clone)]
pub(super) struct Bundle {
    pub(super) name: String,
    pub(super) wasm: u64,
    pub(super) wasm_gz: u64,
    pub(super) js: u64,
    pub(super) js_gz: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Bundles {
    pub(super) items: Vec<Bundle>,
    pub(super) wasm_opt: bool,
    pub(super) notes: Vec<String>,
}

pub(super) fn bundles(paths: &Paths) -> Result<Bundles> {
    setup::wasm_toolchain(paths)?;
    if find_tool("npm").is_some() {
        // For binaryen's wasm-opt; without it the bundles are built, only larger.
        if let Err(err) = setup::npm_ci(paths) {
            println!("warning: npm ci in e2e/ failed, building without wasm-opt: {err:#}");
        }
    }
    let wasm_opt = paths.e2e().join("node_modules/.bin/wasm-opt");
    let mut done = Bundles {
        items: Vec::new(),
        wasm_opt: wasm_opt.is_file(),
        notes: Vec::new(),
    };
    demo::build_demo(paths)?;
    let pkg = paths.dist().join("pkg");
    done.items.push(weigh(
        "demo app (e2e/app)",
        &pkg.join("torii_demo_bg.wasm"),
        &pkg.join("torii_demo.js"),
    )?);
    for app in SMALL_APPS {
        match small_app(paths, &wasm_opt, app) {
            Ok(bundle) => done.items.push(bundle),
            Err(err) => {
                println!("warning: {} was not built: {err:#}", app.title);
                done.notes
                    .push(format!("{} not built: {err:#}", app.title).replace('\n', " "));
            }
        }
    }
    Ok(done)
}

fn weigh(name: &str, wasm: &Path, js: &Path) -> Result<Bundle> {
    let size = |file: &Path| {
        fs::metadata(file)
            .map(|meta| meta.len())
            .with_context(|| format!("{} is missing", file.display()))
    };
    Ok(Bundle {
        name: name.to_owned(),
        wasm: size(wasm)?,
        wasm_gz: gzipped_len(wasm)?,
        js: size(js)?,
        js_gz: gzipped_len(js)?,
    })
}

/// `gzip -9` of the file: what a browser downloads from a compressing server.
fn gzipped_len(file: &Path) -> Result<u64> {
    let output = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .stderr(Stdio::piped())
        .output()
        .context("could not start `gzip`")?;
    if !output.status.success() {
        bail!("`gzip -9 -c {}` failed", file.display());
    }
    Ok(output.stdout.len() as u64)
}

/// Writes `contents` unless the file already holds exactly that, so that cargo does not
/// rebuild an unchanged crate.
fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|current| current == contents) {
        return Ok(());
    }
    write_file(path, contents).map(drop)
}

/// A one-file app weighed beside the demo, built as its own crate in the target directory
/// from its `main.rs` under `bench/apps/` (the manifest is written here: it names the client
/// by its absolute path and copies the workspace's release profile).
#[derive(Debug)]
struct SmallApp {
    crate_name: &'static str,
    title: &'static str,
    /// Its directory under `bench/apps/`, holding `src/main.rs`.
    dir: &'static str,
    uses_client: bool,
    /// The client's features when not its defaults (`default-features = false`).
    client_features: Option<&'static [&'static str]>,
}

const SMALL_APPS: [&SmallApp; 3] = [&SIGN_IN_APP, &PASSWORD_CODE_APP, &LEPTOS_FLOOR_APP];

/// The SignIn-only app: a crate of its own (outside the workspace, sharing its target
/// directory and lock file, so the dependencies the demo build compiled are reused).
const SIGN_IN_APP: SmallApp = SmallApp {
    crate_name: "torii_sign_in_only",
    title: "SignIn-only app (ToriiProvider + SignIn)",
    dir: "sign-in-only",
    uses_client: true,
    client_features: None,
};

/// The same app (its `main.rs`) built with only the password and emailed-code methods: what
/// the features save an app that needs no other way in.
const PASSWORD_CODE_APP: SmallApp = SmallApp {
    crate_name: "torii_sign_in_password_code",
    title: "SignIn, password and code only (features csr, password, email-code)",
    dir: "sign-in-only",
    uses_client: true,
    client_features: Some(&["csr", "password", "email-code"]),
};

/// What Leptos itself costs, so that the two rows above can be read against a floor.
const LEPTOS_FLOOR_APP: SmallApp = SmallApp {
    crate_name: "leptos_floor",
    title: "Leptos alone (a form, two signals; no Torii)",
    dir: "leptos-floor",
    uses_client: false,
    client_features: None,
};

fn small_app(paths: &Paths, wasm_opt: &Path, app: &SmallApp) -> Result<Bundle> {
    let name = app.crate_name;
    let dir = paths
        .target
        .join(format!("bench-{}", name.replace('_', "-")));
    fs::create_dir_all(dir.join("src"))?;
    let client = paths.root.join("client");
    let workspace = fs::read_to_string(paths.root.join("Cargo.toml"))?;
    let release = workspace
        .split("\n[profile.release]\n")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .context("no [profile.release] in the workspace's Cargo.toml")?;
    let manifest = format!(
        "[package]\n\
         name = {name:?}\n\
         version = \"0.0.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\n\
         [dependencies]\n\
         {client}\
         leptos = {{ version = \"0.8\", features = [\"csr\"] }}\n\n\
         # Its own workspace, with the workspace's release profile, so that the compiled\n\
         # dependencies in the shared target directory are reused.\n\
         [workspace]\n\n\
         [profile.release]\n{release}\n",
        client = if app.uses_client {
            let features = app.client_features.map_or_else(String::new, |features| {
                format!(", default-features = false, features = {features:?}")
            });
            format!(
                "torii-client = {{ path = {:?}{features} }}\n",
                client.display().to_string()
            )
        } else {
            String::new()
        }
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    let main = paths
        .root
        .join("bench/apps")
        .join(app.dir)
        .join("src/main.rs");
    let main =
        fs::read_to_string(&main).with_context(|| format!("could not read {}", main.display()))?;
    write_if_changed(&dir.join("src/main.rs"), &main)?;
    let lock = fs::read_to_string(paths.root.join("Cargo.lock"))?;
    write_if_changed(&dir.join("Cargo.lock"), &lock)?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Cmd::new(cargo)
        .args([
            "build",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &paths.target)
        .env(crate::demo::WASM_RUSTFLAGS.0, crate::demo::WASM_RUSTFLAGS.1)
        .cwd(&dir)
        .run()?;
    let wasm = paths
        .target
        .join(format!("wasm32-unknown-unknown/release/{name}.wasm"));
    let pkg = dir.join("pkg");
    if pkg.exists() {
        fs::remove_dir_all(&pkg)?;
    }
    let wasm_bindgen = find_tool("wasm-bindgen").context("`wasm-bindgen` not found")?;
    Cmd::new(wasm_bindgen)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm)
        .run()?;
    let bg = pkg.join(format!("{name}_bg.wasm"));
    if wasm_opt.is_file() {
        Cmd::new(wasm_opt)
            .arg("-Oz")
            .args(demo::WASM_OPT_FEATURES)
            .arg(&bg)
            .arg("-o")
            .arg(&bg)
            .run()?;
    }
    weigh(app.title, &bg, &pkg.join(format!("{name}.js")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_apps_are_in_the_repository() {
        let paths = Paths::discover().unwrap();
        for app in SMALL_APPS {
            let main = paths
                .root
                .join("bench/apps")
                .join(app.dir)
                .join("src/main.rs");
            let source = fs::read_to_string(&main).unwrap();
            assert!(source.contains("fn main()"), "{}", main.display());
            assert_eq!(
                source.contains("torii_client"),
                app.uses_client,
                "{}",
                app.title
            );
        }
    }
}
