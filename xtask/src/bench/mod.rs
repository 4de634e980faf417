//! `cargo xtask bench`: throughput and latency of `torii-server` (release-like build) under a
//! real load generator, as ratios to a no-op route measured in the same run, plus the size of
//! the WebAssembly bundles. Writes `bench/results.md` and `bench/results.json`.
//!
//! What it does, in order (`--only load,scale,propagation,sign-in,bundles` picks groups):
//! 1. installs `wrk` and the `sqlite3` shell from Debian when missing, and makes sure
//!    PostgreSQL answers on 127.0.0.1:5432, and MariaDB on 127.0.0.1:3306 for the
//!    propagation group (as `cargo xtask test` does);
//! 2. builds `torii-server` with `--profile server-release`;
//! 3. seeds 100,000 users and 100,000 database sessions by a SQL bulk insert into a migrated
//!    SQLite file and into a fresh PostgreSQL database (the server migrates each first; the
//!    first 1,000 users get a password, an argon2id hash the server made);
//! 4. load: runs `wrk` (2 threads, 64 connections, a warm-up then 10 s) against a fresh server
//!    for each of `GET /healthz`, `GET /me` on SQLite and PostgreSQL with the session cache
//!    on ([`cache::CACHE_SIZE`], filled with every token first), on PostgreSQL with it off,
//!    and with JWT sessions; every request carries a bearer token that a Lua script picks at
//!    random from the seeded ones; the cache's hits while measured come from `/metrics`;
//! 5. scale: the same `/me` rows on PostgreSQL at 10,000, 100,000 and 1,000,000 sessions
//!    (`scale.rs`), between the same two baselines;
//! 6. propagation: two servers on one database, PostgreSQL then MariaDB, under `/me` load;
//!    200 sessions signed out through one, the other polled until it answers signed out
//!    (`propagation.rs`);
//! 7. measures sign-ins at concurrency 1 (the argon2 time, hence the ceiling: cores ÷ time),
//!    then a storm of 50 concurrent sign-ins with a paced `/me` client alongside;
//! 8. builds the demo app (`cargo xtask build-demo`), a SignIn-only app, and a Leptos app
//!    with nothing of Torii (the framework's own floor), and weighs their wasm and js, raw and
//!    gzipped.
//!
//! Only a full run writes `bench/results.*`; a partial one writes them in its work directory.
//!
//! The load scripts (`bench/lua/`) and the small apps (`bench/apps/`) are files of the
//! repository, read at run time.
//!
//! Every process it starts is stopped by its id, on failure too. Nothing here asserts a time:
//! the figures are printed and written, and the reader judges them.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::setup;
use crate::util::{Paths, Steps, find_tool};
use crate::{demo, services};

mod bundles;
mod cache;
mod groups;
mod http;
mod propagation;
mod report;
mod scale;
mod scenarios;
mod seed;
mod server;
mod wrk;

pub(crate) use http::{Response, http, http_at};
pub(crate) use server::Server;

use bundles::bundles;
use cache::{Cache, CacheCounts};
use groups::{Group, Groups};
use propagation::Backend;
use report::{Report, load_average};
use scenarios::{DATABASE_SESSION, JWT_SESSION, Row};
use seed::PgDatabase;
use wrk::WrkResult;

/// Users, and database sessions (one each), seeded into every database.
const SEED_USERS: usize = 100_000;
/// The first users get a password, for the sign-in scenarios.
const USERS_WITH_PASSWORD: usize = 1_000;
/// Signed-in users whose JWTs the JWT scenario sends.
const JWT_TOKENS: usize = 100;
const PASSWORD: &str = "bench-password-1";
const ENV_ID: &str = "env_bench";
const SECRET_KEY: &str = "sk_test_bench_secret";

const THREADS: u32 = 2;
const CONNECTIONS: u32 = 64;
const WARM_UP_SECS: u32 = 2;
const MEASURE_SECS: u32 = 10;
const SIGN_IN_CONNECTIONS: u32 = 50;
const SINGLE_SIGN_IN_SECS: u32 = 5;
/// The `/me` client beside the sign-in storm: a few connections, each pausing between
/// requests, so its latency shows how long `/me` waits rather than how deep wrk's own queue is.
const PACED_CONNECTIONS: u32 = 8;
const PACED_DELAY_MS: u32 = 10;
const PACED_SECS: u32 = 5;

const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `cargo xtask bench [--only GROUP,…]`.
pub fn bench(paths: &Paths, args: &[String]) -> Result<()> {
    let groups = Groups::parse(args)?;
    let mut steps = Steps::new();
    let result = run(paths, &groups, &mut steps);
    steps.summary(result.is_ok());
    result
}

fn run(paths: &Paths, groups: &Groups, steps: &mut Steps) -> Result<()> {
    let loads = groups.has(Group::Load) || groups.has(Group::Scale);
    let servers = loads || groups.has(Group::Propagation) || groups.has(Group::SignIn);
    let mut report = Report::new(groups);
    if servers {
        let bench = steps.run("prepare: wrk, databases, torii-server", || {
            prepare(paths, groups)
        })?;
        // The SQLite seed also makes the tokens file the baselines send.
        let seed = if loads || groups.has(Group::SignIn) {
            Some(steps.run("seed SQLite: 100,000 users and sessions", || {
                bench.seed_sqlite()
            })?)
        } else {
            None
        };
        if loads {
            load_rows(&bench, groups, seed.as_ref(), &mut report, steps)?;
        }
        if groups.has(Group::Propagation) {
            for backend in [Backend::Postgres, Backend::MariaDb] {
                let name = format!("revocation propagation, {}", backend.label());
                report
                    .propagation
                    .push(steps.run(&name, || bench.propagation(backend))?);
            }
        }
        if groups.has(Group::SignIn) {
            report.sign_in = Some(steps.run("sign-in storm", || bench.sign_in_storm())?);
        }
        report.load_after = load_average();
        report.wrk = report::wrk_version();
    }
    if groups.has(Group::Bundles) {
        report.bundles = steps.run("bundle sizes", || bundles(paths))?;
    }
    // Only a full run replaces the committed results; a partial one writes beside its work.
    let dir = if groups.is_full() {
        paths.root.join("bench")
    } else {
        paths.target.join("bench-run")
    };
    steps.run(&format!("write {}", dir.display()), || report.write(&dir))?;
    Ok(())
}

/// The tools, the database servers the chosen groups use, the server binary, an empty work
/// directory and the files every scenario reads.
fn prepare(paths: &Paths, groups: &Groups) -> Result<Bench> {
    tools()?;
    services::postgres()?;
    if groups.has(Group::Propagation) {
        services::mariadb()?;
    }
    let server = demo::build_release_server(paths)?;
    let work = paths.target.join("bench-run");
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("could not empty {}", work.display()))?;
    }
    fs::create_dir_all(&work)?;
    Ok(Bench {
        server,
        work: work.clone(),
        database_config: write_config(&work, "database")?,
        jwt_config: write_config(&work, "jwt")?,
        bearer_lua: write_script(paths, &work, "bearer.lua")?,
        sign_in_lua: write_script(paths, &work, "sign_in.lua")?,
        tokens: work.join("tokens.txt"),
        jwt_tokens: work.join("jwt_tokens.txt"),
        sqlite_url: format!("sqlite://{}", work.join("bench.db").display()),
    })
}

/// The baselines around the `/me` rows (the load group's, the scale group's, or both).
fn load_rows(
    bench: &Bench,
    groups: &Groups,
    seed: Option<&Seed>,
    report: &mut Report,
    steps: &mut Steps,
) -> Result<()> {
    let baseline = |name: &str| {
        bench.load_scenario(&Row {
            name,
            database_url: &bench.sqlite_url,
            config: &bench.database_config,
            path: "/healthz",
            tokens: &bench.tokens,
            expect: None,
            cache: Cache::On,
        })
    };
    report.add(steps.run("GET /healthz (baseline)", || {
        baseline("GET /healthz (baseline)")
    })?);
    if groups.has(Group::Load) {
        let seed = seed.context("the load rows need the SQLite seed")?;
        let name = "GET /me, database session (cached), SQLite";
        report.add(steps.run(name, || {
            bench.refresh_sqlite_sessions()?;
            bench.load_scenario(&Row {
                name,
                database_url: &bench.sqlite_url,
                config: &bench.database_config,
                path: "/me",
                tokens: &bench.tokens,
                expect: Some(DATABASE_SESSION),
                cache: Cache::On,
            })
        })?);
        let db = steps.run("seed PostgreSQL: 100,000 users and sessions", || {
            let db = PgDatabase::create("me")?;
            bench.seed_postgres(&db, seed)?;
            Ok(db)
        })?;
        for (name, cache) in [
            ("GET /me, database session (cached), PostgreSQL", Cache::On),
            (
                "GET /me, database session (uncached), PostgreSQL",
                Cache::Off,
            ),
        ] {
            report.add(steps.run(name, || {
                bench.load_scenario(&Row {
                    name,
                    database_url: &db.url,
                    config: &bench.database_config,
                    path: "/me",
                    tokens: &bench.tokens,
                    expect: Some(DATABASE_SESSION),
                    cache,
                })
            })?);
        }
        drop(db);
        let name = "GET /me, JWT session";
        report.add(steps.run(name, || {
            bench.sign_in_jwt_users()?;
            bench.load_scenario(&Row {
                name,
                database_url: &bench.sqlite_url,
                config: &bench.jwt_config,
                path: "/me",
                tokens: &bench.jwt_tokens,
                expect: Some(JWT_SESSION),
                cache: Cache::On,
            })
        })?);
    }
    if groups.has(Group::Scale) {
        let mut scale = steps.run("PostgreSQL database for the scale rows", || {
            bench.scale_db()
        })?;
        for size in scale::SIZES {
            let name = format!("GET /me, PostgreSQL, {} sessions", scale::thousands(size));
            for row in steps.run(&name, || bench.scale_rows(&mut scale, size))? {
                report.add(row);
            }
        }
    }
    // Measured again after the others: the machine may be shared, and the two baselines show
    // how much its speed drifted during the run. The ratios are to their mean.
    report.add(steps.run("GET /healthz (baseline, again)", || {
        baseline("GET /healthz (baseline, again)")
    })?);
    Ok(())
}

/// `wrk` and the `sqlite3` shell from Debian, when missing. wrk rather than oha: Debian has it
/// (no compile on a fresh machine), it is C with an event loop, so it takes little of the CPU
/// the server needs on a small machine, and its Lua hooks pick tokens and report percentiles.
fn tools() -> Result<()> {
    let missing: Vec<&str> = [("wrk", "wrk"), ("sqlite3", "sqlite3")]
        .into_iter()
        .filter(|(bin, _)| find_tool(bin).is_none())
        .map(|(_, package)| package)
        .collect();
    if !missing.is_empty() {
        setup::apt_install(&missing)?;
    }
    for bin in ["wrk", "sqlite3", "psql"] {
        if find_tool(bin).is_none() {
            bail!("`{bin}` is still missing");
        }
    }
    println!("wrk, sqlite3 and psql: installed");
    Ok(())
}

fn write_file(path: &Path, contents: &str) -> Result<PathBuf> {
    fs::write(path, contents).with_context(|| format!("could not write {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// A `wrk` script of `bench/lua/`, with `done.lua` appended (one machine-readable line with
/// what the table needs), written to the work directory.
fn write_script(paths: &Paths, work: &Path, name: &str) -> Result<PathBuf> {
    let lua = paths.root.join("bench/lua");
    let read = |file: &str| {
        let path = lua.join(file);
        fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))
    };
    let script = format!("{}\n{}", read(name)?, read("done.lua")?);
    write_file(&work.join(name), &script)
}

/// One environment, rate limits off (the storm signs the same accounts in again and again).
fn write_config(work: &Path, kind: &str) -> Result<PathBuf> {
    // JWTs that outlive the sign-ins, the server restart and the measured run.
    let lifetime = if kind == "jwt" {
        "jwt_lifetime_secs = 900\n"
    } else {
        ""
    };
    let toml = format!(
        "[[environments]]\n\
         id = \"{ENV_ID}\"\n\
         name = \"Bench\"\n\
         publishable_key = \"pk_test_bench\"\n\
         secret_key = \"{SECRET_KEY}\"\n\n\
         [environments.session]\n\
         kind = \"{kind}\"\n\
         {lifetime}\n\
         [environments.rate_limits]\n\
         enabled = false\n"
    );
    write_file(&work.join(format!("{kind}.toml")), &toml)
}

fn now_millis() -> Result<i64> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?;
    Ok(i64::try_from(since.as_millis())?)
}

/// What seeding produced that the PostgreSQL seed reuses: the bulk insert itself.
#[derive(Debug)]
struct Seed {
    sql: PathBuf,
}

/// The fixed parts of every scenario.
#[derive(Debug)]
struct Bench {
    server: PathBuf,
    work: PathBuf,
    database_config: PathBuf,
    jwt_config: PathBuf,
    bearer_lua: PathBuf,
    sign_in_lua: PathBuf,
    tokens: PathBuf,
    jwt_tokens: PathBuf,
    sqlite_url: String,
}

/// A load scenario's figures.
#[derive(Debug, Clone)]
struct Scenario {
    name: String,
    /// The no-op route the others are compared with.
    baseline: bool,
    load: WrkResult,
    peak_rss_kib: u64,
    anon_rss_kib: u64,
    /// For a database-session row: whether the cache was on, and its lookups while measured.
    cache: Option<CacheRun>,
}

/// The session cache during a row's measured run.
#[derive(Debug, Clone, Copy)]
struct CacheRun {
    on: bool,
    counted: CacheCounts,
}

impl CacheRun {
    /// "99.9% hits", or "off".
    fn shown(self) -> String {
        if !self.on {
            return "off".to_owned();
        }
        self.counted.hit_ratio().map_or_else(
            || "no lookups".to_owned(),
            |r| format!("{:.1}% hits", 100.0 * r),
        )
    }
}

/// The sign-in figures.
#[derive(Debug, Clone)]
struct SignIn {
    single: WrkResult,
    storm: WrkResult,
    me_alone: WrkResult,
    me_storm: WrkResult,
    peak_rss_kib: u64,
    anon_rss_kib: u64,
}

impl SignIn {
    /// One sign-in at a time: its median latency is the argon2 time (plus a little HTTP and
    /// SQL); the median, because on a shared machine a few sign-ins wait for the CPU.
    fn hash_ms(&self) -> f64 {
        self.single.p50_ms()
    }

    /// Sign-ins per second that the machine's cores can hash at most.
    fn ceiling(&self) -> f64 {
        cores() as f64 * 1000.0 / self.hash_ms()
    }
}

fn cores() -> usize {
    thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_script_is_written_with_the_done_hook() {
        let paths = Paths::discover().unwrap();
        let work = std::env::temp_dir().join(format!("torii-bench-lua-{}", std::process::id()));
        fs::create_dir_all(&work).unwrap();
        for name in ["bearer.lua", "sign_in.lua"] {
            let script = fs::read_to_string(write_script(&paths, &work, name).unwrap()).unwrap();
            assert!(script.contains("function request()"), "{name}");
            assert!(
                script.contains("function done(summary, latency, requests)"),
                "{name}"
            );
        }
        fs::remove_dir_all(&work).unwrap();
    }
}
