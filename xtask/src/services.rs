//! The database servers the store conformance suite runs against: PostgreSQL on
//! 127.0.0.1:5432 (trust auth) and MariaDB on 127.0.0.1:3306 (root, no password).
//!
//! Each is left alone when it answers; started when installed but stopped; installed from
//! Debian's packages, configured for password-less local access and started when absent.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::setup::apt_install;
use crate::util::{Cmd, find_tool, privileged, wait_until};

const START_TIMEOUT: Duration = Duration::from_secs(60);

fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

fn postgres_ready() -> bool {
    // pg_isready also tells "starting up" apart from "accepting connections".
    accepts(5432)
        && find_tool("pg_isready").is_none_or(|bin| {
            Cmd::new(bin)
                .args(["-q", "-h", "127.0.0.1", "-p", "5432"])
                .succeeds()
        })
}

pub fn postgres() -> Result<()> {
    if postgres_ready() {
        println!("PostgreSQL: accepting connections on 127.0.0.1:5432");
        return Ok(());
    }
    let fresh = !postgres_installed();
    if fresh {
        apt_install(&["postgresql"])?;
    }
    let (version, online) = match cluster()? {
        Some(cluster) => cluster,
        None => {
            let version = newest_postgres_version()?;
            privileged("pg_createcluster")
                .args([&version, "main"])
                .run()?;
            (version, false)
        }
    };
    if fresh {
        trust_local_tcp(&version)?;
    }
    let action = if online { "reload" } else { "start" };
    privileged("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .run()?;
    wait_until(
        "PostgreSQL on 127.0.0.1:5432",
        START_TIMEOUT,
        postgres_ready,
    )
    .with_context(|| format!("see /var/log/postgresql/postgresql-{version}-main.log"))?;
    println!("PostgreSQL {version}: accepting connections on 127.0.0.1:5432");
    Ok(())
}

fn postgres_installed() -> bool {
    Path::new("/usr/bin/pg_ctlcluster").is_file() && newest_postgres_version().is_ok()
}

/// The newest server version under /usr/lib/postgresql.
pub(crate) fn newest_postgres_version() -> Result<String> {
    let mut versions: Vec<u32> = fs::read_dir("/usr/lib/postgresql")
        .context("no PostgreSQL server under /usr/lib/postgresql")?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    versions
        .last()
        .map(u32::to_string)
        .context("no PostgreSQL server version under /usr/lib/postgresql")
}

/// The `main` cluster listening on 5432 (or the first one): version and whether it is online.
fn cluster() -> Result<Option<(String, bool)>> {
    let listing = Cmd::new("pg_lsclusters").arg("-h").read()?;
    // Columns: version, name, port, status, owner, data directory, log file.
    let clusters: Vec<Vec<&str>> = listing
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.len() >= 4)
        .collect();
    let chosen = clusters
        .iter()
        .find(|cols| cols[1] == "main" && cols[2] == "5432")
        .or_else(|| clusters.first());
    Ok(chosen.map(|cols| (cols[0].to_owned(), cols[3].starts_with("online"))))
}

fn trust_local_tcp(version: &str) -> Result<()> {
    let hba = format!("/etc/postgresql/{version}/main/pg_hba.conf");
    let current = fs::read_to_string(&hba).with_context(|| format!("could not read {hba}"))?;
    if current.contains("host all all 127.0.0.1/32 trust") {
        return Ok(());
    }
    // pg_hba.conf is read top-down and the first match wins: these go first.
    let updated = format!(
        "# Local test access without a password (added by `cargo xtask test`).\n\
         host all all 127.0.0.1/32 trust\n\
         host all all ::1/128 trust\n\n{current}"
    );
    fs::write(&hba, updated).with_context(|| format!("could not write {hba}"))?;
    println!("PostgreSQL: trust auth for 127.0.0.1 and ::1 in {hba}");
    Ok(())
}

fn mariadb_ready() -> bool {
    accepts(3306)
}

pub fn mariadb() -> Result<()> {
    if mariadb_ready() {
        println!("MariaDB: accepting connections on 127.0.0.1:3306");
        return Ok(());
    }
    let fresh = !Path::new("/usr/sbin/mariadbd").is_file();
    if fresh {
        apt_install(&["mariadb-server"])?;
    }
    // The socket directory lives on a tmpfs that a reboot empties.
    privileged("install")
        .args(["-d", "-o", "mysql", "-g", "mysql", "/run/mysqld"])
        .run()?;
    privileged("start-stop-daemon")
        .args([
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            "/usr/sbin/mariadbd",
            "--",
            "--user=mysql",
        ])
        .run()?;
    wait_until("MariaDB on 127.0.0.1:3306", START_TIMEOUT, mariadb_ready)
        .context("see /var/log/mysql/error.log")?;
    if fresh {
        root_without_password()?;
    }
    println!("MariaDB: accepting connections on 127.0.0.1:3306");
    Ok(())
}

/// Debian's MariaDB lets root in only through the unix socket; the tests connect over TCP.
fn root_without_password() -> Result<()> {
    let client = find_tool("mariadb")
        .or_else(|| find_tool("mysql"))
        .context("no `mariadb` client found after installing mariadb-server")?;
    let sql = "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'root'@'::1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS test;
FLUSH PRIVILEGES;";
    let client = client.to_string_lossy().into_owned();
    privileged(&client)
        .args(["--protocol=socket", "-uroot", "-e", sql])
        .run()?;
    if !Cmd::new(&client)
        .args([
            "--protocol=tcp",
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-uroot",
            "-e",
            "SELECT 1",
        ])
        .succeeds()
    {
        bail!("MariaDB still refuses root without a password over 127.0.0.1");
    }
    println!("MariaDB: root without password on 127.0.0.1, database `test`");
    Ok(())
}
