//! `cargo xtask bench`: throughput and latency of `torii-server` (release-like build) under a
//! real load generator, as ratios to a no-op route measured in the same run, plus the size of
//! the WebAssembly bundles. Writes `bench/results.md` and `bench/results.json`.
//!
//! What it does, in order:
//! 1. installs `wrk` and the `sqlite3` shell from Debian when missing, and makes sure
//!    PostgreSQL answers on 127.0.0.1:5432 (as `cargo xtask test` does);
//! 2. builds `torii-server` with `--profile server-release`;
//! 3. seeds 100,000 users and 100,000 database sessions by a SQL bulk insert into a migrated
//!    SQLite file and into a fresh PostgreSQL database (the server migrates each first; the
//!    first 1,000 users get a password, an argon2id hash the server made);
//! 4. runs `wrk` (2 threads, 64 connections, a warm-up then 10 s) against a fresh server for
//!    each of `GET /healthz`, `GET /me` on SQLite, on PostgreSQL and with JWT sessions; every
//!    request carries a bearer token that a Lua script picks at random from the seeded ones;
//! 5. measures sign-ins at concurrency 1 (the argon2 time, hence the ceiling: cores ÷ time),
//!    then a storm of 50 concurrent sign-ins with a paced `/me` client alongside;
//! 6. builds the demo app (`cargo xtask build-demo`), a SignIn-only app, and a Leptos app
//!    with nothing of Torii (the framework's own floor), and weighs their wasm and js, raw and
//!    gzipped.
//!
//! Every process it starts is stopped by its id, on failure too. Nothing here asserts a time:
//! the figures are printed and written, and the reader judges them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::setup;
use crate::util::{Cmd, Paths, Steps, find_tool, wait_until};
use crate::{demo, services};

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

/// Each request: `GET <path>` with a bearer token picked at random from a file, preformatted
/// so that the script costs the same for every route (the baseline sends a token too).
const BEARER_LUA: &str = r#"
local requests, count, pause = {}, 0, 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  local path, file = args[1], args[2]
  pause = tonumber(args[3] or "0")
  for token in io.lines(file) do
    count = count + 1
    requests[count] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
  end
  if count == 0 then error("no tokens in " .. file) end
  math.randomseed(seed * 7919)
  if pause > 0 then
    delay = function() return pause end
  end
end

function request()
  return requests[math.random(count)]
end
"#;

/// Each request: `POST /v1/sign-in/password` as one of the first N users, at random.
const SIGN_IN_LUA: &str = r#"
local requests, count = {}, 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  local users, password = tonumber(args[1]), args[2]
  for i = 1, users do
    local body = string.format('{"email":"user%d@bench.test","password":"%s"}', i, password)
    requests[i] = wrk.format("POST", "/v1/sign-in/password",
      { ["Content-Type"] = "application/json" }, body)
  end
  count = users
  math.randomseed(seed * 7919)
end

function request()
  return requests[math.random(count)]
end
"#;

/// Appended to both scripts: one machine-readable line with what the table needs.
const DONE_LUA: &str = r#"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d mean_us=%.1f p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(99), latency.max))
end
"#;

/// `cargo xtask bench`.
pub fn bench(paths: &Paths) -> Result<()> {
    let mut steps = Steps::new();
    let result = run(paths, &mut steps);
    steps.summary(result.is_ok());
    result
}

fn run(paths: &Paths, steps: &mut Steps) -> Result<()> {
    steps.run("install: wrk, sqlite3", tools)?;
    steps.run("install: postgresql", services::postgres)?;
    let server = steps.run(
        "cargo build -p torii-server --profile server-release",
        || demo::build_release_server(paths),
    )?;

    let work = paths.target.join("bench-run");
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("could not empty {}", work.display()))?;
    }
    fs::create_dir_all(&work)?;
    let bench = Bench {
        server,
        work: work.clone(),
        database_config: write_config(&work, "database")?,
        jwt_config: write_config(&work, "jwt")?,
        bearer_lua: write_file(&work.join("bearer.lua"), &format!("{BEARER_LUA}{DONE_LUA}"))?,
        sign_in_lua: write_file(
            &work.join("sign_in.lua"),
            &format!("{SIGN_IN_LUA}{DONE_LUA}"),
        )?,
        tokens: work.join("tokens.txt"),
        jwt_tokens: work.join("jwt_tokens.txt"),
        sqlite_url: format!("sqlite://{}", work.join("bench.db").display()),
    };

    let mut report = Report::new();
    let seed = steps.run("seed SQLite: 100,000 users and sessions", || {
        bench.seed_sqlite()
    })?;
    let baseline = |name: &str| {
        bench.load_scenario(
            name,
            &bench.sqlite_url,
            &bench.database_config,
            "/healthz",
            &bench.tokens,
            None,
        )
    };
    report.add(steps.run("GET /healthz (baseline)", || {
        baseline("GET /healthz (baseline)")
    })?);
    report.add(steps.run("GET /me, database session, SQLite", || {
        bench.refresh_sqlite_sessions()?;
        bench.load_scenario(
            "GET /me, database session, SQLite",
            &bench.sqlite_url,
            &bench.database_config,
            "/me",
            &bench.tokens,
            Some("\"kind\":\"database\""),
        )
    })?);
    report.add(steps.run("GET /me, database session, PostgreSQL", || {
        let db = PgDatabase::create()?;
        bench.seed_postgres(&db, &seed)?;
        bench.load_scenario(
            "GET /me, database session, PostgreSQL",
            &db.url,
            &bench.database_config,
            "/me",
            &bench.tokens,
            Some("\"kind\":\"database\""),
        )
    })?);
    report.add(steps.run("GET /me, JWT session", || {
        bench.sign_in_jwt_users()?;
        bench.load_scenario(
            "GET /me, JWT session",
            &bench.sqlite_url,
            &bench.jwt_config,
            "/me",
            &bench.jwt_tokens,
            Some("\"kind\":\"jwt\""),
        )
    })?);
    // Measured again after the others: the machine may be shared, and the two baselines show
    // how much its speed drifted during the run. The ratios are to their mean.
    report.add(steps.run("GET /healthz (baseline, again)", || {
        baseline("GET /healthz (baseline, again)")
    })?);

    report.sign_in = Some(steps.run("sign-in storm", || bench.sign_in_storm())?);
    report.load_after = load_average();

    report.bundles = steps.run("bundle sizes", || bundles(paths))?;

    steps.run("write bench/results.md and bench/results.json", || {
        report.write(paths)
    })?;
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

/// One environment, rate limits off (the storm signs the same accounts in again and again).
fn write_config(work: &Path, kind: &str) -> Result<PathBuf> {
    let toml = format!(
        "[[environments]]\n\
         id = \"{ENV_ID}\"\n\
         name = \"Bench\"\n\
         publishable_key = \"pk_test_bench\"\n\
         secret_key = \"{SECRET_KEY}\"\n\n\
         [environments.session]\n\
         kind = \"{kind}\"\n\n\
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

impl Bench {
    fn start(&self, name: &str, database_url: &str, config: &Path) -> Result<Server> {
        Server::start(&self.server, &self.work, name, database_url, config)
    }

    /// Migrates a fresh SQLite file (the server does), makes one argon2 hash through the
    /// admin API, then bulk-inserts users, passwords and sessions with the `sqlite3` shell.
    fn seed_sqlite(&self) -> Result<Seed> {
        let server = self.start("migrate-sqlite", &self.sqlite_url, &self.database_config)?;
        let created = http(
            server.port,
            "POST",
            "/v1/admin/users",
            &[("Authorization", &format!("Bearer {SECRET_KEY}"))],
            Some(&format!(
                r#"{{"email":"hash-source@bench.test","password":"{PASSWORD}","emailVerified":true}}"#
            )),
        )?;
        if created.status != 201 {
            bail!(
                "POST /v1/admin/users answered {}: {}",
                created.status,
                created.body
            );
        }
        server.stop()?;
        let hash = self.sqlite(
            "SELECT p.hash FROM passwords p JOIN users u ON u.id = p.user_id \
             WHERE u.email_canonical = 'hash-source@bench.test'",
        )?;
        if !hash.starts_with("$argon2id$") {
            bail!("unexpected password hash in the store: {hash:.12}…");
        }

        let started = Instant::now();
        let tokens = new_tokens(SEED_USERS)?;
        let mut lines = tokens.join("\n");
        lines.push('\n');
        write_file(&self.tokens, &lines)?;
        let sql = write_file(
            &self.work.join("seed.sql"),
            &seed_sql(&tokens, &hash, now_millis()?),
        )?;
        println!(
            "{} tokens and their SHA-256 in {:.1}s",
            tokens.len(),
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        run_with_stdin(
            Command::new("sqlite3").arg("-bail").arg(self.sqlite_path()),
            &sql,
        )?;
        println!("SQLite: seeded in {:.1}s", started.elapsed().as_secs_f64());
        let count = self.sqlite("SELECT count(*) FROM sessions")?;
        println!("SQLite: {count} sessions");
        Ok(Seed { sql })
    }

    fn sqlite_path(&self) -> PathBuf {
        self.work.join("bench.db")
    }

    fn sqlite(&self, sql: &str) -> Result<String> {
        Cmd::new("sqlite3")
            .arg("-bail")
            .arg(self.sqlite_path())
            .arg(sql)
            .read()
    }

    /// Every seeded session was last active just now, so that `/me` measures the read path:
    /// the server writes "last active" at most once a minute per session.
    fn refresh_sqlite_sessions(&self) -> Result<()> {
        self.sqlite(&format!(
            "UPDATE sessions SET last_active_at = {}",
            now_millis()?
        ))
        .map(drop)
    }

    fn seed_postgres(&self, db: &PgDatabase, seed: &Seed) -> Result<()> {
        self.start("migrate-postgres", &db.url, &self.database_config)?
            .stop()?;
        let started = Instant::now();
        run_with_stdin(
            Command::new("psql")
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                .arg(&db.url),
            &seed.sql,
        )?;
        println!(
            "PostgreSQL: seeded in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        psql(
            &db.url,
            &format!("UPDATE sessions SET last_active_at = {}", now_millis()?),
        )?;
        // What autovacuum would do soon after: without it every lookup steps over the dead
        // versions the update left, which no running server sees for long.
        psql(&db.url, "VACUUM ANALYZE")?;
        let count = psql(&db.url, "SELECT count(*) FROM sessions")?;
        println!("PostgreSQL: {count} sessions");
        Ok(())
    }

    /// Signs users in on a JWT environment (a server of its own, so that the measured one
    /// never ran argon2) and keeps their tokens.
    fn sign_in_jwt_users(&self) -> Result<()> {
        let server = self.start("jwt-sign-in", &self.sqlite_url, &self.jwt_config)?;
        let port = server.port;
        let tokens: Vec<Result<String>> = thread::scope(|scope| {
            let workers: Vec<_> = (0..cores())
                .map(|worker| {
                    scope.spawn(move || {
                        (1..=JWT_TOKENS)
                            .skip(worker)
                            .step_by(cores())
                            .map(|user| sign_in(port, user))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|_| vec![Err(anyhow::anyhow!("sign-in thread panicked"))])
                })
                .collect()
        });
        server.stop()?;
        let tokens: Vec<String> = tokens.into_iter().collect::<Result<_>>()?;
        if tokens.iter().any(|token| token.matches('.').count() != 2) {
            bail!("a JWT environment's sign-in did not answer with a JWT");
        }
        let mut lines = tokens.join("\n");
        lines.push('\n');
        write_file(&self.jwt_tokens, &lines)?;
        println!("{} JWTs", tokens.len());
        Ok(())
    }

    /// A fresh server, a check that the tokens work, a warm-up, the measured run, peak RSS.
    fn load_scenario(
        &self,
        name: &str,
        database_url: &str,
        config: &Path,
        path: &str,
        tokens: &Path,
        expect: Option<&str>,
    ) -> Result<Scenario> {
        let server = self.start(&slug(name), database_url, config)?;
        if let Some(expect) = expect {
            check_tokens(server.port, tokens, expect)?;
        }
        let load = |secs| Wrk {
            threads: THREADS,
            connections: CONNECTIONS,
            secs,
            script: self.bearer_lua.clone(),
            args: vec![path.to_owned(), tokens.display().to_string()],
        };
        load(WARM_UP_SECS).run(server.port)?;
        let result = load(MEASURE_SECS).run(server.port)?;
        let (peak_rss_kib, anon_rss_kib) = server.rss_kib()?;
        server.stop()?;
        println!(
            "{name}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} non-2xx, peak RSS {} MiB \
             (anonymous: {} MiB)",
            result.rps(),
            result.p50_ms(),
            result.p99_ms(),
            result.non_2xx,
            peak_rss_kib / 1024,
            anon_rss_kib / 1024
        );
        Ok(Scenario {
            name: name.to_owned(),
            baseline: path == "/healthz",
            load: result,
            peak_rss_kib,
            anon_rss_kib,
        })
    }

    /// Sign-ins one at a time (the argon2 time), `/me` paced alone, then 50 concurrent
    /// sign-ins with the paced `/me` beside them, all on one fresh server (SQLite, database
    /// sessions).
    fn sign_in_storm(&self) -> Result<SignIn> {
        self.refresh_sqlite_sessions()?;
        let server = self.start("sign-in", &self.sqlite_url, &self.database_config)?;
        check_tokens(server.port, &self.tokens, "\"kind\":\"database\"")?;
        let sign_ins = |connections: u32, secs| Wrk {
            threads: connections.min(THREADS),
            connections,
            secs,
            script: self.sign_in_lua.clone(),
            args: vec![USERS_WITH_PASSWORD.to_string(), PASSWORD.to_owned()],
        };
        let paced_me = |secs| Wrk {
            threads: 1,
            connections: PACED_CONNECTIONS,
            secs,
            script: self.bearer_lua.clone(),
            args: vec![
                "/me".to_owned(),
                self.tokens.display().to_string(),
                PACED_DELAY_MS.to_string(),
            ],
        };
        let single = sign_ins(1, SINGLE_SIGN_IN_SECS).run(server.port)?;
        println!(
            "one sign-in at a time: {:.1} ms (median), {:.1} sign-ins/s",
            single.p50_ms(),
            single.rps()
        );
        let me_alone = paced_me(PACED_SECS).run(server.port)?;
        sign_ins(SIGN_IN_CONNECTIONS, WARM_UP_SECS).run(server.port)?;
        let storm = sign_ins(SIGN_IN_CONNECTIONS, MEASURE_SECS).spawn(server.port)?;
        // The paced client starts a moment later and ends a moment earlier, so that it sees
        // only the storm at full strength.
        thread::sleep(Duration::from_secs(1));
        let me_storm = paced_me(MEASURE_SECS - 2).run(server.port);
        let storm = storm.finish();
        let (storm, me_storm) = (storm?, me_storm?);
        let (peak_rss_kib, anon_rss_kib) = server.rss_kib()?;
        server.stop()?;
        let done = SignIn {
            single,
            storm,
            me_alone,
            me_storm,
            peak_rss_kib,
            anon_rss_kib,
        };
        println!(
            "sign-in storm: {:.1} sign-ins/s ({:.0}% of the argon2 ceiling {:.1}/s); \
             /me p99 {:.2} ms alone, {:.2} ms during the storm",
            done.storm.rps(),
            100.0 * done.storm.rps() / done.ceiling(),
            done.ceiling(),
            done.me_alone.p99_ms(),
            done.me_storm.p99_ms()
        );
        Ok(done)
    }
}

/// A few seeded tokens must answer a signed-in `/me`: a signed-out `/me` is a 200 too, so the
/// load generator's status counts alone would not notice tokens that do not work.
fn check_tokens(port: u16, tokens: &Path, expect: &str) -> Result<()> {
    let text = fs::read_to_string(tokens)?;
    let tokens: Vec<&str> = text.lines().collect();
    let step = (tokens.len() / 5).max(1);
    for token in tokens.iter().step_by(step) {
        let me = http(
            port,
            "GET",
            "/me",
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )?;
        if me.status != 200 || !me.body.contains(expect) || !me.body.contains("\"id\":\"usr_") {
            bail!(
                "a seeded token does not sign in: /me answered {}: {:.300}",
                me.status,
                me.body
            );
        }
    }
    Ok(())
}

/// Signs user `n` in; the session token from the cookie.
fn sign_in(port: u16, user: usize) -> Result<String> {
    let response = http(
        port,
        "POST",
        "/v1/sign-in/password",
        &[("Content-Type", "application/json")],
        Some(&format!(
            r#"{{"email":"user{user}@bench.test","password":"{PASSWORD}"}}"#
        )),
    )?;
    if response.status != 200 {
        bail!(
            "sign-in of user{user} answered {}: {:.300}",
            response.status,
            response.body
        );
    }
    response
        .header("set-cookie")
        .and_then(|cookie| cookie.strip_prefix("torii_session="))
        .and_then(|rest| rest.split(';').next())
        .map(str::to_owned)
        .context("the sign-in answer set no torii_session cookie")
}

fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}

/// "573 MiB (11 MiB)": the peak resident set, and the peak of its anonymous part.
fn rss(peak_kib: u64, anon_kib: u64) -> String {
    format!(
        "{:.0} MiB ({:.0} MiB)",
        peak_kib as f64 / 1024.0,
        anon_kib as f64 / 1024.0
    )
}

fn cores() -> usize {
    thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

// ---------------------------------------------------------------------------------------------
// Seeding

/// `count` session tokens like the server's: 32 random bytes, base64url without padding.
fn new_tokens(count: usize) -> Result<Vec<String>> {
    let mut random = vec![0_u8; count * 32];
    File::open("/dev/urandom")
        .and_then(|mut urandom| urandom.read_exact(&mut random))
        .context("could not read /dev/urandom")?;
    Ok(random.chunks_exact(32).map(base64url).collect())
}

/// One transaction of multi-row inserts, valid on SQLite and PostgreSQL alike; the columns
/// and encodings are the store's (`server/src/store/sql.rs`): times in Unix milliseconds,
/// `token_hash` the lowercase hex SHA-256 of the token.
fn seed_sql(tokens: &[String], password_hash: &str, now_ms: i64) -> String {
    const CHUNK: usize = 1_000;
    let month_ms = 30 * 24 * 3600 * 1000_i64;
    let hash = password_hash.replace('\'', "''");
    let mut sql = String::with_capacity(tokens.len() * 420);
    sql.push_str("BEGIN;\n");
    let users: Vec<usize> = (1..=tokens.len()).collect();
    for chunk in users.chunks(CHUNK) {
        sql.push_str(
            "INSERT INTO users (id, environment_id, email, email_canonical, name, \
             email_verified, created_at, updated_at) VALUES\n",
        );
        for (i, n) in chunk.iter().enumerate() {
            let sep = if i + 1 == chunk.len() { ";\n" } else { ",\n" };
            let _ = write!(
                sql,
                "('{}','{ENV_ID}','user{n}@bench.test','user{n}@bench.test','Bench user {n}',TRUE,{now_ms},{now_ms}){sep}",
                user_id(*n)
            );
        }
    }
    for chunk in users[..USERS_WITH_PASSWORD.min(users.len())].chunks(CHUNK) {
        sql.push_str("INSERT INTO passwords (user_id, hash, updated_at) VALUES\n");
        for (i, n) in chunk.iter().enumerate() {
            let sep = if i + 1 == chunk.len() { ";\n" } else { ",\n" };
            let _ = write!(sql, "('{}','{hash}',{now_ms}){sep}", user_id(*n));
        }
    }
    for chunk in users.chunks(CHUNK) {
        sql.push_str(
            "INSERT INTO sessions (id, environment_id, user_id, token_hash, created_at, \
             expires_at, last_active_at, user_agent, ip) VALUES\n",
        );
        for (i, n) in chunk.iter().enumerate() {
            let sep = if i + 1 == chunk.len() { ";\n" } else { ",\n" };
            let _ = write!(
                sql,
                "('ses_bench{n:021}','{ENV_ID}','{}','{}',{now_ms},{},{now_ms},'wrk','127.0.0.1'){sep}",
                user_id(*n),
                hex(&sha256(tokens[n - 1].as_bytes())),
                now_ms + month_ms
            );
        }
    }
    sql.push_str("COMMIT;\nANALYZE;\n");
    sql
}

fn user_id(n: usize) -> String {
    format!("usr_bench{n:021}")
}

fn run_with_stdin(command: &mut Command, input: &Path) -> Result<()> {
    let shown = format!("{command:?}");
    let output = command
        .stdin(File::open(input)?)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("could not start {shown}"))?;
    if !output.status.success() {
        bail!(
            "{shown} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn psql(url: &str, sql: &str) -> Result<String> {
    Cmd::new("psql")
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .read()
}

/// A fresh PostgreSQL database for this run, dropped when done (also on failure).
#[derive(Debug)]
struct PgDatabase {
    name: String,
    url: String,
}

impl PgDatabase {
    fn create() -> Result<Self> {
        let name = format!("torii_bench_{}", std::process::id());
        psql(
            POSTGRES_ADMIN_URL,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )?;
        psql(POSTGRES_ADMIN_URL, &format!("CREATE DATABASE {name}"))?;
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Ok(Self { name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let dropped = psql(
            POSTGRES_ADMIN_URL,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        if let Err(err) = dropped {
            eprintln!("warning: could not drop database {}: {err:#}", self.name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SHA-256 and base64url, so that the seed needs no crate (the server's own `sha256_hex`).

#[rustfmt::skip]
const SHA256_K: [u32; 64] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
    0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
    0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
    0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
    0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
    0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
    0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
    0xc671_78f2,
];

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut state: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let mut message = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bits.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0_u32; 64];
        for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        for (k, word) in SHA256_K.iter().zip(w.iter()) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(*k)
                .wrapping_add(*word);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (total, value) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *total = total.wrapping_add(value);
        }
    }
    let mut digest = [0_u8; 32];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..=chunk.len() {
            out.push(char::from(
                ALPHABET[((group >> (18 - 6 * i)) & 63) as usize],
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A `torii-server` process on a free loopback port, logging to a file in the work directory;
/// stopped by its id when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) port: u16,
    log: PathBuf,
    /// The largest `RssAnon` seen so far, in KiB, sampled by a thread of its own that ends
    /// with the process.
    anon_peak_kib: Arc<AtomicU64>,
}

/// Every 50 ms until the process is gone: its anonymous resident memory (what it allocated,
/// as opposed to the files it maps), keeping the largest value.
fn sample_anon_rss(pid: u32, peak_kib: Arc<AtomicU64>) {
    thread::spawn(move || {
        while let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) {
            // A zombie (exited, not yet reaped) has no memory lines left.
            let Some(kib) = status_kib(&status, "RssAnon:") else {
                return;
            };
            peak_kib.fetch_max(kib, Ordering::Relaxed);
            thread::sleep(Duration::from_millis(50));
        }
    });
}

/// A `Name:   1234 kB` line of `/proc/<pid>/status`, in KiB.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

impl Server {
    pub(crate) fn start(
        bin: &Path,
        work: &Path,
        name: &str,
        database_url: &str,
        config: &Path,
    ) -> Result<Self> {
        let port = free_port()?;
        let log = work.join(format!("server-{name}.log"));
        let out = File::create(&log)?;
        let child = Command::new(bin)
            .env_clear()
            .env("TORII_LISTEN", format!("127.0.0.1:{port}"))
            // One public URL for every server: it is the JWT issuer, and the JWT scenario's
            // tokens come from another server process than the one it measures.
            .env("TORII_PUBLIC_URL", "http://localhost:3000")
            .env("TORII_DATABASE_URL", database_url)
            .env("TORII_CONFIG", config)
            // The request log is an operator's choice; left on, it would be what both the
            // baseline and `/me` measure.
            .env("TORII_LOG", "warn")
            .env("NO_COLOR", "1")
            .current_dir(work)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("could not start {}", bin.display()))?;
        let anon_peak_kib = Arc::new(AtomicU64::new(0));
        sample_anon_rss(child.id(), Arc::clone(&anon_peak_kib));
        let mut server = Self {
            child: Some(child),
            port,
            log,
            anon_peak_kib,
        };
        let mut exited = None;
        let ready = wait_until("torii-server", Duration::from_secs(60), || {
            if let Some(child) = server.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                exited = Some(status);
                return true;
            }
            http(port, "GET", "/healthz", &[], None).is_ok_and(|r| r.status == 200)
        });
        if let Some(status) = exited {
            server.child = None;
            bail!("torii-server exited ({status}):\n{}", server.log_tail());
        }
        if let Err(err) = ready {
            let tail = server.log_tail();
            return Err(err).context(tail);
        }
        Ok(server)
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The process's peak resident set (`VmHWM`) and the peak of its anonymous part (what it
    /// allocated; the rest maps files: the binary, and SQLite's memory map of the database,
    /// which is the kernel's shared page cache counted once per connection), in KiB.
    fn rss_kib(&self) -> Result<(u64, u64)> {
        let pid = self.pid().context("the server is not running")?;
        let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| {
            status_kib(&status, name).with_context(|| format!("no {name} in /proc/<pid>/status"))
        };
        let anon_now = field("RssAnon:")?;
        let anon_peak = self.anon_peak_kib.fetch_max(anon_now, Ordering::Relaxed);
        Ok((field("VmHWM:")?, anon_peak.max(anon_now)))
    }

    pub(crate) fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM (a graceful shutdown), then SIGKILL if it has not exited within 10 s.
    pub(crate) fn stop(mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Cmd::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .succeeds();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    println!(
                        "warning: torii-server exited with {status}:\n{}",
                        self.log_tail()
                    );
                }
                return Ok(());
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        bail!("torii-server did not stop within 10 s of SIGTERM; killed it")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One `wrk` run.
#[derive(Debug)]
struct Wrk {
    threads: u32,
    connections: u32,
    secs: u32,
    script: PathBuf,
    args: Vec<String>,
}

/// What `wrk`'s `done` hook reported.
#[derive(Debug, Clone, Default)]
struct WrkResult {
    requests: u64,
    duration_us: u64,
    /// Answers with a status of 400 or more (wrk counts those); no route here answers 1xx/3xx.
    non_2xx: u64,
    /// Connect, read, write errors and timeouts.
    socket_errors: u64,
    mean_us: f64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    connections: u32,
}

impl WrkResult {
    fn rps(&self) -> f64 {
        if self.duration_us == 0 {
            return 0.0;
        }
        self.requests as f64 * 1e6 / self.duration_us as f64
    }
    fn mean_ms(&self) -> f64 {
        self.mean_us / 1000.0
    }
    fn p50_ms(&self) -> f64 {
        self.p50_us as f64 / 1000.0
    }
    fn p99_ms(&self) -> f64 {
        self.p99_us as f64 / 1000.0
    }
}

/// A `wrk` process running in the background; killed if dropped before it finishes.
#[derive(Debug)]
struct RunningWrk {
    child: Option<Child>,
    connections: u32,
}

impl Wrk {
    fn command(&self, port: u16) -> Command {
        let mut command = Command::new("wrk");
        command
            .arg(format!("-t{}", self.threads))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.secs))
            .arg("--timeout")
            .arg("10s")
            .arg("-s")
            .arg(&self.script)
            .arg(format!("http://127.0.0.1:{port}"))
            .arg("--")
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn spawn(&self, port: u16) -> Result<RunningWrk> {
        let child = self.command(port).spawn().context("could not start wrk")?;
        Ok(RunningWrk {
            child: Some(child),
            connections: self.connections,
        })
    }

    fn run(&self, port: u16) -> Result<WrkResult> {
        self.spawn(port)?.finish()
    }
}

impl RunningWrk {
    fn finish(mut self) -> Result<WrkResult> {
        let child = self.child.take().context("wrk already finished")?;
        let output = child.wait_with_output().context("wrk did not finish")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed ({}): {}{}",
                output.status,
                stdout.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix("BENCH "))
            .with_context(|| format!("wrk printed no figures:\n{stdout}"))?;
        let fields: BTreeMap<&str, f64> = line
            .split_whitespace()
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                Some((key, value.parse().ok()?))
            })
            .collect();
        let get = |key: &str| {
            fields
                .get(key)
                .copied()
                .with_context(|| format!("wrk's figures lack `{key}`: {line}"))
        };
        // wrk reports whole counts and microseconds; the casts only drop a `.0`.
        let int = |key: &str| get(key).map(|value| value as u64);
        Ok(WrkResult {
            requests: int("requests")?,
            duration_us: int("duration_us")?,
            non_2xx: int("status_errors")?,
            socket_errors: int("connect")? + int("read")? + int("write")? + int("timeout")?,
            mean_us: get("mean_us")?,
            p50_us: int("p50_us")?,
            p99_us: int("p99_us")?,
            max_us: int("max_us")?,
            connections: self.connections,
        })
    }
}

impl Drop for RunningWrk {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client: one request per connection, enough for setup and checks.

#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    head: String,
    pub(crate) body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }
}

pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .with_context(|| format!("not an HTTP answer: {head:.200}"))?;
    Ok(Response {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// Bundle sizes

/// Features of the wasm rustc emits by default; wasm-opt refuses a module using one it was not
/// told about (the same list `cargo xtask build-demo` passes).
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The SignIn-only app: a crate of its own (outside the workspace, sharing its target
/// directory and lock file, so the dependencies the demo build compiled are reused).
const SIGN_IN_APP_MAIN: &str = r#"//! The smallest app a Torii user writes: the provider and the sign-in card.

use leptos::prelude::*;
use torii_client::{SignIn, ToriiProvider};

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <ToriiProvider publishable_key="">
            <SignIn />
        </ToriiProvider>
    }
}
"#;

const LEPTOS_FLOOR_MAIN: &str = r#"//! Leptos with nothing of Torii: a form with an email field, a button and two signals.

use leptos::prelude::*;

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let (email, set_email) = signal(String::new());
    let (sent, set_sent) = signal(false);
    view! {
        <form on:submit=move |ev| {
            ev.prevent_default();
            set_sent.set(true);
        }>
            <input
                type="email"
                prop:value=email
                on:input=move |ev| set_email.set(event_target_value(&ev))
            />
            <button type="submit">"Sign in"</button>
            <Show when=move || sent.get()>
                <p>"Sent to " {move || email.get()}</p>
            </Show>
        </form>
    }
}
"#;

#[derive(Debug, Clone)]
struct Bundle {
    name: String,
    wasm: u64,
    wasm_gz: u64,
    js: u64,
    js_gz: u64,
}

#[derive(Debug, Clone)]
struct Bundles {
    items: Vec<Bundle>,
    wasm_opt: bool,
    notes: Vec<String>,
}

fn bundles(paths: &Paths) -> Result<Bundles> {
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
    for app in [&SIGN_IN_APP, &LEPTOS_FLOOR_APP] {
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

/// A one-file app weighed beside the demo, built as its own crate in the target directory.
#[derive(Debug)]
struct SmallApp {
    crate_name: &'static str,
    title: &'static str,
    main: &'static str,
    uses_client: bool,
}

const SIGN_IN_APP: SmallApp = SmallApp {
    crate_name: "torii_sign_in_only",
    title: "SignIn-only app (ToriiProvider + SignIn)",
    main: SIGN_IN_APP_MAIN,
    uses_client: true,
};

/// What Leptos itself costs, so that the two rows above can be read against a floor.
const LEPTOS_FLOOR_APP: SmallApp = SmallApp {
    crate_name: "leptos_floor",
    title: "Leptos alone (a form, two signals; no Torii)",
    main: LEPTOS_FLOOR_MAIN,
    uses_client: false,
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
            format!(
                "torii-client = {{ path = {:?} }}\n",
                client.display().to_string()
            )
        } else {
            String::new()
        }
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("src/main.rs"), app.main)?;
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
            .args(WASM_OPT_FEATURES)
            .arg(&bg)
            .arg("-o")
            .arg(&bg)
            .run()?;
    }
    weigh(app.title, &bg, &pkg.join(format!("{name}.js")))
}

// ---------------------------------------------------------------------------------------------
// The report

#[derive(Debug)]
struct Report {
    machine: String,
    date: String,
    commit: String,
    wrk: String,
    load_before: String,
    load_after: String,
    scenarios: Vec<Scenario>,
    sign_in: Option<SignIn>,
    bundles: Bundles,
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = Cmd::new("uname")
        .arg("-r")
        .read()
        .unwrap_or_else(|_| "unknown".to_owned());
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or_else(String::new, |kib| {
            format!(", {:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0)
        });
    format!("{} cores ({cpu}){memory}, Linux {kernel}", cores())
}

/// The 1, 5 and 15 minute load averages: how busy the machine was besides this run.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

impl Report {
    fn new() -> Self {
        let date = Cmd::new("date")
            .args(["-u", "+%Y-%m-%d %H:%M UTC"])
            .read()
            .unwrap_or_default();
        let commit = Cmd::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .read()
            .unwrap_or_default();
        // `wrk -v` prints its version and exits with 1.
        let wrk = Command::new("wrk")
            .arg("-v")
            .output()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        Self {
            machine: machine(),
            date,
            commit,
            wrk,
            load_before: load_average(),
            load_after: String::new(),
            scenarios: Vec::new(),
            sign_in: None,
            bundles: Bundles {
                items: Vec::new(),
                wasm_opt: false,
                notes: Vec::new(),
            },
        }
    }

    fn add(&mut self, scenario: Scenario) {
        self.scenarios.push(scenario);
    }

    /// The mean requests/s of the baseline runs.
    fn baseline_rps(&self) -> f64 {
        let rps: Vec<f64> = self
            .scenarios
            .iter()
            .filter(|s| s.baseline)
            .map(|s| s.load.rps())
            .collect();
        rps.iter().sum::<f64>() / rps.len().max(1) as f64
    }

    fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "Machine: {}; load average (1, 5, 15 min) {} before the load runs, {} after. \
             Run {} at commit {}, `{}`, server built with `--profile server-release`, \
             `TORII_LOG=warn`.\n",
            self.machine, self.load_before, self.load_after, self.date, self.commit, self.wrk
        );
        let _ = writeln!(
            md,
            "Load: wrk, {THREADS} threads, {CONNECTIONS} connections, {WARM_UP_SECS} s \
             warm-up then {MEASURE_SECS} s, a fresh server per row, every request with a \
             bearer token picked at random from {SEED_USERS} seeded sessions \
             ({JWT_TOKENS} JWTs for the JWT row); the load generator shares the machine. \
             \"vs baseline\" is the ratio to the mean of the two `/healthz` runs.\n"
        );
        md.push_str(
            "| scenario | requests/s | vs baseline | p50 | p99 | non-2xx | socket errors | peak RSS (anonymous) |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let baseline = self.baseline_rps();
        for scenario in &self.scenarios {
            let load = &scenario.load;
            let _ = writeln!(
                md,
                "| {} | {:.0} | {:.0}% | {:.2} ms | {:.2} ms | {} | {} | {} |",
                scenario.name,
                load.rps(),
                100.0 * load.rps() / baseline,
                load.p50_ms(),
                load.p99_ms(),
                load.non_2xx,
                load.socket_errors,
                rss(scenario.peak_rss_kib, scenario.anon_rss_kib)
            );
        }
        if let Some(sign_in) = &self.sign_in {
            let _ = writeln!(
                md,
                "\nSign-in (`POST /v1/sign-in/password`, SQLite, database sessions, argon2id \
                 m=19456 KiB t=2 p=1, rate limits off): one at a time {:.1} ms (median), so the \
                 argon2 ceiling is {} cores ÷ {:.1} ms = {:.1} sign-ins/s.\n",
                sign_in.hash_ms(),
                cores(),
                sign_in.hash_ms(),
                sign_in.ceiling()
            );
            md.push_str(
                "| scenario | per second | vs ceiling | p50 | p99 | non-2xx | socket errors | peak RSS (anonymous) |\n\
                 |---|---:|---:|---:|---:|---:|---:|---:|\n",
            );
            let ceiling = sign_in.ceiling();
            let rss = rss(sign_in.peak_rss_kib, sign_in.anon_rss_kib);
            for (name, load, vs, rss) in [
                (
                    "sign-in, 1 client (the argon2 time)".to_owned(),
                    &sign_in.single,
                    String::new(),
                    "",
                ),
                (
                    format!("sign-in storm, {SIGN_IN_CONNECTIONS} clients"),
                    &sign_in.storm,
                    format!("{:.0}%", 100.0 * sign_in.storm.rps() / ceiling),
                    rss.as_str(),
                ),
                (
                    format!(
                        "GET /me alone, {PACED_CONNECTIONS} clients pausing {PACED_DELAY_MS} ms"
                    ),
                    &sign_in.me_alone,
                    String::new(),
                    "",
                ),
                (
                    "GET /me during the storm, same clients".to_owned(),
                    &sign_in.me_storm,
                    String::new(),
                    "",
                ),
            ] {
                let _ = writeln!(
                    md,
                    "| {name} | {:.1} | {vs} | {:.2} ms | {:.2} ms | {} | {} | {rss} |",
                    load.rps(),
                    load.p50_ms(),
                    load.p99_ms(),
                    load.non_2xx,
                    load.socket_errors
                );
            }
        }
        if !self.bundles.items.is_empty() {
            let _ = writeln!(
                md,
                "\nWebAssembly bundles (release profile, wasm-bindgen{}), gzip -9:\n",
                if self.bundles.wasm_opt {
                    ", wasm-opt -Oz"
                } else {
                    "; wasm-opt not installed, so not optimised"
                }
            );
            md.push_str(
                "| app | wasm | wasm gzipped | js | js gzipped | wasm + js gzipped |\n\
                 |---|---:|---:|---:|---:|---:|\n",
            );
            for bundle in &self.bundles.items {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} |",
                    bundle.name,
                    kb(bundle.wasm),
                    kb(bundle.wasm_gz),
                    kb(bundle.js),
                    kb(bundle.js_gz),
                    kb(bundle.wasm_gz + bundle.js_gz)
                );
            }
        }
        for note in &self.bundles.notes {
            let _ = writeln!(md, "\nNote: {note}");
        }
        md
    }

    fn json(&self) -> String {
        let mut out = String::from("{\n");
        let _ = writeln!(out, "  \"machine\": {},", json_str(&self.machine));
        let _ = writeln!(out, "  \"date\": {},", json_str(&self.date));
        let _ = writeln!(out, "  \"commit\": {},", json_str(&self.commit));
        let _ = writeln!(out, "  \"loadGenerator\": {},", json_str(&self.wrk));
        let _ = writeln!(
            out,
            "  \"loadAverage\": {{\"before\": {}, \"after\": {}}},",
            json_str(&self.load_before),
            json_str(&self.load_after)
        );
        let _ = writeln!(
            out,
            "  \"settings\": {{\"threads\": {THREADS}, \"connections\": {CONNECTIONS}, \
             \"warmUpSecs\": {WARM_UP_SECS}, \"measureSecs\": {MEASURE_SECS}, \
             \"seededSessions\": {SEED_USERS}, \"jwtTokens\": {JWT_TOKENS}, \
             \"serverLog\": \"warn\"}},"
        );
        out.push_str("  \"scenarios\": [\n");
        let rows: Vec<String> = self
            .scenarios
            .iter()
            .map(|scenario| {
                format!(
                    "    {{\"name\": {}, {}, \"ratioToBaseline\": {:.4}, \"peakRssKib\": {}, \
                     \"peakAnonRssKib\": {}}}",
                    json_str(&scenario.name),
                    load_json(&scenario.load),
                    scenario.load.rps() / self.baseline_rps(),
                    scenario.peak_rss_kib,
                    scenario.anon_rss_kib
                )
            })
            .collect();
        out.push_str(&rows.join(",\n"));
        out.push_str("\n  ],\n");
        match &self.sign_in {
            Some(sign_in) => {
                let _ = writeln!(
                    out,
                    "  \"signIn\": {{\n    \"cores\": {},\n    \"hashMs\": {:.3},\n    \
                     \"ceilingPerSec\": {:.3},\n    \"single\": {{{}}},\n    \
                     \"storm\": {{\"clients\": {SIGN_IN_CONNECTIONS}, {}, \
                     \"ratioToCeiling\": {:.4}}},\n    \
                     \"meAlone\": {{\"pauseMs\": {PACED_DELAY_MS}, {}}},\n    \
                     \"meDuringStorm\": {{\"pauseMs\": {PACED_DELAY_MS}, {}}},\n    \
                     \"peakRssKib\": {},\n    \"peakAnonRssKib\": {}\n  }},",
                    cores(),
                    sign_in.hash_ms(),
                    sign_in.ceiling(),
                    load_json(&sign_in.single),
                    load_json(&sign_in.storm),
                    sign_in.storm.rps() / sign_in.ceiling(),
                    load_json(&sign_in.me_alone),
                    load_json(&sign_in.me_storm),
                    sign_in.peak_rss_kib,
                    sign_in.anon_rss_kib
                );
            }
            None => out.push_str("  \"signIn\": null,\n"),
        }
        let bundles: Vec<String> = self
            .bundles
            .items
            .iter()
            .map(|b| {
                format!(
                    "    {{\"name\": {}, \"wasmBytes\": {}, \"wasmGzipBytes\": {}, \
                     \"jsBytes\": {}, \"jsGzipBytes\": {}, \"totalGzipBytes\": {}}}",
                    json_str(&b.name),
                    b.wasm,
                    b.wasm_gz,
                    b.js,
                    b.js_gz,
                    b.wasm_gz + b.js_gz
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  \"bundles\": {{\"wasmOpt\": {}, \"apps\": [\n{}\n  ], \"notes\": [{}]}}",
            self.bundles.wasm_opt,
            bundles.join(",\n"),
            self.bundles
                .notes
                .iter()
                .map(|note| json_str(note))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push_str("}\n");
        out
    }

    fn write(&self, paths: &Paths) -> Result<()> {
        let dir = paths.root.join("bench");
        fs::create_dir_all(&dir)?;
        let md = self.markdown();
        write_file(
            &dir.join("results.md"),
            &format!("# `cargo xtask bench`: latest results\n\n{md}"),
        )?;
        write_file(&dir.join("results.json"), &self.json())?;
        println!("\n{md}");
        println!("written to bench/results.md and bench/results.json");
        Ok(())
    }
}

fn load_json(load: &WrkResult) -> String {
    format!(
        "\"connections\": {}, \"requests\": {}, \"durationUs\": {}, \"perSec\": {:.1}, \
         \"meanMs\": {:.3}, \"p50Ms\": {:.3}, \"p99Ms\": {:.3}, \"maxMs\": {:.3}, \
         \"non2xx\": {}, \"socketErrors\": {}",
        load.connections,
        load.requests,
        load.duration_us,
        load.rps(),
        load.mean_ms(),
        load.p50_ms(),
        load.p99_ms(),
        load.max_us as f64 / 1000.0,
        load.non_2xx,
        load.socket_errors
    )
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

fn json_str(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vectors() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // Two blocks.
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0_u8; 32]).len(), 43);
    }

    #[test]
    fn seed_sql_hashes_each_token() {
        let tokens = vec!["t1".to_owned(), "t2".to_owned()];
        let sql = seed_sql(&tokens, "$argon2id$x", 1000);
        assert!(sql.contains(&hex(&sha256(b"t2"))));
        assert!(sql.contains("'user2@bench.test'"));
        assert!(sql.starts_with("BEGIN;") && sql.contains("COMMIT;"));
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
