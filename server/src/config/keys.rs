//! The server keys: read from their files, or created beside the database in test mode.

use super::{Config, ConfigError, invalid};
use std::path::{Path, PathBuf};
/// The server keys as configuration gives them (see [`Config::server_keys`]).
#[derive(Debug)]
pub struct ServerKeySource {
    /// The key; `None` only for an in-memory SQLite database in test mode.
    pub current: Option<crate::secret_key::ServerKey>,
    /// The key before a rotation.
    pub previous: Option<crate::secret_key::ServerKey>,
    /// The key file created on this start (to be reported once).
    pub created: Option<PathBuf>,
    /// Whether the key is the working directory's default file (a database other than a
    /// SQLite file): every node sharing the database must be given the same key.
    pub shared_default: bool,
}

impl Config {
    /// The server keys: read from `secret_key_file` (and `secret_key_previous_file`); in test
    /// mode without one, read from or created at the default place (see the field's docs), or
    /// none (a key for this process only) for an in-memory SQLite database.
    ///
    /// # Errors
    /// A key file that cannot be read, created or parsed, named by its setting.
    pub fn server_keys(&self) -> Result<ServerKeySource, ConfigError> {
        use crate::secret_key::ServerKey;
        let read = |setting: &str, path: &Path| {
            ServerKey::read(path).map_err(|e| invalid(setting, e.to_string()))
        };
        let previous = self
            .secret_key_previous_file
            .as_deref()
            .map(|path| {
                read(
                    "secret_key_previous_file (TORII_SECRET_KEY_PREVIOUS_FILE)",
                    path,
                )
            })
            .transpose()?;
        if let Some(path) = &self.secret_key_file {
            return Ok(ServerKeySource {
                current: Some(read("secret_key_file (TORII_SECRET_KEY_FILE)", path)?),
                previous,
                created: None,
                shared_default: false,
            });
        }
        let Some((path, shared_default)) = self.default_key_path() else {
            return Ok(ServerKeySource {
                current: None,
                previous,
                created: None,
                shared_default: false,
            });
        };
        let (key, created) = ServerKey::read_or_create(&path)
            .map_err(|e| invalid("secret_key_file (TORII_SECRET_KEY_FILE)", e.to_string()))?;
        Ok(ServerKeySource {
            current: Some(key),
            previous,
            created: created.then_some(path),
            shared_default,
        })
    }

    /// Where a test-mode server keeps its key when none is configured, and whether that is
    /// the working directory (a database other than a SQLite file); `None` for an in-memory
    /// SQLite database.
    fn default_key_path(&self) -> Option<(PathBuf, bool)> {
        let url = self.database_url.expose();
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Some((PathBuf::from("torii-secret.key"), true));
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
            return None;
        }
        Some((PathBuf::from(format!("{path}.key")), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{temp_dir, vars};

    #[test]
    fn live_mode_refuses_to_start_without_a_server_key_file() {
        let dir = temp_dir();
        let path = dir.join("torii.toml");
        std::fs::write(
            &path,
            "[[environments]]\nname = \"Prod\"\nmode = \"live\"\n\
             publishable_key = \"pk_live_x\"\n\
             secret_key = \"sk_live_0123456789abcdefghijklmnopqrstuv\"\n\
             allowed_origins = [\"https://app.example.com\"]\n",
        )
        .unwrap();
        let smtp = ("TORII_SMTP_URL", "smtp://127.0.0.1:2525");
        let error = Config::load(Some(&path), vars(&[smtp]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("secret_key_file"), "{error}");
        assert!(error.contains("TORII_SECRET_KEY_FILE"), "{error}");
        let key = dir.join("server.key");
        std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
        let key_var = key.to_str().unwrap();
        let config = Config::load(
            Some(&path),
            vars(&[("TORII_SECRET_KEY_FILE", key_var), smtp]),
        )
        .unwrap();
        let keys = config.server_keys().unwrap();
        assert_eq!(
            keys.current,
            Some(crate::secret_key::ServerKey::from_bytes([0xab; 32]))
        );
        assert!(keys.created.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_malformed_key_file_is_refused_naming_the_setting() {
        let dir = temp_dir();
        let key = dir.join("server.key");
        std::fs::write(&key, "not a key").unwrap();
        for (var, setting) in [
            ("TORII_SECRET_KEY_FILE", "TORII_SECRET_KEY_FILE"),
            (
                "TORII_SECRET_KEY_PREVIOUS_FILE",
                "TORII_SECRET_KEY_PREVIOUS_FILE",
            ),
        ] {
            let config = Config::load(None, vars(&[(var, key.to_str().unwrap())])).unwrap();
            let error = config.server_keys().unwrap_err().to_string();
            assert!(error.contains(setting), "{error}");
            assert!(error.contains("64 hexadecimal"), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn test_mode_creates_a_key_beside_the_sqlite_file_then_reuses_it() {
        let dir = temp_dir();
        let db = dir.join("torii.db");
        let url = format!("sqlite://{}?mode=rwc", db.display());
        let config = Config::load(None, vars(&[("TORII_DATABASE_URL", &url)])).unwrap();
        let first = config.server_keys().unwrap();
        let key_file = dir.join("torii.db.key");
        assert_eq!(first.created.as_deref(), Some(key_file.as_path()));
        assert!(!first.shared_default);
        let again = config.server_keys().unwrap();
        assert!(again.created.is_none(), "reused, not created again");
        assert_eq!(again.current, first.current);
        assert!(first.current.is_some());
        // In memory there is nothing to keep a key beside.
        let memory = Config::load(None, vars(&[("TORII_DATABASE_URL", "sqlite::memory:")]))
            .unwrap()
            .server_keys()
            .unwrap();
        assert!(memory.current.is_none() && memory.created.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
