//! `/me` on PostgreSQL as the sessions table grows: 10,000, 100,000, then 1,000,000 users
//! with one session each, seeded by `INSERT … SELECT … FROM generate_series` into one database
//! (each size adds to the previous one), each size measured with the cache on and off.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read as _;
use std::time::Instant;

use anyhow::{Context, Result};

use super::cache::Cache;
use super::scenarios::{DATABASE_SESSION, Row};
use super::seed::{PgDatabase, new_tokens, psql};
use super::{Bench, ENV_ID, Scenario, now_millis, write_file};

/// The sizes measured, in order.
pub(super) const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Tokens a row sends at most: a random sample of the seeded ones when there are more.
pub(super) const SAMPLE: usize = 100_000;
/// Seeded sessions were last active this far ahead of the seeding, so that no lookup of the
/// group's rows (minutes, far less than this) is the once-a-minute "last active" write: the
/// rows measure the read path, as the others do after their refresh.
const LAST_ACTIVE_AHEAD_MS: i64 = 30 * 60 * 1000;

/// The growing database and how its tokens are made.
#[derive(Debug)]
pub(super) struct ScaleDb {
    pub(super) db: PgDatabase,
    /// The first 10 characters of every token of this run; the other 33 are the user's number.
    prefix: String,
    seeded: usize,
}

/// Session token of user `n`: 43 characters like the server's. Made from the number rather
/// than random so that SQL can make its hash; the server hashes whatever token it is sent,
/// so lookups see hashes as random as any.
fn token(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:033}")
}

/// Users and sessions `from..=to`, with the same columns as [`super::seed::seed_sql`].
fn range_sql(prefix: &str, from: usize, to: usize, now_ms: i64) -> String {
    let month_ms = 30 * 24 * 3600 * 1000_i64;
    let active = now_ms + LAST_ACTIVE_AHEAD_MS;
    let mut sql = String::from("BEGIN;\n");
    let _ = writeln!(
        sql,
        "INSERT INTO users (id, environment_id, email, email_canonical, name, email_verified, \
         created_at, updated_at) \
         SELECT 'usr_bench' || lpad(n::text, 21, '0'), '{ENV_ID}', \
         'user' || n || '@bench.test', 'user' || n || '@bench.test', 'Bench user ' || n, TRUE, \
         {now_ms}, {now_ms} FROM generate_series({from}, {to}) AS n;"
    );
    let _ = writeln!(
        sql,
        "INSERT INTO sessions (id, environment_id, user_id, token_hash, created_at, expires_at, \
         last_active_at, user_agent, ip) \
         SELECT 'ses_bench' || lpad(n::text, 21, '0'), '{ENV_ID}', \
         'usr_bench' || lpad(n::text, 21, '0'), \
         encode(sha256(convert_to('{prefix}' || lpad(n::text, 33, '0'), 'UTF8')), 'hex'), \
         {now_ms}, {}, {active}, 'wrk', '127.0.0.1' FROM generate_series({from}, {to}) AS n;",
        now_ms + month_ms
    );
    sql.push_str("COMMIT;\n");
    sql
}

/// `count` distinct numbers of `1..=total`, at random (all of them when `count >= total`).
fn sample(total: usize, count: usize, random: &mut impl FnMut() -> u64) -> Vec<usize> {
    let mut numbers: Vec<usize> = (1..=total).collect();
    if count >= total {
        return numbers;
    }
    // The first `count` places of a Fisher–Yates shuffle.
    for i in 0..count {
        let j = i + (random() % (total - i) as u64) as usize;
        numbers.swap(i, j);
    }
    numbers.truncate(count);
    numbers
}

/// xorshift64*, seeded from /dev/urandom: enough to pick tokens.
fn random_source() -> Result<impl FnMut() -> u64> {
    let mut seed = [0_u8; 8];
    File::open("/dev/urandom")
        .and_then(|mut urandom| urandom.read_exact(&mut seed))
        .context("could not read /dev/urandom")?;
    let mut state = u64::from_le_bytes(seed) | 1;
    Ok(move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// `1000000` → `1,000,000`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Bench {
    /// A fresh database, migrated by a server.
    pub(super) fn scale_db(&self) -> Result<ScaleDb> {
        let db = PgDatabase::create("scale")?;
        self.start_cached("migrate-scale", &db.url, &self.database_config, Cache::On)?
            .stop()?;
        let prefix = new_tokens(1)?[0][..10].to_owned();
        Ok(ScaleDb {
            db,
            prefix,
            seeded: 0,
        })
    }

    /// Seeds the database up to `size` sessions and measures `/me` on it, cache on and off.
    pub(super) fn scale_rows(&self, scale: &mut ScaleDb, size: usize) -> Result<Vec<Scenario>> {
        let started = Instant::now();
        psql(
            &scale.db.url,
            &range_sql(&scale.prefix, scale.seeded + 1, size, now_millis()?),
        )?;
        scale.seeded = size;
        psql(&scale.db.url, "VACUUM ANALYZE")?;
        let count = psql(&scale.db.url, "SELECT count(*) FROM sessions")?;
        println!(
            "PostgreSQL: {count} sessions (seeded to {} in {:.1}s)",
            thousands(size),
            started.elapsed().as_secs_f64()
        );

        let chosen = sample(size, SAMPLE, &mut random_source()?);
        let mut lines = String::with_capacity(chosen.len() * 44);
        for n in chosen {
            lines.push_str(&token(&scale.prefix, n));
            lines.push('\n');
        }
        let tokens = write_file(&self.work.join(format!("scale-{size}.txt")), &lines)?;

        let mut rows = Vec::new();
        for (cache, label) in [(Cache::On, "cached"), (Cache::Off, "uncached")] {
            let name = format!(
                "GET /me, PostgreSQL, {} sessions ({label})",
                thousands(size)
            );
            rows.push(self.load_scenario(&Row {
                name: &name,
                database_url: &scale.db.url,
                config: &self.database_config,
                path: "/me",
                tokens: &tokens,
                expect: Some(DATABASE_SESSION),
                cache,
            })?);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_characters() {
        assert_eq!(token("abcdefghij", 1).len(), 43);
        assert_eq!(token("abcdefghij", 1_000_000).len(), 43);
        assert!(token("abcdefghij", 42).ends_with("0042"));
    }

    #[test]
    fn the_sql_makes_the_same_tokens() {
        let sql = range_sql("abcdefghij", 11, 20, 1000);
        assert!(sql.contains("generate_series(11, 20)"));
        assert!(sql.contains("convert_to('abcdefghij' || lpad(n::text, 33, '0'), 'UTF8')"));
        assert!(sql.starts_with("BEGIN;") && sql.ends_with("COMMIT;\n"));
    }

    #[test]
    fn samples_are_distinct_and_in_range() {
        let mut random = random_source().unwrap();
        let mut picked = sample(1000, 100, &mut random);
        assert_eq!(picked.len(), 100);
        assert!(picked.iter().all(|n| (1..=1000).contains(n)));
        picked.sort_unstable();
        picked.dedup();
        assert_eq!(picked.len(), 100);
        assert_eq!(sample(5, 10, &mut random), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
