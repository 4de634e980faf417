//! A `torii-server` process under test, and its memory.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util::{Cmd, wait_until};

use super::http::http;

/// A `torii-server` process on a free loopback port, logging to a file in the work directory;
/// stopped by its id when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) port: u16,
    /// Where it answers `GET /metrics` (`TORII_METRICS_LISTEN`).
    pub(crate) metrics_port: u16,
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
        Self::start_with(bin, work, name, database_url, config, &[])
    }

    /// [`Server::start`] with more `TORII_*` variables.
    pub(crate) fn start_with(
        bin: &Path,
        work: &Path,
        name: &str,
        database_url: &str,
        config: &Path,
        vars: &[(&str, String)],
    ) -> Result<Self> {
        let port = free_port()?;
        let mut metrics_port = free_port()?;
        // Two ports asked for one after the other may come back the same.
        for _ in 0..5 {
            if metrics_port != port {
                break;
            }
            metrics_port = free_port()?;
        }
        let log = work.join(format!("server-{name}.log"));
        let out = File::create(&log)?;
        let child = Command::new(bin)
            .env_clear()
            .env("TORII_LISTEN", format!("127.0.0.1:{port}"))
            .env("TORII_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
            // One public URL for every server: it is the JWT issuer, and the JWT scenario's
            // tokens come from another server process than the one it measures.
            .env("TORII_PUBLIC_URL", "http://localhost:3000")
            .env("TORII_DATABASE_URL", database_url)
            .env("TORII_CONFIG", config)
            // The request log is an operator's choice; left on, it would be what both the
            // baseline and `/me` measure.
            .env("TORII_LOG", "warn")
            .env("NO_COLOR", "1")
            .envs(vars.iter().map(|(key, value)| (key, value)))
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
            metrics_port,
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
    pub(super) fn rss_kib(&self) -> Result<(u64, u64)> {
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
