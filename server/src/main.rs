//! `torii-server`: run with `cargo run -p torii-server` (or `torii-server --config torii.toml`).
//! Loads configuration (defaults → TOML → `TORII_*` variables), connects to the store, applies
//! migrations and serves the API (and `TORII_STATIC_DIR`, when set) until SIGINT or SIGTERM.

use anyhow::Context as _;
use std::path::PathBuf;
use std::sync::Arc;
use torii_server::config::{Config, LogFormat};
use torii_server::mail::{LogMailer, Mailer, SmtpMailer};
use torii_server::store::{MySqlStore, PostgresStore, SqliteStore, Store};
use torii_server::{Torii, http, serve};
use tracing_subscriber::EnvFilter;

const HELP: &str = "torii-server [--config FILE]\n\nSettings: defaults, then FILE (or TORII_CONFIG), \
then TORII_* variables. See the README for every setting.";

enum Args {
    Help,
    Run { config: Option<PathBuf> },
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut path = std::env::var_os("TORII_CONFIG").map(PathBuf::from);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => {
                path = Some(args.next().context("--config needs a file path")?.into());
            }
            "--help" | "-h" => return Ok(Args::Help),
            other => anyhow::bail!("unknown argument `{other}` (try --help)"),
        }
    }
    Ok(Args::Run { config: path })
}

async fn connect_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url.expose();
    if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url, config.database_max_connections)
            .await
            .map_err(|e| anyhow::anyhow!("TORII_DATABASE_URL: {e}"))?;
        return Ok(Arc::new(store));
    }
    let max = config.database_max_connections;
    let store: Arc<dyn Store> = if url.starts_with("postgres") {
        Arc::new(
            PostgresStore::connect_lazy(url, max)
                .map_err(|e| anyhow::anyhow!("TORII_DATABASE_URL: {e}"))?,
        )
    } else {
        Arc::new(
            MySqlStore::connect_lazy(url, max)
                .map_err(|e| anyhow::anyhow!("TORII_DATABASE_URL: {e}"))?,
        )
    };
    Ok(store)
}

async fn run() -> anyhow::Result<()> {
    let path = match parse_args()? {
        Args::Help => {
            println!("{HELP}");
            return Ok(());
        }
        Args::Run { config } => config,
    };
    let config = Config::load(path.as_deref(), |name| std::env::var(name).ok())?;
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_env_filter(filter)
            .init(),
        // One object a line: the event's fields at the top level, with the request's span
        // (request id, method, route, path) beside them.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
    }
    let store = connect_store(&config).await?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("TORII_DATABASE_URL: {e}"))?;
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(
            SmtpMailer::from_url(url.expose(), &config.mail_from, config.smtp_credentials())
                .map_err(|e| anyhow::anyhow!("TORII_SMTP_URL: {e}"))?,
        ),
        None => {
            tracing::info!(
                "TORII_SMTP_URL is not set: emails (and their codes) are written to this log"
            );
            Arc::new(LogMailer)
        }
    };
    let keys = config.server_keys()?;
    if let Some(path) = &keys.created {
        // The path only: the key itself never reaches a log.
        tracing::info!(
            "created the server key file {} (set secret_key_file / TORII_SECRET_KEY_FILE to \
             choose another; keep it with the database)",
            path.display()
        );
    }
    if keys.shared_default && config.secret_key_file.is_none() {
        tracing::warn!(
            "TORII_SECRET_KEY_FILE is not set: using torii-secret.key in the working directory; \
             every node on this database must use the same key file"
        );
    }
    let mut builder = Torii::builder()
        .shared_store(store)
        .shared_mailer(mailer)
        .public_url(config.public_url()?)
        .trusted_proxies(config.trusted_proxies()?);
    let (capacity, bound) = config.session_cache();
    builder = builder.session_cache(capacity, bound);
    if let Some(waiting) = config.password_hash_queue {
        builder = builder.hash_queue(waiting);
    }
    if let Some(check) = config.breached_passwords()? {
        builder = builder.breached_passwords(check);
    }
    for env in config.environments()? {
        builder = builder.environment(env);
    }
    if let Some(key) = keys.current {
        builder = builder.secret_key(key);
    }
    if let Some(key) = keys.previous {
        builder = builder.previous_secret_key(key);
    }
    let torii = builder.build().await?;
    let app = match &config.static_dir {
        Some(dir) => {
            anyhow::ensure!(
                dir.is_dir(),
                "TORII_STATIC_DIR: {} is not a directory",
                dir.display()
            );
            http::router_with_static(torii.clone(), dir)
        }
        None => http::router(torii.clone()),
    };
    let listener = tokio::net::TcpListener::bind(config.listen_addr()?)
        .await
        .with_context(|| format!("TORII_LISTEN: cannot bind {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!("torii-server listening on http://{addr}");
    // What the node counts, on a listener of its own when configured (never the API's).
    let metrics = match config.metrics_addr()? {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("TORII_METRICS_LISTEN: cannot bind {addr}"))?;
            tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
            Some(tokio::spawn(serve::serve(
                listener,
                http::metrics_router(torii.clone()),
                config.serve_settings(),
                std::future::pending(),
            )))
        }
        None => None,
    };
    // Each request gets its peer's address; slow and excess clients are cut off (see
    // `torii_server::serve`). A signal starts the drain: readiness answers 503 at once so that
    // a balancer stops sending traffic, every request is still served for the drain delay,
    // then the listener closes and in-flight requests finish.
    let drain_delay = config.drain_delay();
    let draining = {
        let torii = torii.clone();
        async move {
            shutdown_signal().await;
            torii.drain();
            tracing::info!(
                drain_delay_secs = drain_delay.as_secs(),
                "shutting down: /readyz answers 503 while requests are still served"
            );
            // A second signal cuts the drain short.
            tokio::select! {
                () = tokio::time::sleep(drain_delay) => {}
                () = shutdown_signal() => {}
            }
            tracing::info!("closing the listener; requests in flight finish");
        }
    };
    serve::serve(listener, app, config.serve_settings(), draining).await?;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    // Mails already promised (sign-in links, reset codes) go out before the process ends.
    if tokio::time::timeout(std::time::Duration::from_secs(10), torii.mail_settled())
        .await
        .is_err()
    {
        tracing::warn!("stopped with mail still being sent");
    }
    tracing::info!("torii-server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("torii-server: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
