//! The load scenarios: one server each, measured by `wrk`; and the sign-in storm.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util::Cmd;

use super::cache::{self, Cache, CacheCounts};
use super::http::http;
use super::seed::{Dialect, PgDatabase, new_tokens, psql, run_with_stdin, seed_sql};
use super::server::Server;
use super::wrk::Wrk;
use super::{
    Bench, CONNECTIONS, CacheRun, JWT_TOKENS, MEASURE_SECS, PACED_CONNECTIONS, PACED_DELAY_MS,
    PACED_SECS, PASSWORD, SECRET_KEY, SEED_USERS, SIGN_IN_CONNECTIONS, SINGLE_SIGN_IN_SECS,
    Scenario, Seed, SignIn, THREADS, USERS_WITH_PASSWORD, WARM_UP_SECS, cores, now_millis,
    write_file,
};

impl Bench {
    /// A server as every row runs it: cache on ([`CACHE_SIZE`](super::cache::CACHE_SIZE))
    /// unless `cache` says off.
    pub(super) fn start_cached(
        &self,
        name: &str,
        database_url: &str,
        config: &Path,
        cache: Cache,
    ) -> Result<Server> {
        Server::start_with(
            &self.server,
            &self.work,
            name,
            database_url,
            config,
            &cache.vars(),
        )
    }

    fn start(&self, name: &str, database_url: &str, config: &Path) -> Result<Server> {
        self.start_cached(name, database_url, config, Cache::On)
    }

    /// Migrates a fresh SQLite file (the server does), makes one argon2 hash through the
    /// admin API, then bulk-inserts users, passwords and sessions with the `sqlite3` shell.
    pub(super) fn seed_sqlite(&self) -> Result<Seed> {
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
            &seed_sql(&tokens, Some(&hash), now_millis()?, Dialect::Standard),
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
    pub(super) fn refresh_sqlite_sessions(&self) -> Result<()> {
        self.sqlite(&format!(
            "UPDATE sessions SET last_active_at = {}",
            now_millis()?
        ))
        .map(drop)
    }

    pub(super) fn seed_postgres(&self, db: &PgDatabase, seed: &Seed) -> Result<()> {
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
    /// never ran argon2) and keeps their JWTs (living the longest lifetime, 15 minutes, so
    /// that they outlast the run).
    pub(super) fn sign_in_jwt_users(&self) -> Result<()> {
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

    /// A fresh server, a check that the tokens work, for a cached row the cache filled with
    /// every token, a warm-up, the measured run (with the cache's hits counted), peak RSS.
    pub(super) fn load_scenario(&self, row: &Row<'_>) -> Result<Scenario> {
        let name = row.name;
        let server = self.start_cached(&slug(name), row.database_url, row.config, row.cache)?;
        if let Some(expect) = row.expect {
            check_tokens(server.port, row.tokens, expect)?;
        }
        let database_session = row.expect == Some(DATABASE_SESSION);
        if database_session && row.cache == Cache::On {
            let count = fs::read_to_string(row.tokens)?.lines().count();
            cache::fill(&server, &self.bearer_lua, row.tokens, count)?;
        }
        let load = |secs| Wrk {
            threads: THREADS,
            connections: CONNECTIONS,
            secs,
            script: self.bearer_lua.clone(),
            args: vec![row.path.to_owned(), row.tokens.display().to_string()],
        };
        load(WARM_UP_SECS).run(server.port)?;
        let before = CacheCounts::read(&server)?;
        let result = load(MEASURE_SECS).run(server.port)?;
        let counted = CacheCounts::read(&server)?.since(before);
        let (peak_rss_kib, anon_rss_kib) = server.rss_kib()?;
        server.stop()?;
        let cache = database_session.then_some(CacheRun {
            on: row.cache == Cache::On,
            counted,
        });
        println!(
            "{name}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} non-2xx, peak RSS {} MiB \
             (anonymous: {} MiB){}",
            result.rps(),
            result.p50_ms(),
            result.p99_ms(),
            result.non_2xx,
            peak_rss_kib / 1024,
            anon_rss_kib / 1024,
            cache.map_or_else(String::new, |cache| format!(", cache: {}", cache.shown()))
        );
        Ok(Scenario {
            name: name.to_owned(),
            baseline: row.path == "/healthz",
            load: result,
            peak_rss_kib,
            anon_rss_kib,
            cache,
        })
    }

    /// Sign-ins one at a time (the argon2 time), `/me` paced alone, then 50 concurrent
    /// sign-ins with the paced `/me` beside them, all on one fresh server (SQLite, database
    /// sessions).
    pub(super) fn sign_in_storm(&self) -> Result<SignIn> {
        self.refresh_sqlite_sessions()?;
        let server = self.start("sign-in", &self.sqlite_url, &self.database_config)?;
        check_tokens(server.port, &self.tokens, DATABASE_SESSION)?;
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

/// What `/me` answers for a database session, and for a JWT session.
pub(super) const DATABASE_SESSION: &str = "\"kind\":\"database\"";
pub(super) const JWT_SESSION: &str = "\"kind\":\"jwt\"";

/// One load row: what the server runs on and what wrk sends it.
#[derive(Debug)]
pub(super) struct Row<'a> {
    pub(super) name: &'a str,
    pub(super) database_url: &'a str,
    pub(super) config: &'a Path,
    pub(super) path: &'a str,
    pub(super) tokens: &'a Path,
    /// What a signed-in `/me` must contain, checked with a few tokens first.
    pub(super) expect: Option<&'a str>,
    pub(super) cache: Cache,
}

/// A few seeded tokens must answer a signed-in `/me`: a signed-out `/me` is a 200 too, so the
/// load generator's status counts alone would not notice tokens that do not work.
pub(super) fn check_tokens(port: u16, tokens: &Path, expect: &str) -> Result<()> {
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

/// Signs user `n` in on the JWT environment; the JWT its answer carries.
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
    if !response
        .header("set-cookie")
        .is_some_and(|cookie| cookie.starts_with("torii_session="))
    {
        bail!("the sign-in answer set no torii_session cookie (the refresh session)");
    }
    // A JWT environment's answer carries the short-lived JWT as `token` (the cookie holds the
    // refresh session); a JWT is base64url and dots, so no escape can occur in it.
    response
        .body
        .split_once(r#""token":""#)
        .and_then(|(_, rest)| rest.split('"').next())
        .map(str::to_owned)
        .context("the sign-in answer carried no token")
}

pub(super) fn slug(name: &str) -> String {
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
