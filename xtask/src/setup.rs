//! Installing the tools the commands need, each only when it is missing: the wasm target,
//! the `wasm-bindgen` CLI pinned by `Cargo.lock`, Debian packages, and `e2e/`'s npm packages.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use crate::util::{Cmd, Paths, find_tool, privileged};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Everything needed to build the demo app: the wasm target and the matching wasm-bindgen.
pub fn wasm_toolchain(paths: &Paths) -> Result<()> {
    wasm_target()?;
    wasm_bindgen_cli(paths)
}

fn wasm_target() -> Result<()> {
    let sysroot = Cmd::new("rustc").args(["--print", "sysroot"]).read()?;
    let installed = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir();
    if installed {
        println!("{WASM_TARGET}: installed");
        return Ok(());
    }
    Cmd::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .run()
        .context("could not add the wasm target (is the toolchain managed by rustup?)")
}

/// The version of the `wasm-bindgen` crate in `Cargo.lock`: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version(paths: &Paths) -> Result<String> {
    let lock_path = paths.root.join("Cargo.lock");
    let lock = fs::read_to_string(&lock_path)
        .with_context(|| format!("could not read {}", lock_path.display()))?;
    let mut versions = Vec::new();
    let mut in_wasm_bindgen = false;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            in_wasm_bindgen = false;
        } else if line == "name = \"wasm-bindgen\"" {
            in_wasm_bindgen = true;
        } else if in_wasm_bindgen && let Some(rest) = line.strip_prefix("version = ") {
            versions.push(rest.trim_matches('"').to_owned());
            in_wasm_bindgen = false;
        }
    }
    match versions.as_slice() {
        [version] => Ok(version.clone()),
        [] => bail!(
            "no `wasm-bindgen` package in {}: is the client in the workspace?",
            lock_path.display()
        ),
        several => bail!(
            "several `wasm-bindgen` versions in Cargo.lock ({}): the CLI can match only one; \
             unify them",
            several.join(", ")
        ),
    }
}

fn wasm_bindgen_cli(paths: &Paths) -> Result<()> {
    let wanted = locked_wasm_bindgen_version(paths)?;
    let installed = find_tool("wasm-bindgen")
        .and_then(|bin| Cmd::new(bin).arg("--version").read().ok())
        .and_then(|out| out.split_whitespace().nth(1).map(str::to_owned));
    if installed.as_deref() == Some(wanted.as_str()) {
        println!("wasm-bindgen {wanted}: installed");
        return Ok(());
    }
    match &installed {
        Some(other) => println!("wasm-bindgen {other} installed, Cargo.lock wants {wanted}"),
        None => println!("wasm-bindgen: not installed"),
    }
    // Not --locked: the CLI's own lock file may pin versions this toolchain cannot build.
    Cmd::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["install", "wasm-bindgen-cli", "--version", &wanted])
        .run()
}

/// The version of `cargo fuzz` the fuzz step installs when it is missing.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// `cargo fuzz` (libFuzzer driver), from crates.io when absent.
pub fn cargo_fuzz() -> Result<()> {
    if find_tool("cargo-fuzz").is_some() {
        println!("cargo-fuzz: installed");
        return Ok(());
    }
    Cmd::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION])
        .run()
}

/// Debian's Chromium, which Playwright drives (Playwright's own browser builds are not used).
pub fn chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").is_file() {
        println!("chromium: installed");
        return Ok(());
    }
    apt_install(&["chromium"])
}

/// Node.js and npm, from Debian when absent.
pub fn node() -> Result<()> {
    if find_tool("node").is_none() || find_tool("npm").is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    let version = Cmd::new("node").arg("--version").read()?;
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .with_context(|| format!("unexpected `node --version` output: {version}"))?;
    println!("node {version}");
    if major < 20 {
        println!("warning: Playwright and the SMTP sink want Node.js 20 or newer; found {version}");
    }
    Ok(())
}

/// `npm ci` in `e2e/` when `node_modules` is missing or older than `package-lock.json`.
pub fn npm_ci(paths: &Paths) -> Result<()> {
    let e2e = paths.e2e();
    let lock =
        modified(&e2e.join("package-lock.json")).context("e2e/package-lock.json is missing")?;
    // npm writes node_modules/.package-lock.json on every install; fall back to the directory.
    let installed = modified(&e2e.join("node_modules/.package-lock.json"))
        .or_else(|| modified(&e2e.join("node_modules")));
    if installed.is_some_and(|installed| installed >= lock) {
        println!("e2e/node_modules: up to date");
        return Ok(());
    }
    Cmd::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .cwd(&e2e)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .run()
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|meta| meta.modified()).ok()
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// `apt-get install -y`, after one `apt-get update` per run.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        apt().arg("update").run()?;
    }
    apt().args(["install", "-y"]).args(packages).run()
}

fn apt() -> Cmd {
    privileged("env")
        .arg("DEBIAN_FRONTEND=noninteractive")
        .arg("apt-get")
}
