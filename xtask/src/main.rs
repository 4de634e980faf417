//! The project's own automation. Run from anywhere in the repository:
//!
//! ```text
//! cargo xtask test         # install what the tests need, then fmt, clippy, cargo test, fuzz,
//!                          # schemathesis, Playwright, the fleet
//! cargo xtask demo         # build the demo app and serve it with torii-server on SQLite
//! cargo xtask demo --ssr   # the same for the server-rendered demo (e2e/ssr-app)
//! cargo xtask build-demo   # build the demo app into e2e/dist (used by both of the above)
//! cargo xtask e2e          # only the end-to-end part of `test`: demo, server, Playwright
//! cargo xtask schemathesis # only the API fuzzing part of `test`: server, schemathesis
//! cargo xtask install      # only install what `test` needs (tools, npm packages, databases)
//! cargo xtask bench        # load-test a release-like server, weigh the wasm bundles
//! cargo xtask fleet        # three servers behind HAProxy on one PostgreSQL, faults under load
//! ```
//!
//! Every command installs what it needs when it is missing (the wasm target, the
//! `wasm-bindgen` CLI at the version in `Cargo.lock`, Debian's Chromium, Node.js and the npm
//! packages of `e2e/`, schemathesis in a Python virtual environment, PostgreSQL and MariaDB)
//! and does nothing when it is already there, so a second run goes straight to the work.
//! Everything is built in `CARGO_TARGET_DIR` when it is set, else in a per-user cache
//! (`~/.cache/torii/target`) shared by every clone, so that a fresh clone starts warm.

mod bench;
mod demo;
mod fleet;
mod schemathesis;
mod services;
mod setup;
mod util;

use std::env;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::util::{Cmd, Paths, Steps};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                  install what the tests need, then run rustfmt, clippy (native and
                        wasm32), cargo test, a bounded run of each fuzz target, schemathesis
                        against a running server, the demo build, the Playwright suite and
                        the fleet run
  e2e                   only the end-to-end part: build the demo and the server, run Playwright
  schemathesis          only the API fuzzing part: build the server, run schemathesis against
                        its /openapi.json
  demo [--listen ADDR] [--ssr]
                        build the demo app and serve it with torii-server on SQLite
                        (default http://localhost:3000); with --ssr, the server-rendered
                        demo (e2e/ssr-app), whose server hosts Torii's API too
  build-demo [--ssr]    build the demo app into e2e/dist (--ssr: the server-rendered demo's
                        bundle into e2e/ssr-dist, and its server binary)
  install               only install (and start) what `test` needs
  bench [--only GROUP,...]
                        build torii-server (server-release), seed 100,000 sessions, load it
                        with wrk, weigh the wasm bundles; writes bench/results.{md,json}.
                        Groups: load (/healthz, /me cached and uncached, JWT), scale (/me
                        on PostgreSQL at 10k, 100k, 1M sessions), propagation (a sign-out
                        on one node seen by another, PostgreSQL and MariaDB), sign-in,
                        bundles; a run of some groups writes its results under the target
                        directory's bench-run/ instead
  fleet                 build torii-server, run three nodes on one private PostgreSQL behind
                        HAProxy (deploy/haproxy.cfg) plus one without a database (each in a
                        network namespace of its own when root, else on loopback), and send a
                        bounded workload while one node restarts gracefully, one is killed
                        and PostgreSQL restarts; check the store and every node afterwards and
                        print what each fault cost (under a minute; part of `test`)";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut args = env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let paths = Paths::discover()?;
    match command.as_deref() {
        Some("test") => {
            no_extra_args(&rest)?;
            test(&paths, true)
        }
        Some("e2e") => {
            no_extra_args(&rest)?;
            test(&paths, false)
        }
        Some("schemathesis") => {
            no_extra_args(&rest)?;
            let mut steps = Steps::new();
            let result = schemathesis_steps(&paths, &mut steps);
            steps.summary(result.is_ok());
            result
        }
        Some("demo") => {
            let ssr = rest.iter().any(|arg| arg == "--ssr");
            let rest: Vec<String> = rest.into_iter().filter(|arg| arg != "--ssr").collect();
            demo::demo(&paths, parse_listen(&rest)?, ssr)
        }
        Some("install") => {
            no_extra_args(&rest)?;
            let mut steps = Steps::new();
            let result = install_steps(&paths, true, &mut steps);
            steps.summary(result.is_ok());
            result
        }
        Some("build-demo") => {
            let ssr = rest.first().is_some_and(|arg| arg == "--ssr");
            no_extra_args(rest.get(usize::from(ssr)..).unwrap_or_default())?;
            setup::wasm_toolchain(&paths)?;
            if ssr {
                demo::build_ssr_demo(&paths).map(drop)
            } else {
                demo::build_demo(&paths)
            }
        }
        Some("bench") => bench::bench(&paths, &rest),
        Some("fleet") => {
            no_extra_args(&rest)?;
            fleet::fleet(&paths)
        }
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
        None => bail!("no command given\n\n{USAGE}"),
    }
}

fn no_extra_args(rest: &[String]) -> Result<()> {
    match rest.first() {
        Some(arg) => bail!("unexpected argument `{arg}`\n\n{USAGE}"),
        None => Ok(()),
    }
}

fn parse_listen(rest: &[String]) -> Result<Option<String>> {
    let mut listen = None;
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        if arg == "--listen" {
            match args.next() {
                Some(value) => listen = Some(value.clone()),
                None => bail!("`--listen` needs an address, e.g. `--listen 127.0.0.1:3000`"),
            }
        } else if let Some(value) = arg.strip_prefix("--listen=") {
            listen = Some(value.to_owned());
        } else {
            bail!("unexpected argument `{arg}`\n\n{USAGE}");
        }
    }
    Ok(listen)
}

/// The whole suite (`full`), or only its end-to-end part. Stops at the first failing step.
fn test(paths: &Paths, full: bool) -> Result<()> {
    let mut steps = Steps::new();
    let result = test_steps(paths, full, &mut steps);
    steps.summary(result.is_ok());
    result
}

/// The test databases, unless the caller names others: the cargo tests run the store suite
/// on them, and the Playwright suite makes a database on the PostgreSQL server.
fn database_urls(mut cmd: Cmd) -> Cmd {
    for (key, default) in [
        (
            "TORII_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        ),
        ("TORII_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    ] {
        if env::var_os(key).is_none() {
            cmd = cmd.env(key, default);
        }
    }
    cmd
}

/// HTTP suites that `cargo test` runs on SQLite and this step runs again on PostgreSQL: the
/// defences whose correctness depends on the store (rate limits and delays, enumeration,
/// sessions and their revocation, single-use codes and links). `--workspace` keeps the
/// feature resolution, and so the build, of the step before.
const POSTGRES_HTTP_SUITES: [&str; 13] = [
    "rate_limits",
    "enumeration",
    "sessions",
    "sign_up",
    "email_flows",
    "account",
    "oauth",
    "hardening",
    "code_ceremonies",
    "jwt",
    "client_address",
    "breached_passwords",
    "mfa",
];

/// The fuzz targets in `fuzz/`, each for a short bounded run (longer runs: docs/security.md).
const FUZZ_TARGETS: [&str; 3] = ["email", "json_bodies", "tokens"];
const FUZZ_SECONDS: u32 = 20;

/// Builds the fuzz targets and runs each for `FUZZ_SECONDS`. libFuzzer needs the sanitizer
/// flags of a nightly compiler; `RUSTC_BOOTSTRAP` lets this stable one accept them. The
/// instrumented build gets its own target directory, so it never invalidates the main one.
fn fuzz(paths: &Paths) -> Result<()> {
    let dir = paths.root.join("fuzz");
    let target = paths.target.join("fuzz");
    for name in FUZZ_TARGETS {
        paths
            .cargo(&["fuzz", "run", "-O", name, "--"])
            .arg(format!("-max_total_time={FUZZ_SECONDS}"))
            .cwd(&dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", &target)
            .run()?;
    }
    Ok(())
}

/// What the tests need, each step a no-op when already there (the browser tests run on
/// SQLite, PostgreSQL and MariaDB alike).
fn install_steps(paths: &Paths, full: bool, steps: &mut Steps) -> Result<()> {
    steps.run("install: wasm toolchain", || setup::wasm_toolchain(paths))?;
    steps.run("install: chromium", setup::chromium)?;
    steps.run("install: node and npm", setup::node)?;
    steps.run("install: e2e npm packages", || setup::npm_ci(paths))?;
    steps.run("install: postgresql", services::postgres)?;
    steps.run("install: mariadb", services::mariadb)?;
    if full {
        steps.run("install: schemathesis", || schemathesis::install(paths))?;
    }
    Ok(())
}

/// `cargo xtask schemathesis`: the server, and schemathesis against it.
fn schemathesis_steps(paths: &Paths, steps: &mut Steps) -> Result<()> {
    steps.run("install: schemathesis", || schemathesis::install(paths))?;
    let server = steps.run("cargo build -p torii-server", || demo::build_server(paths))?;
    steps.run("schemathesis (against /openapi.json)", || {
        schemathesis::run(paths, &server)
    })
}

fn test_steps(paths: &Paths, full: bool, steps: &mut Steps) -> Result<()> {
    install_steps(paths, full, steps)?;
    if full {
        steps.run("cargo fmt --check", || {
            paths.cargo(&["fmt", "--all", "--check"]).run()
        })?;
        steps.run("cargo clippy (native)", || {
            paths
                .cargo(&[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ])
                .run()
        })?;
        steps.run("cargo clippy (wasm32)", || {
            paths
                .cargo(&[
                    "clippy",
                    "-p",
                    "torii-shared",
                    "-p",
                    "torii-client",
                    "-p",
                    "torii-demo",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--",
                    "-D",
                    "warnings",
                ])
                .run()
        })?;
        // The smallest client build: only passwords and emailed codes (the features' other
        // combinations sit between it and the full set above).
        steps.run("cargo clippy (password + email-code only, wasm32)", || {
            paths
                .cargo(&[
                    "clippy",
                    "-p",
                    "torii-client",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--no-default-features",
                    "--features",
                    "csr,password,email-code",
                    "--",
                    "-D",
                    "warnings",
                ])
                .run()
        })?;
        // The server-rendered modes: torii-client and the SSR demo as their server half
        // (`ssr`, native) and their browser half (`hydrate`, wasm32).
        steps.run("cargo clippy (ssr, native)", || {
            paths
                .cargo(&[
                    "clippy",
                    "-p",
                    "torii-client",
                    "-p",
                    "torii-ssr-demo",
                    "--features",
                    "torii-client/server,torii-client/router,torii-ssr-demo/ssr",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ])
                .run()
        })?;
        steps.run("cargo clippy (hydrate, wasm32)", || {
            paths
                .cargo(&[
                    "clippy",
                    "-p",
                    "torii-client",
                    "-p",
                    "torii-ssr-demo",
                    "--features",
                    "torii-client/router,torii-ssr-demo/hydrate",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--",
                    "-D",
                    "warnings",
                ])
                .run()
        })?;
        steps.run("cargo test", || {
            database_urls(paths.cargo(&["test", "--workspace"])).run()
        })?;
        steps.run("cargo test -p torii-client (ssr)", || {
            paths
                .cargo(&["test", "-p", "torii-client", "--features", "server,router"])
                .run()
        })?;
        steps.run("cargo test (HTTP security suites on PostgreSQL)", || {
            let mut cmd = paths.cargo(&["test", "--workspace"]);
            for suite in POSTGRES_HTTP_SUITES {
                cmd = cmd.arg("--test").arg(suite);
            }
            database_urls(cmd)
                .env("TORII_TEST_BACKEND", "postgres")
                .run()
        })?;
        steps.run("install: cargo-fuzz", setup::cargo_fuzz)?;
        steps.run("fuzz (each target, bounded)", || fuzz(paths))?;
    }
    steps.run("build demo app", || demo::build_demo(paths))?;
    let server = if full {
        // The suite's browser tests and API fuzzing run against the server as it ships.
        steps.run(
            "cargo build -p torii-server --profile server-release",
            || demo::build_release_server(paths),
        )?
    } else {
        steps.run("cargo build -p torii-server", || demo::build_server(paths))?
    };
    if full {
        steps.run("schemathesis (against /openapi.json)", || {
            schemathesis::run(paths, &server)
        })?;
    }
    // The server-rendered demo: its server and its hydrate bundle, for the `ssr` project.
    let ssr_server = steps.run("build the server-rendered demo", || {
        demo::build_ssr_demo(paths)
    })?;
    steps.run("e2e typecheck (tsc)", || {
        paths
            .npm_bin("tsc")
            .arg("--noEmit")
            .arg("-p")
            .arg(paths.e2e())
            .cwd(&paths.e2e())
            .run()
    })?;
    steps.run("playwright test", || {
        database_urls(paths.npm_bin("playwright"))
            .arg("test")
            .cwd(&paths.e2e())
            .env("TORII_SERVER_BIN", &server)
            .env("TORII_STATIC_DIR", paths.dist())
            .env("TORII_SSR_SERVER_BIN", &ssr_server)
            .env("TORII_SSR_STATIC_DIR", paths.ssr_dist())
            .run()
    })?;
    if full {
        // Last: it reuses the release build the browser tests ran against, and it is the
        // slowest failure to read (several processes' logs), so every cheaper check that
        // could explain a failure has passed before it starts.
        steps.run("fleet (HAProxy, three nodes, faults under load)", || {
            fleet::run(paths, &server)
        })?;
    }
    Ok(())
}
