//! `cargo xtask fleet` (and a step of `cargo xtask test`): three `torii-server` nodes on one
//! PostgreSQL database behind HAProxy, under a bounded mixed workload while, in turn, one node
//! restarts gracefully, one is killed and the database restarts, each fault lasting until
//! HAProxy's readiness checks have taken what failed out of rotation; then the store and
//! every node are checked, and a table tells what each fault cost.
//!
//! The parts, each in a network namespace of its own on a bridge when run as root (else all on
//! loopback; `net.rs`), all stopped by their ids at the end (on failure too):
//! - a private PostgreSQL instance (`initdb` in a temporary directory, a free port), so the
//!   database can be restarted under load without touching the machine's shared server;
//! - nodes `node1`…`node3` on database `fleet`, and `node4`, whose database is dropped once it
//!   has started: alive (`/healthz`) but never ready (`/readyz` answers 503);
//! - HAProxy from `deploy/haproxy.cfg`, health-checking `/readyz`, connecting to the nodes from
//!   its own address (127.0.0.2 on loopback), which is the nodes' `trusted_proxies`;
//! - the workload (`workload.rs`), from this process, while the faults run one after another.
//!
//! What must hold: a graceful restart costs no request; a kill costs at most the requests in
//! flight, each failing cleanly (a 502/503 of the balancer or a closed connection); the
//! database restart costs only `503 store_unavailable` (or the balancer's 503 while no node is
//! ready) during the outage, and every node is ready again without a restart; no request ever
//! gets a wrong answer (a session signed out through one node may still be answered as signed
//! in by another for the revocation bound, never longer: `workload::STALE_FOR`). Afterwards every completed sign-up is exactly one user, no sign-up is
//! both completed and pending, no used sign-in link is left, every session the workload holds
//! answers on every node directly, every signed-out one is signed out everywhere, every session
//! records the workload's address (read from `X-Forwarded-For`), `node4` was never sent a
//! request, and a counted batch sent through the balancer grows the nodes' `/metrics`
//! counters, summed over the nodes, by exactly what was sent (`metrics.rs`).

mod checks;
mod cluster;
mod idp;
mod metrics;
mod net;
mod report;
mod workload;

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use crate::demo;
use crate::util::{Paths, Steps, wait_until};

use cluster::{Balancer, Node, Postgres, free_port};
use idp::Idp;
use net::Net;
use workload::{Failure, IdpLink, Workload};

/// Worker threads of the workload: also the most requests that can be in flight at once.
const WORKERS: usize = 4;
/// Requests the workload sends at least; it also runs until the last fault is over.
const REQUESTS: usize = 1500;
/// The faults start when the workload has sent this many requests.
const FAULT_AT: [usize; 3] = [300, 700, 1100];
/// A bound on the whole workload, faults included: a hang fails instead of waiting forever.
const WORKLOAD_DEADLINE: Duration = Duration::from_secs(150);
/// How long after the last node is ready again a failure still counts as the fault's. The
/// next fault starts only after it, so a failure belongs to one fault at most.
const GRACE: Duration = Duration::from_secs(1);
const NODES: [&str; 3] = ["node1", "node2", "node3"];
const BROKEN: &str = "node4";

/// `cargo xtask fleet`: builds `torii-server` (debug: argon2 is optimised even there) and runs
/// the fleet.
pub fn fleet(paths: &Paths) -> Result<()> {
    let mut steps = Steps::new();
    let result = steps
        .run("cargo build -p torii-server", || demo::build_server(paths))
        .and_then(|server| {
            steps.run("fleet (HAProxy, three nodes, faults under load)", || {
                run(paths, &server)
            })
        });
    steps.summary(result.is_ok());
    result
}

/// One fault, as it happened.
#[derive(Debug)]
pub struct Fault {
    pub name: &'static str,
    pub start: Duration,
    /// When every node was ready and in rotation again.
    pub end: Duration,
    pub allowed: fn(&Failure) -> bool,
}

/// The fleet run with the given `torii-server` binary.
pub fn run(paths: &Paths, server: &Path) -> Result<()> {
    // A directory of this run's own: two runs at once (two clones testing) never share a
    // database directory, a port file or a log.
    let work = env::temp_dir().join(format!("torii-fleet-{}", std::process::id()));
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("could not empty {}", work.display()))?;
    }
    fs::create_dir_all(&work)?;
    println!(
        "fleet: working in {} (removed when every check passes)",
        work.display()
    );

    // First made, last dropped: every process on it is stopped before it goes.
    let (net, balancer_host, mut hosts) = Net::new(&[NODES[0], NODES[1], NODES[2], BROKEN]);
    let pg = Postgres::start(&work, &net)?;
    pg.psql("postgres", "CREATE DATABASE fleet_gone")?;
    let key = work.join("server.key");
    fs::write(&key, random_hex()?)?;
    let balancer_port = free_port()?;
    // The provider runs here, beside PostgreSQL: the nodes reach it for the code exchange, the
    // workload as a browser; its one extra redirect URI is the balancer's callback.
    let callback = format!(
        "http://{}:{balancer_port}/v1/oauth/oidc/callback",
        balancer_host.ip
    );
    let idp = Idp::start(paths, net.here, &callback, &work.join("oidc-provider.log"))?;
    let config = work.join("torii.toml");
    fs::write(&config, format!("{FLEET_CONFIG}{}", idp.config()))?;
    let node_env = |database: &str| {
        vec![
            ("TORII_DATABASE_URL".to_owned(), pg.url(net.here, database)),
            (
                "TORII_PUBLIC_URL".to_owned(),
                format!("http://{}:{balancer_port}", balancer_host.ip),
            ),
            ("TORII_CONFIG".to_owned(), config.display().to_string()),
            (
                "TORII_SECRET_KEY_FILE".to_owned(),
                key.display().to_string(),
            ),
            (
                "TORII_TRUSTED_PROXIES".to_owned(),
                balancer_host.source.to_string(),
            ),
        ]
    };
    let broken_host = hosts.pop().context("no host for the broken node")?;
    let mut nodes = Vec::new();
    for (name, host) in NODES.into_iter().zip(hosts) {
        let mut node = Node::new(server, &work, name, host, node_env("fleet"))?;
        node.start()?;
        nodes.push(node);
    }
    // The broken node: it starts (migrating its database), then its database is dropped.
    let mut broken = Node::new(server, &work, BROKEN, broken_host, node_env("fleet_gone"))?;
    broken.start()?;
    pg.psql("postgres", "DROP DATABASE fleet_gone WITH (FORCE)")?;
    wait_until(
        "node4's /readyz to answer 503",
        Duration::from_secs(30),
        || !broken.ready(),
    )?;

    let mut all: Vec<&Node> = nodes.iter().collect();
    all.push(&broken);
    let balancer = Balancer::start(&paths.root, &work, &balancer_host, balancer_port, &all)?;
    wait_until(
        "HAProxy to have node1-3 up and node4 down",
        Duration::from_secs(30),
        || {
            balancer.all_up(&NODES)
                && balancer.stats().is_ok_and(|servers| {
                    servers
                        .iter()
                        .any(|s| s.name == BROKEN && s.status.starts_with("DOWN"))
                })
        },
    )?;

    let logs = nodes.iter().map(|n| n.log.clone()).collect();
    let link = IdpLink {
        addr: idp.addr,
        issuer: idp.issuer.clone(),
    };
    let workload = Arc::new(Workload::new(balancer.addr, logs, Some(link)));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let workload = Arc::clone(&workload);
            thread::spawn(move || workload.worker(worker))
        })
        .collect();
    let faults = run_faults(&workload, &mut nodes, &pg, &balancer);
    // Stop the workers whatever happened, then judge.
    let sent_enough = wait_until(
        "the workload's requests",
        WORKLOAD_DEADLINE.saturating_sub(workload.now()),
        || workload.sent.load(Ordering::SeqCst) >= REQUESTS,
    );
    workload.stop.store(true, Ordering::SeqCst);
    for worker in workers {
        let _ = worker.join();
    }
    let took = workload.now();
    let faults = faults?;
    sent_enough?;
    let workload = Arc::try_unwrap(workload)
        .map_err(|_| anyhow::anyhow!("a worker still holds the workload"))?;
    let (records, outcome) = workload.into_results();

    let report = report::Report::new(&records, &faults, &outcome, took);
    print!("{}", report.table());
    let mut problems = report.problems(WORKERS);

    problems.extend(checks::check_store(&pg, &outcome, &net.here.to_string())?);
    problems.extend(checks::check_sessions(&nodes, &outcome));
    problems.extend(checks::check_broken_node(&balancer, &broken)?);
    // After every direct request of the checks above: the counted batch is all that moves.
    match outcome.held.first() {
        Some((token, _)) => problems.extend(metrics::check(balancer.addr, &nodes, token)?),
        None => problems.push("metrics: the workload holds no session to count with".to_owned()),
    }
    print!("{}", rotation_table(&balancer.stats()?));
    drop(balancer);
    drop(nodes);
    drop(broken);
    drop(idp);
    drop(pg);
    if !problems.is_empty() {
        let mut text = String::from("the fleet run found problems:\n");
        for problem in &problems {
            let _ = writeln!(text, "  - {problem}");
        }
        let _ = write!(text, "logs: {}", work.display());
        bail!(text);
    }
    println!(
        "fleet: every check passed ({} requests in {:.1}s)",
        records.len(),
        took.as_secs_f64()
    );
    if let Err(err) = fs::remove_dir_all(&work) {
        println!("warning: could not remove {}: {err}", work.display());
    }
    Ok(())
}

/// HAProxy's view of each node at the end: its state, the requests it was sent, and how often
/// readiness checks took it out of rotation.
fn rotation_table(stats: &[cluster::ServerStats]) -> String {
    let mut out = String::from(
        "\n| node (HAProxy) | state | requests sent | taken out of rotation |\n|---|---|---:|---:|\n",
    );
    for s in stats {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            s.name, s.status, s.sessions, s.taken_out
        );
    }
    out
}

/// The three faults, each when the workload has sent `FAULT_AT[i]` requests, each over when
/// every node is ready and HAProxy has them all in rotation again.
fn run_faults(
    workload: &Workload,
    nodes: &mut [Node],
    pg: &Postgres,
    balancer: &Balancer,
) -> Result<Vec<Fault>> {
    let mut faults = Vec::new();
    for (i, at) in FAULT_AT.into_iter().enumerate() {
        let previous_end = faults.last().map_or(Duration::ZERO, |f: &Fault| f.end);
        wait_until(
            &format!("{at} requests before the next fault"),
            WORKLOAD_DEADLINE.saturating_sub(workload.now()),
            || workload.sent.load(Ordering::SeqCst) >= at && workload.now() > previous_end + GRACE,
        )?;
        let start = workload.now();
        // Each fault lasts until HAProxy's readiness checks have taken the broken part out of
        // rotation, so that the run shows the balancer draining, not only retrying.
        let taken_out = |names: &[&str]| {
            wait_until(
                &format!("HAProxy to take {} out of rotation", names.join(", ")),
                Duration::from_secs(30),
                || balancer.all_down(names),
            )
        };
        let fault = match i {
            0 => {
                let status = nodes[0].signal_and_wait("TERM")?;
                ensure!(
                    status.contains("exit status: 0"),
                    "node1 did not shut down cleanly on SIGTERM ({status}):\n{}",
                    nodes[0].log_tail()
                );
                taken_out(&NODES[..1])?;
                nodes[0].start()?;
                Fault {
                    name: "node1 restarted (SIGTERM)",
                    start,
                    end: start,
                    allowed: |_| false,
                }
            }
            1 => {
                nodes[1].signal_and_wait("KILL")?;
                taken_out(&NODES[1..2])?;
                nodes[1].start()?;
                Fault {
                    name: "node2 killed (SIGKILL)",
                    start,
                    end: start,
                    allowed: |f| matches!(f, Failure::Transport | Failure::Balancer(_)),
                }
            }
            _ => {
                pg.stop_for_outage()?;
                taken_out(&NODES)?;
                pg.start_after_outage()?;
                Fault {
                    name: "PostgreSQL stopped and started",
                    start,
                    end: start,
                    allowed: |f| matches!(f, Failure::StoreUnavailable | Failure::Balancer(503)),
                }
            }
        };
        wait_until(
            "every node ready and in rotation",
            Duration::from_secs(60),
            || nodes.iter().all(Node::ready) && balancer.all_up(&NODES),
        )?;
        println!(
            "fault: {} at {:.1}s, all nodes ready again after {:.1}s",
            fault.name,
            start.as_secs_f64(),
            (workload.now() - start).as_secs_f64()
        );
        faults.push(Fault {
            end: workload.now(),
            ..fault
        });
    }
    Ok(faults)
}

/// 32 random bytes as 64 hexadecimal characters: the nodes' shared server key.
fn random_hex() -> Result<String> {
    let mut bytes = [0_u8; 32];
    let mut urandom = fs::File::open("/dev/urandom")?;
    std::io::Read::read_exact(&mut urandom, &mut bytes)?;
    Ok(bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    }))
}

/// The nodes' configuration: one test environment with passwords, sign-in links and the
/// provider (appended once it runs). Every
/// request reaches the nodes from one client address, so the per-address limits are raised
/// far above what the workload sends; they are still counted in the store.
const FLEET_CONFIG: &str = r#"
[[environments]]
name = "Fleet"
mode = "test"
publishable_key = "pk_test_fleet"
secret_key = "sk_test_fleet_secret"
methods = ["password", "magic_link", "oauth"]

[environments.rate_limits]
sign_in_per_ip = { max = 100000, window_secs = 300 }
verifications_per_ip = { max = 100000, window_secs = 300 }
emails_per_ip = { max = 100000, window_secs = 900 }
sign_ups_per_ip = { max = 100000, window_secs = 900 }
ceremonies_per_ip = { max = 100000, window_secs = 300 }
"#;
