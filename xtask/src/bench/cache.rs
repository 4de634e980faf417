//! The server's session cache as the bench sets and observes it: the size it gives every
//! server, filling the cache before a cached row is measured, and the hit counts that the
//! server's `/metrics` reports.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::http::http;
use super::server::Server;
use super::wrk::Wrk;
use super::{CONNECTIONS, THREADS};

/// `TORII_SESSION_CACHE_SIZE` of every bench server whose cache is on: large enough to hold
/// every token a row sends (at most 100,000), so that a cached row measures hits once the
/// cache is filled, not evictions. (The default, 10,000, would make most random picks among
/// 100,000 sessions miss.)
pub(super) const CACHE_SIZE: usize = 200_000;
/// Walks through the tokens before a cached row, each this long, until the cache holds them.
const FILL_ROUND_SECS: u32 = 5;
const FILL_ROUNDS: u32 = 8;

/// Whether a server answers database sessions from its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cache {
    On,
    Off,
}

impl Cache {
    pub(super) fn vars(self) -> Vec<(&'static str, String)> {
        let size = match self {
            Self::On => CACHE_SIZE,
            Self::Off => 0,
        };
        vec![("TORII_SESSION_CACHE_SIZE", size.to_string())]
    }
}

/// The session-cache figures of a server's `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct CacheCounts {
    pub(super) hits: u64,
    pub(super) misses: u64,
    /// Lookups while the cache was not fresh (or is off): answered by the store.
    pub(super) stale: u64,
    pub(super) entries: u64,
}

impl CacheCounts {
    /// Parses the Prometheus text a server's metrics listener answers.
    pub(super) fn parse(text: &str) -> Result<Self> {
        let value = |name: &str| -> Result<u64> {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
                .with_context(|| format!("no `{name}` in the metrics"))?
                .trim()
                .parse::<f64>()
                .map(|v| v as u64)
                .with_context(|| format!("`{name}` is not a number"))
        };
        let lookups = |result: &str| {
            value(&format!(
                "torii_session_cache_lookups_total{{result=\"{result}\"}}"
            ))
        };
        Ok(Self {
            hits: lookups("hit")?,
            misses: lookups("miss")?,
            stale: lookups("stale")?,
            entries: value("torii_session_cache_entries")?,
        })
    }

    pub(super) fn read(server: &Server) -> Result<Self> {
        let metrics = http(server.metrics_port, "GET", "/metrics", &[], None)?;
        if metrics.status != 200 {
            bail!("GET /metrics answered {}", metrics.status);
        }
        Self::parse(&metrics.body)
    }

    /// The lookups counted between `before` and `self`.
    pub(super) fn since(self, before: Self) -> Self {
        Self {
            hits: self.hits.saturating_sub(before.hits),
            misses: self.misses.saturating_sub(before.misses),
            stale: self.stale.saturating_sub(before.stale),
            entries: self.entries,
        }
    }

    /// Hits among all lookups, none when there were no lookups.
    pub(super) fn hit_ratio(self) -> Option<f64> {
        let all = self.hits + self.misses + self.stale;
        (all > 0).then(|| self.hits as f64 / all as f64)
    }
}

/// Sends every token of the file to the server in turn (wrk, as the load does) until its cache
/// holds them all, in rounds bounded in count; answers the entries it then holds.
pub(super) fn fill(server: &Server, lua: &Path, tokens: &Path, count: usize) -> Result<u64> {
    let started = Instant::now();
    let walk = Wrk {
        threads: THREADS,
        connections: CONNECTIONS,
        secs: FILL_ROUND_SECS,
        script: lua.to_path_buf(),
        args: vec![
            "/me".to_owned(),
            tokens.display().to_string(),
            "0".to_owned(),
            "walk".to_owned(),
            THREADS.to_string(),
        ],
    };
    let mut entries = 0;
    for _ in 0..FILL_ROUNDS {
        walk.run(server.port)?;
        entries = CacheCounts::read(server)?.entries;
        if entries >= count as u64 {
            break;
        }
    }
    println!(
        "cache filled: {entries} entries of {count} tokens in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const METRICS: &str = "# HELP torii_session_cache_lookups Session lookups\n\
        # TYPE torii_session_cache_lookups counter\n\
        torii_session_cache_lookups_total{result=\"hit\"} 90\n\
        torii_session_cache_lookups_total{result=\"miss\"} 8\n\
        torii_session_cache_lookups_total{result=\"stale\"} 2\n\
        # TYPE torii_session_cache_entries gauge\n\
        torii_session_cache_entries 7\n";

    #[test]
    fn metrics_are_parsed() {
        let counts = CacheCounts::parse(METRICS).unwrap();
        assert_eq!(
            counts,
            CacheCounts {
                hits: 90,
                misses: 8,
                stale: 2,
                entries: 7
            }
        );
        assert_eq!(counts.hit_ratio(), Some(0.9));
    }

    #[test]
    fn missing_metrics_are_an_error() {
        assert!(CacheCounts::parse("torii_session_cache_entries 7\n").is_err());
    }

    #[test]
    fn counts_since_an_earlier_read() {
        let before = CacheCounts {
            hits: 10,
            misses: 5,
            stale: 0,
            entries: 3,
        };
        let after = CacheCounts::parse(METRICS).unwrap().since(before);
        assert_eq!((after.hits, after.misses, after.stale), (80, 3, 2));
        assert_eq!(after.entries, 7);
        assert_eq!(CacheCounts::default().hit_ratio(), None);
    }
}
