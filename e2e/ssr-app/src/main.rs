//! The server-rendered demo's server: run with `cargo xtask demo --ssr`.
//!
//! It reads Torii's own settings (`TORII_CONFIG`, `TORII_LISTEN`, `TORII_DATABASE_URL`
//! (SQLite), `TORII_PUBLIC_URL`, `TORII_SMTP_URL`) and `TORII_STATIC_DIR`, the folder holding
//! `pkg/` (the hydrate bundle), builds a `Torii` instance and serves, on one origin, Torii's
//! router (`/me`, `/v1/...`) and the Leptos app, whose pages and server functions learn the
//! session in-process through `torii_client::ssr`.

use anyhow::Context as _;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use torii_client::ssr::{InProcessVerifier, Sessions, resolve_session};
use torii_server::Torii;
use torii_server::config::Config;
use torii_server::mail::{LogMailer, Mailer, SmtpMailer};
use torii_server::store::{SqliteStore, Store};
use torii_ssr_demo::{App, shell};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config_file = std::env::var_os("TORII_CONFIG").map(std::path::PathBuf::from);
    let config = Config::load(config_file.as_deref(), |name| std::env::var(name).ok())?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let url = config.database_url.expose();
    anyhow::ensure!(
        url.starts_with("sqlite:"),
        "TORII_DATABASE_URL: this demo uses SQLite"
    );
    let store = SqliteStore::connect(url, config.database_max_connections)
        .await
        .map_err(|e| anyhow::anyhow!("TORII_DATABASE_URL: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("TORII_DATABASE_URL: {e}"))?;
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(
            SmtpMailer::from_url(url.expose(), &config.mail_from, config.smtp_credentials())
                .map_err(|e| anyhow::anyhow!("TORII_SMTP_URL: {e}"))?,
        ),
        None => Arc::new(LogMailer),
    };
    let mut builder = Torii::builder()
        .store(store)
        .shared_mailer(mailer)
        .public_url(config.public_url()?);
    for env in config.environments()? {
        builder = builder.environment(env);
    }
    let torii = builder.build().await?;

    let site_root = config
        .static_dir
        .clone()
        .context("TORII_STATIC_DIR: the folder holding pkg/ (the hydrate bundle)")?;
    let options = LeptosOptions::builder()
        .output_name("torii_ssr_demo")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build();
    let sessions = Sessions::new(InProcessVerifier::new(torii.clone(), None));
    let routes = generate_route_list(App);
    let app = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        // Every page and server function learns its session once, before rendering.
        .layer(axum::middleware::from_fn_with_state(
            sessions,
            resolve_session,
        ))
        .nest_service(
            "/pkg",
            tower_http::services::ServeDir::new(site_root.join("pkg")),
        )
        .with_state(options)
        // Torii's API on the same origin: the cookie it sets is the one pages are read with.
        .merge(torii_server::router(torii));

    let listener = tokio::net::TcpListener::bind(config.listen_addr()?)
        .await
        .with_context(|| format!("TORII_LISTEN: cannot bind {}", config.listen))?;
    println!(
        "torii-ssr-demo listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
