//! Building the demo app (`e2e/app`, crate `torii-demo`) into `e2e/dist`, building
//! `torii-server`, and serving the two together for a person to try.

use std::fs;
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::setup;
use crate::util::{Cmd, Paths, find_tool};

/// Features of the wasm that rustc emits for `wasm32-unknown-unknown` by default (LLVM's
/// "generic" CPU) and wasm-bindgen keeps; wasm-opt refuses a module using a feature it was
/// not told about.
pub(crate) const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Rust flags of the release wasm builds. `erase_components` is Leptos's switch for
/// type-erased views: every component and reactive child becomes one `AnyView` type instead
/// of a distinct nested type per call site, so far less code is generated (the demo's gzipped
/// wasm shrinks by about an eighth) for a boxed call per render. Set for the wasm target only.
pub const WASM_RUSTFLAGS: (&str, &str) = (
    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
    "--cfg erase_components",
);

/// `cargo xtask build-demo`: the release wasm, wasm-bindgen's JS glue, wasm-opt when npm's
/// binaryen is installed, and the static files, all in `e2e/dist`.
pub fn build_demo(paths: &Paths) -> Result<()> {
    paths
        .cargo(&[
            "build",
            "-p",
            "torii-demo",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
        ])
        .env(WASM_RUSTFLAGS.0, WASM_RUSTFLAGS.1)
        .run()?;
    let wasm = paths
        .target
        .join("wasm32-unknown-unknown/release/torii_demo.wasm");
    if !wasm.is_file() {
        bail!("the build produced no {}", wasm.display());
    }
    let dist = paths.dist();
    let pkg = dist.join("pkg");
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("could not empty {}", dist.display()))?;
    }
    fs::create_dir_all(&pkg)?;

    let wasm_bindgen = find_tool("wasm-bindgen")
        .context("`wasm-bindgen` not found: run `cargo xtask build-demo`, which installs it")?;
    Cmd::new(wasm_bindgen)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm)
        .run()?;

    let bg = pkg.join("torii_demo_bg.wasm");
    // npm's binaryen only: Debian's wasm-opt is too old for current rustc output and
    // produces a module that fails at load.
    let wasm_opt = paths.e2e().join("node_modules/.bin/wasm-opt");
    if wasm_opt.is_file() {
        Cmd::new(&wasm_opt)
            .arg("-Oz")
            .args(WASM_OPT_FEATURES)
            .arg(&bg)
            .arg("-o")
            .arg(&bg)
            .run()?;
    } else {
        println!("wasm-opt: not installed (npm ci in e2e/ installs it); the wasm is not optimised");
    }

    copy_dir_contents(&paths.root.join("e2e/app/static"), &dist)?;
    let style = paths.root.join("client/src/style.css");
    fs::copy(&style, dist.join("style.css"))
        .with_context(|| format!("could not copy {}", style.display()))?;

    for file in [&bg, &pkg.join("torii_demo.js")] {
        let raw = fs::metadata(file)
            .with_context(|| format!("{} is missing", file.display()))?
            .len();
        println!(
            "{:<22} {:>9} bytes, {:>8} gzipped",
            file.file_name().unwrap_or_default().to_string_lossy(),
            raw,
            gzipped_len(file)?
        );
    }
    println!("demo app built in {}", dist.display());
    Ok(())
}

fn copy_dir_contents(from: &Path, to: &Path) -> Result<()> {
    let entries =
        fs::read_dir(from).with_context(|| format!("could not read {}", from.display()))?;
    for entry in entries {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&dest)?;
            copy_dir_contents(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), &dest)
                .with_context(|| format!("could not copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The size of `gzip -9` of the file: what a browser downloads from a compressing server.
fn gzipped_len(file: &Path) -> Result<u64> {
    let mut child = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start `gzip`")?;
    let mut bytes = Vec::new();
    child
        .stdout
        .take()
        .context("gzip has no stdout")?
        .read_to_end(&mut bytes)?;
    if !child.wait()?.success() {
        bail!("`gzip -9 -c {}` failed", file.display());
    }
    Ok(bytes.len() as u64)
}

/// `cargo xtask build-demo --ssr`: the server-rendered demo (`e2e/ssr-app`, crate
/// `torii-ssr-demo`): its hydrate bundle (release wasm for the browser, wasm-bindgen's glue,
/// wasm-opt when installed) in `e2e/ssr-dist/pkg`, and its server binary (debug); the
/// absolute path of the binary.
pub fn build_ssr_demo(paths: &Paths) -> Result<PathBuf> {
    paths
        .cargo(&[
            "build",
            "-p",
            "torii-ssr-demo",
            "--lib",
            "--features",
            "hydrate",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
        ])
        // Not `erase_components` (WASM_RUSTFLAGS): set on the browser half only, the markup
        // the bundle expects differs from what the server renders and hydration fails.
        .run()?;
    let wasm = paths
        .target
        .join("wasm32-unknown-unknown/release/torii_ssr_demo.wasm");
    if !wasm.is_file() {
        bail!("the build produced no {}", wasm.display());
    }
    let dist = paths.ssr_dist();
    let pkg = dist.join("pkg");
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("could not empty {}", dist.display()))?;
    }
    fs::create_dir_all(&pkg)?;
    let wasm_bindgen = find_tool("wasm-bindgen")
        .context("`wasm-bindgen` not found: run `cargo xtask build-demo`, which installs it")?;
    Cmd::new(wasm_bindgen)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm)
        .run()?;
    let bg = pkg.join("torii_ssr_demo_bg.wasm");
    let wasm_opt = paths.e2e().join("node_modules/.bin/wasm-opt");
    if wasm_opt.is_file() {
        Cmd::new(&wasm_opt)
            .arg("-Oz")
            .args(WASM_OPT_FEATURES)
            .arg(&bg)
            .arg("-o")
            .arg(&bg)
            .run()?;
    }
    for file in [&bg, &pkg.join("torii_ssr_demo.js")] {
        let raw = fs::metadata(file)
            .with_context(|| format!("{} is missing", file.display()))?
            .len();
        println!(
            "{:<26} {:>9} bytes, {:>8} gzipped",
            file.file_name().unwrap_or_default().to_string_lossy(),
            raw,
            gzipped_len(file)?
        );
    }

    paths
        .cargo(&[
            "build",
            "-p",
            "torii-ssr-demo",
            "--bin",
            "torii-ssr-demo",
            "--features",
            "ssr",
        ])
        .run()?;
    let bin = paths.target.join("debug/torii-ssr-demo");
    if !bin.is_file() {
        bail!("the build produced no {}", bin.display());
    }
    println!(
        "server-rendered demo built: {} and {}",
        bin.display(),
        dist.display()
    );
    Ok(bin)
}

/// `cargo build -p torii-server`; the absolute path of the binary.
/// `torii-server` as it ships: the `server-release` profile (optimised, thin LTO). The full
/// test suite runs its browser tests and schemathesis against this build, and `cargo xtask
/// bench` measures it, so both share one compile.
pub fn build_release_server(paths: &Paths) -> Result<PathBuf> {
    paths
        .cargo(&["build", "-p", "torii-server", "--profile", "server-release"])
        .run()?;
    let bin = paths.target.join("server-release/torii-server");
    if !bin.is_file() {
        bail!("the build produced no {}", bin.display());
    }
    Ok(bin)
}

pub fn build_server(paths: &Paths) -> Result<PathBuf> {
    build_server_with(paths, &["build", "-p", "torii-server"])
}

/// Builds the server with the given cargo arguments; the absolute path of the binary.
pub fn build_server_with(paths: &Paths, cargo_args: &[&str]) -> Result<PathBuf> {
    paths.cargo(cargo_args).run()?;
    let bin = paths.target.join("debug/torii-server");
    if !bin.is_file() {
        bail!("the build produced no {}", bin.display());
    }
    Ok(bin)
}

/// `cargo xtask demo`: build everything, then run `torii-server` on SQLite until Ctrl-C.
/// With `ssr`, the server-rendered demo instead: its own binary serves the pages and
/// Torii's API on one origin.
pub fn demo(paths: &Paths, listen: Option<String>, ssr: bool) -> Result<()> {
    // Checked before the builds, so that a typo fails at once.
    let listen = listen
        .or_else(|| std::env::var("TORII_LISTEN").ok())
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("`{listen}` is not an address like 127.0.0.1:3000"))?;
    let url = std::env::var("TORII_PUBLIC_URL")
        .unwrap_or_else(|_| format!("http://localhost:{}", addr.port()));
    let database =
        std::env::var("TORII_DATABASE_URL").unwrap_or_else(|_| "sqlite://torii.db".to_owned());
    let smtp = std::env::var_os("TORII_SMTP_URL").is_some();
    // The demo's environment (every method that works on localhost), unless the caller
    // names a configuration of their own.
    let config = std::env::var_os("TORII_CONFIG")
        .map_or_else(|| paths.root.join("demo").join("torii.toml"), PathBuf::from);

    setup::wasm_toolchain(paths)?;
    if find_tool("npm").is_some() {
        // For binaryen's wasm-opt; the demo works without it, only larger.
        if let Err(err) = setup::npm_ci(paths) {
            println!("warning: npm ci in e2e/ failed, building without wasm-opt: {err:#}");
        }
    }
    let (server, static_dir) = if ssr {
        (build_ssr_demo(paths)?, paths.ssr_dist())
    } else {
        build_demo(paths)?;
        (build_server(paths)?, paths.dist())
    };

    println!();
    println!("Torii demo: open {url}");
    println!("  database: {database} (in {})", paths.root.display());
    println!("  configuration: {}", config.display());
    println!("  sign-in methods: password, emailed codes, sign-in links, passkeys");
    if smtp {
        println!("  emails go to TORII_SMTP_URL");
    } else {
        println!("  no SMTP configured: codes and sign-in links appear in the server log below");
    }
    println!("  stop with Ctrl-C");
    println!();
    println!(
        "To add a provider (Google, GitHub or any OpenID Connect issuer): add \"oauth\" to \
         `methods` in {}, add an [[environments.oauth_providers]] table with its client id and \
         secret (the file shows one), register {url}/v1/oauth/<id>/callback as its redirect \
         URI, and run the demo again.",
        config.display()
    );
    println!();

    let mut server = Command::new(&server);
    server
        .current_dir(&paths.root)
        .env("TORII_LISTEN", &listen)
        .env("TORII_PUBLIC_URL", &url)
        .env("TORII_DATABASE_URL", &database)
        .env("TORII_CONFIG", &config)
        .env("TORII_STATIC_DIR", static_dir);
    run_in_foreground(server)
}

/// Becomes the server, so that Ctrl-C reaches it alone and the shell waits for its graceful
/// shutdown.
#[cfg(unix)]
fn run_in_foreground(mut server: Command) -> Result<()> {
    use std::os::unix::process::CommandExt as _;
    let err = server.exec();
    Err(err).context("could not start torii-server")
}

#[cfg(not(unix))]
fn run_in_foreground(mut server: Command) -> Result<()> {
    let status = server.status().context("could not start torii-server")?;
    if !status.success() {
        bail!("torii-server exited with {status}");
    }
    Ok(())
}
