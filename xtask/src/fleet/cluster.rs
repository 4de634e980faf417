//! The fleet's processes: a private PostgreSQL instance, the `torii-server` nodes and HAProxy,
//! each on a free loopback port, each stopped by its id (PostgreSQL by `pg_ctl`) when dropped.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::http_at;
use crate::services::newest_postgres_version;
use crate::setup::apt_install;
use crate::util::{Cmd, wait_until};

use super::net::{Host, Net};

pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// A PostgreSQL instance of its own (initdb in the work directory, run as the `postgres` OS
/// user), so the run can restart it without touching the machine's shared server.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    options: String,
    pub port: u16,
    running: bool,
}

impl Postgres {
    pub fn start(work: &Path, net: &Net) -> Result<Self> {
        if newest_postgres_version().is_err() {
            apt_install(&["postgresql"])?;
        }
        let version = newest_postgres_version()?;
        let bin = PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"));
        let dir = work.join("postgres");
        fs::create_dir_all(&dir)?;
        if crate::util::is_root() {
            Cmd::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .run()?;
        }
        let data = dir.join("data");
        let log = dir.join("postgres.log");
        as_postgres(&bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
            .arg(&data)
            .read()
            .context("initdb failed")?;
        if let Some(subnet) = &net.subnet {
            let hba = data.join("pg_hba.conf");
            let current = fs::read_to_string(&hba)?;
            fs::write(&hba, format!("{current}\nhost all all {subnet} trust\n"))?;
        }
        let port = free_port()?;
        // Sockets in the instance's own directory, TCP on loopback and, with namespaces,
        // on the bridge the nodes reach this host by.
        let listen = if net.here.is_loopback() {
            "127.0.0.1".to_owned()
        } else {
            format!("127.0.0.1,{}", net.here)
        };
        let options = format!(
            "-p {port} -c listen_addresses={listen} -k {} -c max_connections=100",
            dir.display()
        );
        as_postgres(&bin.join("pg_ctl"))
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &options, "start"])
            .read()
            .context("pg_ctl start failed")?;
        let pg = Self {
            bin,
            data,
            log,
            options,
            port,
            running: true,
        };
        pg.psql("postgres", "CREATE DATABASE fleet")?;
        println!("PostgreSQL {version}: private instance on 127.0.0.1:{port}");
        Ok(pg)
    }

    /// The URL of `database` for a node, which reaches this host at `host`.
    pub fn url(&self, host: Ipv4Addr, database: &str) -> String {
        format!("postgres://postgres@{host}:{}/{database}", self.port)
    }

    /// A fast shutdown: clients are disconnected, nothing needs recovery at the next start.
    pub fn stop_for_outage(&self) -> Result<()> {
        as_postgres(&self.bin.join("pg_ctl"))
            .args(["-w", "-t", "60", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop")
            .read()
            .context("pg_ctl stop failed")
            .map(drop)
    }

    /// Starts it again after [`Postgres::stop_for_outage`], waiting until it accepts
    /// connections. With the log file: without one, the server would keep the output pipe
    /// open and the command would not return.
    pub fn start_after_outage(&self) -> Result<()> {
        as_postgres(&self.bin.join("pg_ctl"))
            .args(["-w", "-t", "60", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-o", &self.options, "start"])
            .read()
            .context("pg_ctl start failed")
            .map(drop)
    }

    /// One statement's rows, columns separated by tabs.
    pub fn psql(&self, database: &str, sql: &str) -> Result<Vec<Vec<String>>> {
        let out = Cmd::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", "\t"])
            .arg("-h")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", "postgres", "-d", database, "-c", sql])
            .read()?;
        Ok(out
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| line.split('\t').map(str::to_owned).collect())
            .collect())
    }

    fn stop(&mut self) -> Result<()> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        as_postgres(&self.bin.join("pg_ctl"))
            .args(["-w", "-t", "60", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop")
            .read()
            .context("pg_ctl stop failed")
            .map(drop)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            println!("warning: the fleet's PostgreSQL did not stop: {err:#}");
        }
    }
}

/// `initdb` and `pg_ctl` refuse to run as root: as root, they run as the `postgres` user;
/// otherwise as the current user.
fn as_postgres(program: &Path) -> Cmd {
    if crate::util::is_root() {
        Cmd::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
    } else {
        Cmd::new(program)
    }
}

/// One `torii-server` process, restartable on the same port; its log is appended to across
/// restarts, so every email it ever wrote stays readable.
#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub addr: SocketAddr,
    /// Its metrics listener (`TORII_METRICS_LISTEN`).
    pub metrics: SocketAddr,
    host: Host,
    pub log: PathBuf,
    bin: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Node {
    pub fn new(
        bin: &Path,
        work: &Path,
        name: &str,
        host: Host,
        env: Vec<(String, String)>,
    ) -> Result<Self> {
        let addr = SocketAddr::from((host.ip, free_port()?));
        let metrics = SocketAddr::from((host.ip, free_port()?));
        let log = work.join(format!("{name}.log"));
        File::create(&log)?;
        Ok(Self {
            name: name.to_owned(),
            addr,
            metrics,
            host,
            log,
            bin: bin.to_owned(),
            env,
            child: None,
        })
    }

    /// Starts the process and waits until it answers `/healthz` (not `/readyz`: a node whose
    /// database is gone is alive but not ready).
    pub fn start(&mut self) -> Result<()> {
        let out = OpenOptions::new().append(true).open(&self.log)?;
        let mut cmd = self.host.command(&self.bin);
        cmd.env_clear()
            .env("TORII_LISTEN", self.addr.to_string())
            .env("TORII_METRICS_LISTEN", self.metrics.to_string())
            .env("TORII_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start {}", self.bin.display()))?;
        self.child = Some(child);
        let addr = self.addr;
        let mut exited = None;
        let child = self.child.as_mut().context("no child")?;
        let ready = wait_until(&self.name, Duration::from_secs(60), || {
            if let Ok(Some(status)) = child.try_wait() {
                exited = Some(status);
                return true;
            }
            http_at(addr, "GET", "/healthz", &[], None).is_ok_and(|r| r.status == 200)
        });
        if let Some(status) = exited {
            self.child = None;
            bail!("{} exited ({status}):\n{}", self.name, self.log_tail());
        }
        ready.with_context(|| self.log_tail())
    }

    pub fn ready(&self) -> bool {
        http_at(self.addr, "GET", "/readyz", &[], None).is_ok_and(|r| r.status == 200)
    }

    /// Sends `signal` (`TERM` or `KILL`) and waits for the process to end; its exit status.
    pub fn signal_and_wait(&mut self, signal: &str) -> Result<String> {
        let mut child = self.child.take().context("the node is not running")?;
        Cmd::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .read()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status.to_string());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("{} did not exit within 30 s of SIG{signal}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// HAProxy, run in the foreground from `deploy/haproxy.cfg` with its placeholders filled in.
#[derive(Debug)]
pub struct Balancer {
    pub addr: SocketAddr,
    stats: SocketAddr,
    child: Child,
}

/// One backend server's line of HAProxy's statistics.
#[derive(Debug, Clone)]
pub struct ServerStats {
    pub name: String,
    /// `UP`, `DOWN`, `MAINT`, … (with ` 1/2`-style transition suffixes).
    pub status: String,
    /// Requests (sessions) HAProxy sent to it.
    pub sessions: u64,
    /// How many times failed checks took it from up to down (`chkdown`).
    pub taken_out: u64,
}

impl Balancer {
    pub fn start(
        root: &Path,
        work: &Path,
        host: &Host,
        port: u16,
        nodes: &[&Node],
    ) -> Result<Self> {
        if !Path::new("/usr/sbin/haproxy").is_file() {
            apt_install(&["haproxy"])?;
        }
        let template_path = root.join("deploy/haproxy.cfg");
        let template = fs::read_to_string(&template_path)
            .with_context(|| format!("could not read {}", template_path.display()))?;
        let addr = SocketAddr::from((host.ip, port));
        let stats = SocketAddr::from((host.ip, free_port()?));
        let mut servers = String::new();
        for node in nodes {
            let _ = writeln!(servers, "    server {} {}", node.name, node.addr);
        }
        let config = template
            .replace("{{LISTEN}}", &addr.to_string())
            .replace("{{STATS}}", &stats.to_string())
            .replace("{{SOURCE}}", &host.source.to_string())
            .replace("{{SERVERS}}", servers.trim_end());
        if config.contains("{{") {
            bail!("a placeholder of deploy/haproxy.cfg was left unfilled:\n{config}");
        }
        let path = work.join("haproxy.cfg");
        fs::write(&path, config)?;
        Cmd::new("/usr/sbin/haproxy")
            .arg("-c")
            .arg("-q")
            .arg("-f")
            .arg(&path)
            .read()
            .context("HAProxy refused the configuration")?;
        let log = File::create(work.join("haproxy.log"))?;
        let child = host
            .command(Path::new("/usr/sbin/haproxy"))
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("could not start haproxy")?;
        let balancer = Self { addr, stats, child };
        wait_until("HAProxy's statistics", Duration::from_secs(30), || {
            balancer.stats().is_ok()
        })?;
        println!("HAProxy: {addr}, statistics on {stats}/stats");
        Ok(balancer)
    }

    /// The backend servers' lines of `/stats;csv`.
    pub fn stats(&self) -> Result<Vec<ServerStats>> {
        let response = http_at(self.stats, "GET", "/stats;csv", &[], None)?;
        if response.status != 200 {
            bail!("HAProxy's statistics answered {}", response.status);
        }
        let body = if response
            .header("transfer-encoding")
            .is_some_and(|te| te.contains("chunked"))
        {
            dechunk(&response.body)
        } else {
            response.body.clone()
        };
        let mut lines = body.lines();
        let header: Vec<&str> = lines
            .next()
            .context("empty statistics")?
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|c| *c == name)
                .with_context(|| format!("no `{name}` column in HAProxy's statistics"))
        };
        let (px, sv, status, stot, chkdown) = (
            column("pxname")?,
            column("svname")?,
            column("status")?,
            column("stot")?,
            column("chkdown")?,
        );
        let mut servers = Vec::new();
        for line in lines {
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() <= stot.max(status).max(chkdown) || cols[px] != "torii_nodes" {
                continue;
            }
            if cols[sv] == "BACKEND" || cols[sv] == "FRONTEND" {
                continue;
            }
            servers.push(ServerStats {
                name: cols[sv].to_owned(),
                status: cols[status].to_owned(),
                sessions: cols[stot].parse().unwrap_or(0),
                taken_out: cols[chkdown].parse().unwrap_or(0),
            });
        }
        Ok(servers)
    }

    /// Whether HAProxy has each of `names` in rotation (`UP`, not in a transition).
    pub fn all_up(&self, names: &[&str]) -> bool {
        self.all_in_state(names, "UP")
    }

    /// Whether readiness checks have taken each of `names` out of rotation.
    pub fn all_down(&self, names: &[&str]) -> bool {
        self.all_in_state(names, "DOWN")
    }

    fn all_in_state(&self, names: &[&str], state: &str) -> bool {
        self.stats().is_ok_and(|servers| {
            names
                .iter()
                .all(|name| servers.iter().any(|s| s.name == *name && s.status == state))
        })
    }
}

/// The payload of a chunked body: each chunk is a hexadecimal size line, then that many
/// bytes and a line break; a zero size ends it.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        let body = "7\r\n# pxnam\r\n6\r\ne,svna\r\n0\r\n\r\n";
        assert_eq!(dechunk(body), "# pxname,svna");
    }
}
