//! Seeding: users and database sessions bulk-inserted by SQL, and fresh PostgreSQL and
//! MariaDB databases.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::util::{Cmd, find_tool};

use super::{ENV_ID, POSTGRES_ADMIN_URL, USERS_WITH_PASSWORD};

/// `count` session tokens like the server's: 32 random bytes, base64url without padding.
pub(super) fn new_tokens(count: usize) -> Result<Vec<String>> {
    let mut random = vec![0_u8; count * 32];
    File::open("/dev/urandom")
        .and_then(|mut urandom| urandom.read_exact(&mut random))
        .context("could not read /dev/urandom")?;
    Ok(random
        .chunks_exact(32)
        .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
        .collect())
}

/// Which SQL a seed is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// SQLite and PostgreSQL.
    Standard,
    MySql,
}

/// One transaction of multi-row inserts, then the planner's statistics; the columns and
/// encodings are the store's (`server/src/store/sql/`): times in Unix milliseconds,
/// `token_hash` the lowercase hex SHA-256 of the token. User `n` has the `n`-th token; with a
/// password hash, the first users get that password.
pub(super) fn seed_sql(
    tokens: &[String],
    password_hash: Option<&str>,
    now_ms: i64,
    dialect: Dialect,
) -> String {
    const CHUNK: usize = 1_000;
    let month_ms = 30 * 24 * 3600 * 1000_i64;
    let hash = password_hash.unwrap_or_default().replace('\'', "''");
    let with_password = if password_hash.is_some() {
        USERS_WITH_PASSWORD.min(tokens.len())
    } else {
        0
    };
    let mut sql = String::with_capacity(tokens.len() * 420);
    sql.push_str("BEGIN;\n");
    let users: Vec<usize> = (1..=tokens.len()).collect();
    for chunk in users.chunks(CHUNK) {
        sql.push_str(
            "INSERT INTO users (id, environment_id, email, email_canonical, name, \
             email_verified, created_at, updated_at) VALUES\n",
        );
        for (i, n) in chunk.iter().enumerate() {
            let sep = if i + 1 == chunk.len() { ";\n" } else { ",\n" };
            let _ = write!(
                sql,
                "('{}','{ENV_ID}','user{n}@bench.test','user{n}@bench.test','Bench user {n}',TRUE,{now_ms},{now_ms}){sep}",
                user_id(*n)
            );
        }
    }
    for chunk in users[..with_password].chunks(CHUNK) {
        sql.push_str("INSERT INTO passwords (user_id, hash, updated_at) VALUES\n");
        for (i, n) in chunk.iter().enumerate() {
            let sep = if i + 1 == chunk.len() { ";\n" } else { ",\n" };
            let _ = write!(sql, "('{}','{hash}',{now_ms}){sep}", user_id(*n));
        }
    }
    for chunk in users.chunks(CHUNK) {
        sql.push_str(
            "INSERT INTO sessions (id, environment_id, user_id, token_hash, created_at, \
             expires_at, last_active_at, user_agent, ip) VALUES\n",
        );
        for (i, n) in chunk.iter().enumerate() {
            let sep = if i + 1 == chunk.len() { ";\n" } else { ",\n" };
            let _ = write!(
                sql,
                "('ses_bench{n:021}','{ENV_ID}','{}','{}',{now_ms},{},{now_ms},'wrk','127.0.0.1'){sep}",
                user_id(*n),
                sha256_hex(tokens[n - 1].as_bytes()),
                now_ms + month_ms
            );
        }
    }
    sql.push_str("COMMIT;\n");
    sql.push_str(match dialect {
        Dialect::Standard => "ANALYZE;\n",
        Dialect::MySql => "ANALYZE TABLE users, sessions;\n",
    });
    sql
}

pub(super) fn user_id(n: usize) -> String {
    format!("usr_bench{n:021}")
}

pub(super) fn run_with_stdin(command: &mut Command, input: &Path) -> Result<()> {
    let shown = format!("{command:?}");
    let output = command
        .stdin(File::open(input)?)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("could not start {shown}"))?;
    if !output.status.success() {
        bail!(
            "{shown} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

pub(super) fn psql(url: &str, sql: &str) -> Result<String> {
    Cmd::new("psql")
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .read()
}

/// A fresh PostgreSQL database for this run, dropped when done (also on failure).
#[derive(Debug)]
pub(super) struct PgDatabase {
    name: String,
    pub(super) url: String,
}

impl PgDatabase {
    /// `torii_bench_<label>_<pid>`: a label per scenario, since a run makes several.
    pub(super) fn create(label: &str) -> Result<Self> {
        let name = format!("torii_bench_{label}_{}", std::process::id());
        psql(
            POSTGRES_ADMIN_URL,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )?;
        psql(POSTGRES_ADMIN_URL, &format!("CREATE DATABASE {name}"))?;
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Ok(Self { name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let dropped = psql(
            POSTGRES_ADMIN_URL,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        if let Err(err) = dropped {
            eprintln!("warning: could not drop database {}: {err:#}", self.name);
        }
    }
}

/// `mariadb` (or `mysql`) as root over TCP to 127.0.0.1:3306, where `services::mariadb`
/// makes root log in without a password.
pub(super) fn mariadb_client() -> Result<Command> {
    let bin = find_tool("mariadb")
        .or_else(|| find_tool("mysql"))
        .context("no `mariadb` client (the mariadb-server package installs it)")?;
    let mut command = Command::new(bin);
    command.args(["--protocol=tcp", "-h", "127.0.0.1", "-P", "3306", "-uroot"]);
    Ok(command)
}

fn mariadb(sql: &str) -> Result<()> {
    let mut command = mariadb_client()?;
    let output = command.args(["-e", sql]).output()?;
    if !output.status.success() {
        bail!(
            "mariadb `{sql}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// A fresh MariaDB database for this run, dropped when done (also on failure).
#[derive(Debug)]
pub(super) struct MariaDatabase {
    pub(super) name: String,
    pub(super) url: String,
}

impl MariaDatabase {
    pub(super) fn create(label: &str) -> Result<Self> {
        let name = format!("torii_bench_{label}_{}", std::process::id());
        mariadb(&format!("DROP DATABASE IF EXISTS {name}"))?;
        mariadb(&format!("CREATE DATABASE {name}"))?;
        let url = format!("mysql://root@127.0.0.1:3306/{name}");
        Ok(Self { name, url })
    }
}

impl Drop for MariaDatabase {
    fn drop(&mut self) {
        if let Err(err) = mariadb(&format!("DROP DATABASE IF EXISTS {}", self.name)) {
            eprintln!("warning: could not drop database {}: {err:#}", self.name);
        }
    }
}

/// The lowercase hex SHA-256 of `data`, as the server's `sha256_hex` stores a token.
fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected strings were computed by the hand-written SHA-256 and base64url this module
    /// used before it used the crates: the seed's tokens and hashes are unchanged.
    #[test]
    fn sha256_hex_matches_the_former_hand_written_digest() {
        let cases: [(Vec<u8>, &str); 7] = [
            (
                b"".to_vec(),
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                b"abc".to_vec(),
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            // 55 and 56 bytes: the padding fits in the block, then needs a second one.
            (
                vec![b'a'; 55],
                "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            ),
            (
                vec![b'a'; 56],
                "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            ),
            (
                vec![b'a'; 64],
                "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            ),
            (
                (0_u8..=255).collect(),
                "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880",
            ),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".to_vec(),
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(sha256_hex(&input), expected, "{} bytes", input.len());
        }
    }

    #[test]
    fn base64url_matches_the_former_hand_written_encoding() {
        let cases: [(Vec<u8>, &str); 9] = [
            (Vec::new(), ""),
            (b"f".to_vec(), "Zg"),
            (b"fo".to_vec(), "Zm8"),
            (b"foo".to_vec(), "Zm9v"),
            (vec![0xfb, 0xff], "-_8"),
            (vec![0xff; 3], "____"),
            (vec![0; 32], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            (
                (0_u8..32).collect(),
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            ),
            (
                (200_u8..=255).collect(),
                "yMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(URL_SAFE_NO_PAD.encode(&input), expected);
        }
    }

    #[test]
    fn new_tokens_are_43_characters_of_base64url() {
        let tokens = new_tokens(3).unwrap();
        assert_eq!(tokens.len(), 3);
        for token in tokens {
            assert_eq!(token.len(), 43);
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
        }
    }

    #[test]
    fn seed_sql_hashes_each_token() {
        let tokens = vec!["t1".to_owned(), "t2".to_owned()];
        let sql = seed_sql(&tokens, Some("$argon2id$x"), 1000, Dialect::Standard);
        assert!(sql.contains(&sha256_hex(b"t2")));
        assert!(sql.contains("'user2@bench.test'"));
        assert!(sql.contains("INSERT INTO passwords"));
        assert!(sql.starts_with("BEGIN;") && sql.ends_with("COMMIT;\nANALYZE;\n"));
        let sql = seed_sql(&tokens, None, 1000, Dialect::MySql);
        assert!(!sql.contains("INSERT INTO passwords"));
        assert!(sql.ends_with("ANALYZE TABLE users, sessions;\n"));
    }
}
