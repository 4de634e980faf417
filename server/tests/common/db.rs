//! A fresh database per test on each backend: a SQLite file, or a new PostgreSQL / MariaDB
//! database created on the servers named by `TORII_TEST_POSTGRES_URL` / `TORII_TEST_MYSQL_URL`
//! (defaults: the local servers) and dropped when the guard goes, even after a panic.

#![allow(dead_code, unreachable_pub)]

use sqlx::Connection as _;
use std::sync::Arc;
use torii_server::store::{MySqlStore, PostgresStore, SqliteStore, Store};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

pub struct TestDb {
    pub backend: Backend,
    /// URL of this test's own database.
    pub url: String,
    pub store: Arc<dyn Store>,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Drop {
        admin_url: String,
        name: String,
        backend: Backend,
    },
}

pub fn admin_url(backend: Backend) -> String {
    match backend {
        Backend::Postgres => std::env::var("TORII_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned()),
        Backend::MySql => {
            std::env::var("TORII_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_MYSQL_URL.to_owned())
        }
        Backend::Sqlite => String::new(),
    }
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("a database URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let name = torii_server::session::new_id("torii_t");
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("test.db").display());
                let store = SqliteStore::connect(&url, 8).await.unwrap();
                store.migrate().await.unwrap();
                Self {
                    backend,
                    url,
                    store: Arc::new(store),
                    cleanup: Some(Cleanup::Dir(dir)),
                }
            }
            Backend::Postgres => {
                let admin = admin_url(backend);
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL at {admin} is required (cargo xtask test starts it): {e}"
                        )
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let url = with_database(&admin, &name);
                let store = PostgresStore::connect_lazy(&url, 8).unwrap();
                store.migrate().await.unwrap();
                Self {
                    backend,
                    url,
                    store: Arc::new(store),
                    cleanup: Some(Cleanup::Drop {
                        admin_url: admin,
                        name,
                        backend,
                    }),
                }
            }
            Backend::MySql => {
                let admin = admin_url(backend);
                let mut conn = sqlx::MySqlConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("MariaDB at {admin} is required (cargo xtask test starts it): {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let url = with_database(&admin, &name);
                let store = MySqlStore::connect_lazy(&url, 8).unwrap();
                store.migrate().await.unwrap();
                Self {
                    backend,
                    url,
                    store: Arc::new(store),
                    cleanup: Some(Cleanup::Drop {
                        admin_url: admin,
                        name,
                        backend,
                    }),
                }
            }
        }
    }

    /// A second, independent store on the same database (another server node).
    pub async fn second_store(&self) -> Arc<dyn Store> {
        match self.backend {
            Backend::Sqlite => Arc::new(SqliteStore::connect(&self.url, 8).await.unwrap()),
            Backend::Postgres => Arc::new(PostgresStore::connect_lazy(&self.url, 8).unwrap()),
            Backend::MySql => Arc::new(MySqlStore::connect_lazy(&self.url, 8).unwrap()),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.cleanup.take() {
            Some(Cleanup::Dir(dir)) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Some(Cleanup::Drop {
                admin_url,
                name,
                backend,
            }) => {
                // Async cleanup from Drop: a short-lived runtime on its own thread.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async move {
                        let sql = match backend {
                            Backend::Postgres => {
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                            }
                            _ => format!("DROP DATABASE IF EXISTS {name}"),
                        };
                        match backend {
                            Backend::Postgres => {
                                if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                                    let _ = sqlx::query(&sql).execute(&mut c).await;
                                }
                            }
                            _ => {
                                if let Ok(mut c) = sqlx::MySqlConnection::connect(&admin_url).await
                                {
                                    let _ = sqlx::query(&sql).execute(&mut c).await;
                                }
                            }
                        }
                    });
                })
                .join();
            }
            None => {}
        }
    }
}
