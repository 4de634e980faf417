//! Shared plumbing: where things are (repository, target dir, tools), running commands with
//! clear failure messages, and timing the steps of a command.

use std::env;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The locations every command works with.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root (the directory holding `Cargo.lock`).
    pub root: PathBuf,
    /// Where every command builds: `CARGO_TARGET_DIR` when set, else the per-user cache
    /// (`$XDG_CACHE_HOME/torii/target`, or `~/.cache/torii/target`) that every clone of the
    /// repository shares, so a fresh clone rebuilds only what differs from the last build.
    pub target: PathBuf,
}

impl Paths {
    pub fn discover() -> Result<Self> {
        // `cargo run` sets CARGO_MANIFEST_DIR at run time too; the compile-time value is the
        // fallback for running the binary directly.
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        let root = manifest_dir
            .parent()
            .context("xtask's manifest directory has no parent")?
            .to_path_buf();
        if !root.join("Cargo.lock").is_file() {
            bail!(
                "{} does not look like the workspace root (no Cargo.lock)",
                root.display()
            );
        }
        let target = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    env::current_dir()?.join(dir)
                }
            }
            _ => shared_target_dir().unwrap_or_else(|| root.join("target")),
        };
        Ok(Self { root, target })
    }

    pub fn e2e(&self) -> PathBuf {
        self.root.join("e2e")
    }

    /// Where the built demo app goes; `torii-server` serves it as `TORII_STATIC_DIR`.
    pub fn dist(&self) -> PathBuf {
        self.e2e().join("dist")
    }

    /// Where `build-demo --ssr` puts the server-rendered demo's hydrate bundle (`pkg/`).
    pub fn ssr_dist(&self) -> PathBuf {
        self.e2e().join("ssr-dist")
    }

    /// A cargo invocation in the workspace root, with the cargo that runs xtask.
    pub fn cargo(&self, args: &[&str]) -> Cmd {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Cmd::new(cargo)
            .args(args)
            .cwd(&self.root)
            .env("CARGO_TARGET_DIR", &self.target)
    }

    /// An executable installed by `npm ci` in `e2e/`.
    pub fn npm_bin(&self, name: &str) -> Cmd {
        Cmd::new(self.e2e().join("node_modules").join(".bin").join(name))
    }
}

/// `$XDG_CACHE_HOME/torii/target`, else `$HOME/.cache/torii/target`; none without a home.
fn shared_target_dir() -> Option<PathBuf> {
    let cache = match env::var_os("XDG_CACHE_HOME") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from(env::var_os("HOME").filter(|home| !home.is_empty())?).join(".cache"),
    };
    Some(cache.join("torii").join("target"))
}

/// A command to run, remembering how to describe itself in errors.
#[derive(Debug)]
pub struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let program = program.as_ref();
        Self {
            inner: Command::new(program),
            shown: program.to_string_lossy().into_owned(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        let arg = arg.as_ref();
        self.shown.push(' ');
        self.shown.push_str(&arg.to_string_lossy());
        self.inner.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.inner.env(key, value);
        self
    }

    pub fn cwd(mut self, dir: &Path) -> Self {
        self.inner.current_dir(dir);
        self
    }

    /// Runs with inherited stdio; an error unless it exits with success.
    pub fn run(mut self) -> Result<()> {
        println!("$ {}", self.shown);
        let status = self
            .inner
            .status()
            .with_context(|| format!("could not start `{}`", self.shown))?;
        if !status.success() {
            bail!("`{}` failed ({status})", self.shown);
        }
        Ok(())
    }

    /// Runs capturing stdout (returned trimmed); stderr is shown in the error on failure.
    pub fn read(mut self) -> Result<String> {
        let out = self
            .inner
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("could not start `{}`", self.shown))?;
        if !out.status.success() {
            bail!(
                "`{}` failed ({}): {}",
                self.shown,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Runs silently; whether it started and succeeded.
    pub fn succeeds(mut self) -> bool {
        self.inner
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// The path of an executable: from `PATH`, else from cargo's bin directory (where
/// `cargo install` puts things, which is not always on `PATH`).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.extend(cargo_home().map(|home| home.join("bin")));
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn cargo_home() -> Option<PathBuf> {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

/// Polls `ready` until it holds or `timeout` passes.
pub fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{what} was not ready after {}s", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs named steps, printing each one's duration, and a summary at the end.
#[derive(Debug)]
pub struct Steps {
    started: Instant,
    done: Vec<(String, Duration, bool)>,
}

impl Steps {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            done: Vec::new(),
        }
    }

    pub fn run<T>(&mut self, name: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        println!("\n==> {name}");
        let started = Instant::now();
        let result = step();
        let took = started.elapsed();
        match &result {
            Ok(_) => println!("<== {name}: ok in {}", seconds(took)),
            Err(_) => println!("<== {name}: FAILED after {}", seconds(took)),
        }
        self.done.push((name.to_owned(), took, result.is_ok()));
        result.with_context(|| format!("step `{name}` failed"))
    }

    pub fn summary(&self, ok: bool) {
        let width = self
            .done
            .iter()
            .map(|(name, ..)| name.len())
            .max()
            .unwrap_or(0);
        let mut text = String::from("\nsteps:\n");
        for (name, took, passed) in &self.done {
            let mark = if *passed { "ok    " } else { "FAILED" };
            let _ = writeln!(text, "  {mark} {name:<width$}  {:>8}", seconds(*took));
        }
        let verdict = if ok { "all steps passed" } else { "FAILED" };
        let _ = writeln!(
            text,
            "total: {} ({verdict})",
            seconds(self.started.elapsed())
        );
        print!("{text}");
    }
}

pub fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Whether this process runs as root (else system changes go through `sudo`).
pub fn is_root() -> bool {
    Cmd::new("id").arg("-u").read().is_ok_and(|uid| uid == "0")
}

/// A command that changes the system: as is when root, else through `sudo`.
pub fn privileged(program: &str) -> Cmd {
    if is_root() {
        Cmd::new(program)
    } else {
        Cmd::new("sudo").arg(program)
    }
}
