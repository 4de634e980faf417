//! The report: `bench/results.md` and `bench/results.json`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::util::Cmd;

use super::bundles::Bundles;
use super::cache::CACHE_SIZE;
use super::groups::Groups;
use super::propagation::{self, Propagation};
use super::scale::{self, thousands};
use super::wrk::WrkResult;
use super::{
    CONNECTIONS, JWT_TOKENS, MEASURE_SECS, PACED_CONNECTIONS, PACED_DELAY_MS, SEED_USERS,
    SIGN_IN_CONNECTIONS, Scenario, SignIn, THREADS, WARM_UP_SECS, cores, write_file,
};

#[derive(Debug)]
pub(super) struct Report {
    machine: String,
    date: String,
    commit: String,
    pub(super) wrk: String,
    load_before: String,
    pub(super) load_after: String,
    /// The groups run (`--only`), all for a full run.
    groups: Vec<&'static str>,
    full: bool,
    pub(super) scenarios: Vec<Scenario>,
    pub(super) propagation: Vec<Propagation>,
    pub(super) sign_in: Option<SignIn>,
    pub(super) bundles: Bundles,
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
pub(super) fn load_average() -> String {
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
    pub(super) fn new(groups: &Groups) -> Self {
        let date = Cmd::new("date")
            .args(["-u", "+%Y-%m-%d %H:%M UTC"])
            .read()
            .unwrap_or_default();
        let commit = Cmd::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .read()
            .unwrap_or_default();
        Self {
            machine: machine(),
            date,
            commit,
            // Read once the run has installed wrk (see `wrk_version`).
            wrk: String::new(),
            load_before: load_average(),
            load_after: String::new(),
            groups: groups.names(),
            full: groups.is_full(),
            scenarios: Vec::new(),
            propagation: Vec::new(),
            sign_in: None,
            bundles: Bundles {
                items: Vec::new(),
                wasm_opt: false,
                notes: Vec::new(),
            },
        }
    }

    pub(super) fn add(&mut self, scenario: Scenario) {
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

    fn load_markdown(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "Load: wrk, {THREADS} threads, {CONNECTIONS} connections, {WARM_UP_SECS} s \
         warm-up then {MEASURE_SECS} s, a fresh server per row, every request with a \
         bearer token picked at random from {} seeded sessions ({JWT_TOKENS} JWTs for the \
         JWT row; for the scale rows, every seeded session up to {}, a random sample of \
         {} above); the load generator shares the machine. \"vs baseline\" is the ratio \
         to the mean of the two `/healthz` runs. \"(cached)\": the session cache on, \
         `TORII_SESSION_CACHE_SIZE={CACHE_SIZE}` (the default, 10000, would hold a tenth \
         of the tokens sent, and most random picks would miss), filled before the warm-up \
         by sending every token once; \"(uncached)\": `TORII_SESSION_CACHE_SIZE=0`, every \
         lookup asks the database. The cache column is the share of lookups answered \
         from the cache during the measured run (the server's `/metrics`).\n",
            thousands(SEED_USERS),
            thousands(scale::SAMPLE),
            thousands(scale::SAMPLE)
        );
        md.push_str(
        "| scenario | requests/s | vs baseline | p50 | p99 | non-2xx | socket errors | peak RSS (anonymous) | session cache |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
        let baseline = self.baseline_rps();
        for scenario in &self.scenarios {
            let load = &scenario.load;
            let _ = writeln!(
                md,
                "| {} | {:.0} | {:.0}% | {:.2} ms | {:.2} ms | {} | {} | {} | {} |",
                scenario.name,
                load.rps(),
                100.0 * load.rps() / baseline,
                load.p50_ms(),
                load.p99_ms(),
                load.non_2xx,
                load.socket_errors,
                rss(scenario.peak_rss_kib, scenario.anon_rss_kib),
                scenario
                    .cache
                    .map_or_else(String::new, super::CacheRun::shown)
            );
        }
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
        if !self.full {
            let _ = writeln!(md, "A partial run (`--only {}`).\n", self.groups.join(","));
        }
        if !self.scenarios.is_empty() {
            self.load_markdown(&mut md);
        }
        if !self.propagation.is_empty() {
            propagation::markdown(&mut md, &self.propagation);
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
             \"sessionCacheSize\": {CACHE_SIZE}, \"scaleSample\": {}, \
             \"serverLog\": \"warn\"}},",
            scale::SAMPLE
        );
        let _ = writeln!(
            out,
            "  \"groups\": [{}], \"full\": {},",
            self.groups
                .iter()
                .map(|group| json_str(group))
                .collect::<Vec<_>>()
                .join(", "),
            self.full
        );
        out.push_str("  \"scenarios\": [\n");
        let rows: Vec<String> = self
            .scenarios
            .iter()
            .map(|scenario| {
                format!(
                    "    {{\"name\": {}, {}, \"ratioToBaseline\": {:.4}, \"peakRssKib\": {}, \
                     \"peakAnonRssKib\": {}, \"sessionCache\": {}}}",
                    json_str(&scenario.name),
                    load_json(&scenario.load),
                    scenario.load.rps() / self.baseline_rps(),
                    scenario.peak_rss_kib,
                    scenario.anon_rss_kib,
                    scenario.cache.map_or_else(
                        || "null".to_owned(),
                        |cache| format!(
                            "{{\"size\": {}, \"hits\": {}, \"misses\": {}, \"stale\": {}}}",
                            if cache.on { CACHE_SIZE } else { 0 },
                            cache.counted.hits,
                            cache.counted.misses,
                            cache.counted.stale
                        )
                    )
                )
            })
            .collect();
        out.push_str(&rows.join(",\n"));
        out.push_str("\n  ],\n");
        let rows: Vec<String> = self.propagation.iter().map(propagation::json).collect();
        let _ = writeln!(
            out,
            "  \"propagation\": {{\"revocationBoundMs\": {}, \"pollLimitMs\": {}, \
             \"loadConnectionsPerNode\": {}, \"rows\": [\n{}\n  ]}},",
            propagation::BOUND_MS,
            propagation::POLL_LIMIT.as_millis(),
            propagation::LOAD_CONNECTIONS,
            rows.join(",\n")
        );
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

    pub(super) fn write(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir)?;
        let md = self.markdown();
        write_file(
            &dir.join("results.md"),
            &format!("# `cargo xtask bench`: latest results\n\n{md}"),
        )?;
        write_file(&dir.join("results.json"), &self.json())?;
        println!("\n{md}");
        println!("written to {}/results.md and results.json", dir.display());
        Ok(())
    }
}

pub(super) fn load_json(load: &WrkResult) -> String {
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

pub(super) fn json_str(text: &str) -> String {
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

/// "573 MiB (11 MiB)": the peak resident set, and the peak of its anonymous part.
fn rss(peak_kib: u64, anon_kib: u64) -> String {
    format!(
        "{:.0} MiB ({:.0} MiB)",
        peak_kib as f64 / 1024.0,
        anon_kib as f64 / 1024.0
    )
}

/// `wrk -v`'s first two words (it prints its version and exits with 1); empty without wrk.
pub(super) fn wrk_version() -> String {
    Command::new("wrk")
        .arg("-v")
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
