//! How long a revocation made through one node takes to reach another node's cache: two
//! `torii-server` processes on one fresh database (PostgreSQL, then MariaDB), both under a
//! `/me` load, and sessions signed out through node A while node B is polled.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::cache::{CACHE_SIZE, Cache};
use super::http::http;
use super::report::{json_str, load_json};
use super::scale::thousands;
use super::scenarios::{DATABASE_SESSION, check_tokens};
use super::seed::{Dialect, MariaDatabase, PgDatabase, mariadb_client, new_tokens, run_with_stdin};
use super::server::Server;
use super::wrk::{Wrk, WrkResult};
use super::{Bench, now_millis, write_file};

/// Sessions signed out, one after the other.
pub(super) const REVOCATIONS: usize = 200;
/// Sessions the load sends `/me` with (never revoked).
pub(super) const LOAD_TOKENS: usize = 10_000;
/// wrk on each node: one thread, this many connections.
pub(super) const LOAD_CONNECTIONS: u32 = 16;
/// How long node B is polled after one sign-out before it counts as not seen.
pub(super) const POLL_LIMIT: Duration = Duration::from_secs(5);
/// The revocations stop after this, however many are done.
const TOTAL_LIMIT: Duration = Duration::from_secs(240);
/// The load's duration: longer than the revocations may take; it is interrupted when they end.
const LOAD_SECS: u32 = 300;
/// The load runs alone this long before the first revocation.
const LOAD_ALONE: Duration = Duration::from_secs(2);
/// The servers' `TORII_REVOCATION_BOUND_MS`: the default.
pub(super) const BOUND_MS: u64 = 1000;

/// The database the two nodes share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Postgres,
    MariaDb,
}

impl Backend {
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::MariaDb => "MariaDB",
        }
    }
}

/// What one backend's revocations measured.
#[derive(Debug, Clone)]
pub(super) struct Propagation {
    pub(super) name: String,
    /// From node A's answer to the sign-out to node B's first signed-out `/me`, in ms.
    pub(super) seen_ms: Vec<f64>,
    /// Revocations still answered signed in by B after [`POLL_LIMIT`].
    pub(super) unseen: usize,
    /// Polls of B, and the time they took in all, in ms.
    pub(super) polls: u64,
    pub(super) poll_ms: f64,
    pub(super) load_a: WrkResult,
    pub(super) load_b: WrkResult,
}

impl Propagation {
    pub(super) fn percentile(&self, q: f64) -> Option<f64> {
        percentile(&self.seen_ms, q)
    }

    pub(super) fn max(&self) -> Option<f64> {
        self.seen_ms.iter().copied().reduce(f64::max)
    }

    pub(super) fn poll_mean_ms(&self) -> f64 {
        self.poll_ms / self.polls.max(1) as f64
    }
}

/// The nearest-rank percentile `q` (0 < q ≤ 1) of `values`: the smallest value that at least
/// `q` of them do not exceed; none of no values.
pub(super) fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// One of the backends' fresh databases, dropped when done.
#[derive(Debug)]
enum Database {
    Postgres(PgDatabase),
    MariaDb(MariaDatabase),
}

impl Database {
    fn url(&self) -> &str {
        match self {
            Self::Postgres(db) => &db.url,
            Self::MariaDb(db) => &db.url,
        }
    }

    fn seed(&self, sql: &Path) -> Result<()> {
        match self {
            Self::Postgres(db) => run_with_stdin(
                Command::new("psql")
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                    .arg(&db.url),
                sql,
            ),
            Self::MariaDb(db) => run_with_stdin(mariadb_client()?.arg(&db.name), sql),
        }
    }
}

fn signed_in(body: &str) -> bool {
    body.contains(DATABASE_SESSION) && body.contains("\"id\":\"usr_")
}

fn signed_out(body: &str) -> bool {
    body.contains("\"user\":null") && body.contains("\"session\":null")
}

fn me(port: u16, bearer: &str) -> Result<super::http::Response> {
    http(port, "GET", "/me", &[("Authorization", bearer)], None)
}

impl Bench {
    pub(super) fn propagation(&self, backend: Backend) -> Result<Propagation> {
        let (label, name, db, dialect) = match backend {
            Backend::Postgres => (
                "postgres",
                "sign-out on node A seen by node B, PostgreSQL (LISTEN wakes the poll)",
                Database::Postgres(PgDatabase::create("propagation")?),
                Dialect::Standard,
            ),
            Backend::MariaDb => (
                "mariadb",
                "sign-out on node A seen by node B, MariaDB (the poll alone)",
                Database::MariaDb(MariaDatabase::create("propagation")?),
                Dialect::MySql,
            ),
        };
        let tokens = new_tokens(LOAD_TOKENS + REVOCATIONS)?;
        let (load_tokens, revoked) = tokens.split_at(LOAD_TOKENS);
        let mut lines = load_tokens.join("\n");
        lines.push('\n');
        let load_file = write_file(&self.work.join(format!("propagation-{label}.txt")), &lines)?;
        let sql = write_file(
            &self.work.join(format!("propagation-{label}.sql")),
            &super::seed::seed_sql(&tokens, None, now_millis()?, dialect),
        )?;

        let vars = {
            let mut vars = Cache::On.vars();
            vars.push(("TORII_REVOCATION_BOUND_MS", BOUND_MS.to_string()));
            vars
        };
        let node = |node: &str| {
            Server::start_with(
                &self.server,
                &self.work,
                &format!("propagation-{label}-{node}"),
                db.url(),
                &self.database_config,
                &vars,
            )
        };
        // A migrates the fresh database before B starts.
        let a = node("a")?;
        let started = Instant::now();
        db.seed(&sql)?;
        println!(
            "{label}: seeded {} sessions in {:.1}s",
            tokens.len(),
            started.elapsed().as_secs_f64()
        );
        let b = node("b")?;
        check_tokens(a.port, &load_file, DATABASE_SESSION)?;
        check_tokens(b.port, &load_file, DATABASE_SESSION)?;

        let load = Wrk {
            threads: 1,
            connections: LOAD_CONNECTIONS,
            secs: LOAD_SECS,
            script: self.bearer_lua.clone(),
            args: vec!["/me".to_owned(), load_file.display().to_string()],
        };
        let load_a = load.spawn(a.port)?;
        let load_b = load.spawn(b.port)?;
        thread::sleep(LOAD_ALONE);
        let measured = revoke_all(&a, &b, revoked);
        let (load_a, load_b) = (load_a.interrupt(), load_b.interrupt());
        let (measured, load_a, load_b) = (measured?, load_a?, load_b?);
        a.stop()?;
        b.stop()?;
        drop(db);

        let done = Propagation {
            name: name.to_owned(),
            seen_ms: measured.seen_ms,
            unseen: measured.unseen,
            polls: measured.polls,
            poll_ms: measured.poll_ms,
            load_a,
            load_b,
        };
        let ms = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.1} ms"));
        println!(
            "{name}: {} revocations seen, {} not within {:?}: p50 {}, p99 {}, max {}; \
             {} polls of {:.1} ms on average; load {:.0} + {:.0} requests/s, {} + {} non-2xx",
            done.seen_ms.len(),
            done.unseen,
            POLL_LIMIT,
            ms(done.percentile(0.5)),
            ms(done.percentile(0.99)),
            ms(done.max()),
            done.polls,
            done.poll_mean_ms(),
            done.load_a.rps(),
            done.load_b.rps(),
            done.load_a.non_2xx,
            done.load_b.non_2xx
        );
        Ok(done)
    }
}

/// The revocation loop's figures.
#[derive(Debug)]
struct Measured {
    seen_ms: Vec<f64>,
    unseen: usize,
    polls: u64,
    poll_ms: f64,
}

/// For each token: `/me` on B twice (the first puts the session in B's cache, the second is
/// answered from it), `POST /v1/sign-out` on A, then B polled back to back until it answers
/// signed out, timed from A's answer to B's.
fn revoke_all(a: &Server, b: &Server, tokens: &[String]) -> Result<Measured> {
    let started = Instant::now();
    let mut measured = Measured {
        seen_ms: Vec::with_capacity(tokens.len()),
        unseen: 0,
        polls: 0,
        poll_ms: 0.0,
    };
    for token in tokens {
        if started.elapsed() > TOTAL_LIMIT {
            println!(
                "stopped after {} revocations: {TOTAL_LIMIT:?} passed",
                measured.seen_ms.len() + measured.unseen
            );
            break;
        }
        let bearer = format!("Bearer {token}");
        for _ in 0..2 {
            let answer = me(b.port, &bearer)?;
            if answer.status != 200 || !signed_in(&answer.body) {
                bail!(
                    "node B did not sign a seeded session in: {} {:.300}",
                    answer.status,
                    answer.body
                );
            }
        }
        let out = http(
            a.port,
            "POST",
            "/v1/sign-out",
            &[("Authorization", &bearer)],
            None,
        )?;
        if out.status != 204 {
            bail!(
                "sign-out on node A answered {}: {:.300}",
                out.status,
                out.body
            );
        }
        let since = Instant::now();
        let mut seen = None;
        while since.elapsed() < POLL_LIMIT {
            let poll = Instant::now();
            let answer = me(b.port, &bearer)?;
            measured.polls += 1;
            measured.poll_ms += poll.elapsed().as_secs_f64() * 1000.0;
            if answer.status == 200 && signed_out(&answer.body) {
                seen = Some(since.elapsed());
                break;
            }
            if answer.status != 200 || !signed_in(&answer.body) {
                bail!(
                    "node B answered neither signed in nor out: {} {:.300}",
                    answer.status,
                    answer.body
                );
            }
        }
        match seen {
            Some(took) => measured.seen_ms.push(took.as_secs_f64() * 1000.0),
            None => measured.unseen += 1,
        }
    }
    Ok(measured)
}

/// The propagation table: one row per database.
pub(super) fn markdown(md: &mut String, rows: &[Propagation]) {
    let _ = writeln!(
        md,
        "\nRevocation propagation: two servers on one fresh database, both with \
         `TORII_SESSION_CACHE_SIZE={CACHE_SIZE}` and `TORII_REVOCATION_BOUND_MS={}` (the \
         default), each under wrk `/me` load (1 thread, {} connections, tokens picked at random \
         from {} seeded sessions). {} other seeded sessions, one at a time: `/me` on node B \
         twice (the session is then in B's cache), `POST /v1/sign-out` on node A, then `/me` \
         on B back to back until it answers signed out; the time runs from A's answer to B's \
         signed-out answer, so it includes up to one poll's round trip (the poll column). \
         Not seen: still signed in on B {} s after the sign-out. Load non-2xx and socket \
         errors: both nodes' wrk together.\n",
        BOUND_MS,
        LOAD_CONNECTIONS,
        thousands(LOAD_TOKENS),
        REVOCATIONS,
        POLL_LIMIT.as_secs()
    );
    md.push_str(
        "| scenario | seen | not seen | p50 | p99 | max | poll round trip (mean) | load requests/s (A + B) | load non-2xx | load socket errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let ms = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} ms"));
    for row in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:.1} ms | {:.0} + {:.0} | {} | {} |",
            row.name,
            row.seen_ms.len(),
            row.unseen,
            ms(row.percentile(0.5)),
            ms(row.percentile(0.99)),
            ms(row.max()),
            row.poll_mean_ms(),
            row.load_a.rps(),
            row.load_b.rps(),
            row.load_a.non_2xx + row.load_b.non_2xx,
            row.load_a.socket_errors + row.load_b.socket_errors
        );
    }
}

pub(super) fn json(row: &Propagation) -> String {
    let ms = |value: Option<f64>| value.map_or_else(|| "null".to_owned(), |v| format!("{v:.3}"));
    format!(
        "    {{\"name\": {}, \"seen\": {}, \"notSeen\": {}, \"p50Ms\": {}, \"p99Ms\": {}, \
         \"maxMs\": {}, \"polls\": {}, \"pollMeanMs\": {:.3}, \"loadA\": {{{}}}, \
         \"loadB\": {{{}}}}}",
        json_str(&row.name),
        row.seen_ms.len(),
        row.unseen,
        ms(row.percentile(0.5)),
        ms(row.percentile(0.99)),
        ms(row.max()),
        row.polls,
        row.poll_mean_ms(),
        load_json(&row.load_a),
        load_json(&row.load_b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=200).rev().map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), Some(100.0));
        assert_eq!(percentile(&values, 0.99), Some(198.0));
        assert_eq!(percentile(&values, 1.0), Some(200.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn me_answers_are_told_apart() {
        let out = r#"{"user":null,"session":null}"#;
        let signed = r#"{"user":{"id":"usr_1"},"session":{"kind":"database"}}"#;
        assert!(signed_out(out) && !signed_in(out));
        assert!(signed_in(signed) && !signed_out(signed));
    }
}
