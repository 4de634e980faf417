//! `cargo xtask test`'s API fuzzing step: schemathesis (from PyPI, in a virtual environment of
//! its own under the target directory) against a real `torii-server` on SQLite, driven by the
//! server's own `GET /openapi.json`.
//!
//! What it does, in order:
//! 1. starts the server on a free 127.0.0.1 port with a fresh SQLite database in a temporary
//!    directory and two test-mode environments, rate limits off (the run sends thousands of
//!    requests from one address): the one schemathesis signs in to (every method, Terms and
//!    Privacy), and a second one whose secret key it uses for `/v1/admin/*`, so that the
//!    secret-key API cannot delete or gate the user it signs in as;
//! 2. creates that user through the first environment's secret-key API;
//! 3. runs schemathesis on every operation of the document, with at most `MAX_EXAMPLES` test
//!    cases per operation and phase, and the checks `not_a_server_error`,
//!    `status_code_conformance`, `content_type_conformance` and
//!    `response_schema_conformance`. It authenticates each operation as the document says: the
//!    publishable key, a session token it gets (again after a 401) by signing in with the
//!    password, or the secret key;
//! 4. stops the server by its id, on failure too; schemathesis prints its summary.
//!
//! `TORII_SCHEMATHESIS_SEED` replays (or varies) a run; the default seed is fixed so that the
//! step answers the same way on every machine.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::bench::{Server, http};
use crate::setup;
use crate::util::{Cmd, Paths, find_tool, seconds};

/// The schemathesis release the step installs (4.x: its CLI differs from 3.x).
pub const VERSION: &str = "4.32.5";
/// Test cases per operation and phase: every documented answer of most routes is reached, in
/// about a minute on two cores.
const MAX_EXAMPLES: u32 = 50;
const DEFAULT_SEED: &str = "20260101";
/// A request that takes longer is a failure (a hang, never a slow argon2).
const REQUEST_TIMEOUT_SECS: u32 = 10;

/// The environment schemathesis signs in to.
const PUBLISHABLE_KEY: &str = "pk_test_schemathesis";
const SECRET_KEY: &str = "sk_test_schemathesis";
/// The environment of the secret-key API's run.
const ADMIN_PUBLISHABLE_KEY: &str = "pk_test_schemathesis_admin";
const ADMIN_SECRET_KEY: &str = "sk_test_schemathesis_admin";
const EMAIL: &str = "fuzz@example.com";
const PASSWORD: &str = "schemathesis-password-1";

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

fn venv(paths: &Paths) -> PathBuf {
    paths.target.join("schemathesis-venv")
}

fn st(paths: &Paths) -> PathBuf {
    venv(paths).join("bin").join("st")
}

/// schemathesis `VERSION` in its virtual environment, installed with pip when it is missing
/// or of another version.
pub fn install(paths: &Paths) -> Result<()> {
    let st = st(paths);
    let installed = Cmd::new(&st).arg("--version").read().ok();
    if installed
        .as_deref()
        .is_some_and(|out| out.ends_with(&format!("version {VERSION}")))
    {
        println!("schemathesis {VERSION}: installed");
        return Ok(());
    }
    if find_tool("python3").is_none() {
        setup::apt_install(&["python3", "python3-venv"])?;
    }
    let venv = venv(paths);
    let created = || {
        Cmd::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .run()
    };
    if created().is_err() {
        // Debian's python3 makes virtual environments only with python3-venv (ensurepip).
        setup::apt_install(&["python3-venv"])?;
        created()?;
    }
    Cmd::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--disable-pip-version-check",
            "--quiet",
            &format!("schemathesis=={VERSION}"),
        ])
        .run()?;
    let version = Cmd::new(&st).arg("--version").read()?;
    println!("{version}");
    Ok(())
}

/// Runs schemathesis against `server` (a built `torii-server`).
pub fn run(paths: &Paths, server: &Path) -> Result<()> {
    let st = st(paths);
    if !st.is_file() {
        bail!("{} is missing: run `cargo xtask install`", st.display());
    }
    let work = std::env::temp_dir().join(format!("torii-schemathesis-{}", std::process::id()));
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    fs::create_dir_all(&work)?;
    let result = run_in(&st, &work, server);
    if result.is_ok() {
        let _ = fs::remove_dir_all(&work);
    } else {
        println!("schemathesis: files kept in {}", work.display());
    }
    result
}

fn run_in(st: &Path, work: &Path, bin: &Path) -> Result<()> {
    let config = work.join("torii.toml");
    fs::write(&config, server_config())?;
    let database = format!("sqlite://{}", work.join("torii.db").display());
    let server = Server::start(bin, work, "schemathesis", &database, &config)?;
    let result = fuzz(st, work, &server);
    if result.is_err() {
        println!("torii-server log (last lines):\n{}", server.log_tail());
    }
    // By its id, whatever schemathesis did.
    let stopped = server.stop();
    result?;
    stopped
}

fn server_config() -> String {
    format!(
        "[[environments]]\n\
         id = \"env_schemathesis\"\n\
         name = \"Schemathesis\"\n\
         publishable_key = \"{PUBLISHABLE_KEY}\"\n\
         secret_key = \"{SECRET_KEY}\"\n\
         terms_url = \"https://example.com/terms\"\n\
         privacy_url = \"https://example.com/privacy\"\n\
         methods = [\"password\", \"magic_link\", \"passkey\", \"oauth\"]\n\n\
         [environments.rate_limits]\n\
         enabled = false\n\n\
         [[environments]]\n\
         id = \"env_schemathesis_admin\"\n\
         name = \"Schemathesis admin\"\n\
         publishable_key = \"{ADMIN_PUBLISHABLE_KEY}\"\n\
         secret_key = \"{ADMIN_SECRET_KEY}\"\n\n\
         [environments.rate_limits]\n\
         enabled = false\n"
    )
}

/// Per operation, the credentials its `security` names (schemathesis matches the schemes by
/// name). The session comes from signing in, again after any 401; that request carries no
/// header but its content type, so it names its environment with `?pk=`.
fn schemathesis_config() -> String {
    format!(
        "[auth.openapi.publishableKey]\n\
         api_key = \"{PUBLISHABLE_KEY}\"\n\n\
         [auth.openapi.secretKey]\n\
         bearer = \"{ADMIN_SECRET_KEY}\"\n\n\
         [auth.dynamic.openapi.sessionBearer]\n\
         path = \"/v1/sign-in/password?pk={PUBLISHABLE_KEY}\"\n\
         payload = {{ email = \"{EMAIL}\", password = \"{PASSWORD}\" }}\n\
         extract_from = \"cookie\"\n\
         extract_selector = \"torii_session\"\n"
    )
}

fn fuzz(st: &Path, work: &Path, server: &Server) -> Result<()> {
    let port = server.port;
    let created = http(
        port,
        "POST",
        "/v1/admin/users",
        &[("Authorization", &format!("Bearer {SECRET_KEY}"))],
        Some(&format!(
            "{{\"email\":\"{EMAIL}\",\"password\":\"{PASSWORD}\",\"emailVerified\":true}}"
        )),
    )?;
    if created.status != 201 {
        bail!(
            "could not create the user schemathesis signs in as: {} {}",
            created.status,
            created.body
        );
    }
    let config = work.join("schemathesis.toml");
    fs::write(&config, schemathesis_config())?;
    let seed = std::env::var("TORII_SCHEMATHESIS_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let started = Instant::now();
    let outcome = Cmd::new(st)
        .arg("--no-color")
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("http://127.0.0.1:{port}/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .args(["--seed", &seed])
        .args(["--request-timeout", &REQUEST_TIMEOUT_SECS.to_string()])
        .args(["--generation-database", "none"])
        .cwd(work)
        .run();
    let took = started.elapsed();
    println!(
        "schemathesis {VERSION}: seed {seed}, at most {MAX_EXAMPLES} cases per operation and \
         phase, {} ({})",
        seconds(took),
        if outcome.is_ok() {
            "no failure"
        } else {
            "FAILED"
        }
    );
    outcome.context(
        "schemathesis found answers that break the document (above); replay with \
         TORII_SCHEMATHESIS_SEED",
    )
}
