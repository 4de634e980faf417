//! The `wrk` load generator and what its Lua `done` hook reports.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::util::Cmd;

/// One `wrk` run.
#[derive(Debug)]
pub(super) struct Wrk {
    pub(super) threads: u32,
    pub(super) connections: u32,
    pub(super) secs: u32,
    pub(super) script: PathBuf,
    pub(super) args: Vec<String>,
}

/// What `wrk`'s `done` hook reported.
#[derive(Debug, Clone, Default)]
pub(super) struct WrkResult {
    pub(super) requests: u64,
    pub(super) duration_us: u64,
    /// Answers with a status of 400 or more (wrk counts those); no route here answers 1xx/3xx.
    pub(super) non_2xx: u64,
    /// Connect, read, write errors and timeouts.
    pub(super) socket_errors: u64,
    pub(super) mean_us: f64,
    pub(super) p50_us: u64,
    pub(super) p99_us: u64,
    pub(super) max_us: u64,
    pub(super) connections: u32,
}

impl WrkResult {
    pub(super) fn rps(&self) -> f64 {
        if self.duration_us == 0 {
            return 0.0;
        }
        self.requests as f64 * 1e6 / self.duration_us as f64
    }
    pub(super) fn mean_ms(&self) -> f64 {
        self.mean_us / 1000.0
    }
    pub(super) fn p50_ms(&self) -> f64 {
        self.p50_us as f64 / 1000.0
    }
    pub(super) fn p99_ms(&self) -> f64 {
        self.p99_us as f64 / 1000.0
    }
}

/// A `wrk` process running in the background; killed if dropped before it finishes.
#[derive(Debug)]
pub(super) struct RunningWrk {
    child: Option<Child>,
    pub(super) connections: u32,
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

    pub(super) fn spawn(&self, port: u16) -> Result<RunningWrk> {
        let child = self.command(port).spawn().context("could not start wrk")?;
        Ok(RunningWrk {
            child: Some(child),
            connections: self.connections,
        })
    }

    pub(super) fn run(&self, port: u16) -> Result<WrkResult> {
        self.spawn(port)?.finish()
    }
}

impl RunningWrk {
    /// Stops it before its duration (SIGINT: wrk then reports what it measured so far).
    pub(super) fn interrupt(self) -> Result<WrkResult> {
        if let Some(child) = &self.child {
            let _ = Cmd::new("kill")
                .args(["-INT", &child.id().to_string()])
                .succeeds();
        }
        self.finish()
    }

    pub(super) fn finish(mut self) -> Result<WrkResult> {
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
