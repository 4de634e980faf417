//! What must hold after the fleet run, read from the store and asked of every node directly.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use crate::bench::http_at;

use super::BROKEN;
use super::cluster::{Balancer, Node, Postgres};
use super::workload;

/// The store, read directly: what the workload completed is there exactly once, and nothing
/// is left half-done.
pub fn check_store(
    pg: &Postgres,
    outcome: &workload::Outcome,
    client: &str,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let users: BTreeMap<String, usize> = pg
        .psql(
            "fleet",
            "SELECT email_canonical, count(*) FROM users GROUP BY email_canonical",
        )?
        .into_iter()
        .map(|row| (row[0].clone(), row[1].parse().unwrap_or(0)))
        .collect();
    for email in &outcome.completed_sign_ups {
        let count = users.get(email).copied().unwrap_or(0);
        if count != 1 {
            problems.push(format!("completed sign-up {email}: {count} users"));
        }
    }
    let pending: BTreeSet<String> = pg
        .psql("fleet", "SELECT email_canonical FROM sign_ups")?
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    for email in pending.iter().filter(|e| users.contains_key(*e)) {
        problems.push(format!("{email} is both a user and a pending sign-up"));
    }
    for email in &outcome.uncertain_sign_ups {
        if users.contains_key(email) && pending.contains(email) {
            problems.push(format!("interrupted sign-up {email} is half-done"));
        }
    }
    let known: BTreeSet<&String> = outcome
        .completed_sign_ups
        .iter()
        .chain(&outcome.uncertain_sign_ups)
        .chain(&outcome.provider_sign_ups)
        .chain(&outcome.uncertain_provider_sign_ups)
        .collect();
    for email in users.keys().filter(|e| !known.contains(e)) {
        problems.push(format!("user {email} was never signed up by the workload"));
    }
    let without_password = pg.psql(
        "fleet",
        "SELECT u.email_canonical FROM users u \
         WHERE NOT EXISTS (SELECT 1 FROM passwords p WHERE p.user_id = u.id)",
    )?;
    let by_provider: BTreeSet<&String> = outcome
        .provider_sign_ups
        .iter()
        .chain(&outcome.uncertain_provider_sign_ups)
        .collect();
    for row in without_password
        .iter()
        .filter(|row| !by_provider.contains(&row[0]))
    {
        problems.push(format!(
            "user {} has no password: a half-done sign-up",
            row[0]
        ));
    }
    problems.extend(check_provider_accounts(pg, outcome)?);
    let live_links: BTreeSet<String> = pg
        .psql(
            "fleet",
            "SELECT u.email_canonical FROM magic_links m JOIN users u ON u.id = m.user_id",
        )?
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    for email in outcome
        .links_used
        .iter()
        .filter(|e| live_links.contains(*e))
    {
        problems.push(format!(
            "the sign-in link of {email} was used but is still there"
        ));
    }
    // The balancer's requests come from its own address, a trusted proxy: the client the
    // nodes record is the workload's address, which only X-Forwarded-For carried.
    let addresses = pg.psql(
        "fleet",
        "SELECT DISTINCT coalesce(ip, '(none)') FROM sessions",
    )?;
    for row in addresses {
        if row[0] != client {
            problems.push(format!(
                "a session records the client address {} instead of the workload's {client}",
                row[0]
            ));
        }
    }
    Ok(problems)
}

/// Every account made through the provider is one user with exactly one linked identity and
/// no password; a callback that failed left either such an account or nothing.
fn check_provider_accounts(pg: &Postgres, outcome: &workload::Outcome) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let rows = pg.psql(
        "fleet",
        "SELECT u.email_canonical, count(i.id), \
         (SELECT count(*) FROM passwords p WHERE p.user_id = u.id) \
         FROM users u LEFT JOIN oauth_identities i ON i.user_id = u.id \
         GROUP BY u.id, u.email_canonical",
    )?;
    let accounts: BTreeMap<&str, (&str, &str)> = rows
        .iter()
        .map(|row| (row[0].as_str(), (row[1].as_str(), row[2].as_str())))
        .collect();
    for email in &outcome.provider_sign_ups {
        match accounts.get(email.as_str()) {
            Some(("1", "0")) => {}
            Some((identities, passwords)) => problems.push(format!(
                "provider account {email}: {identities} identities, {passwords} passwords"
            )),
            None => problems.push(format!("provider account {email} is missing")),
        }
    }
    for email in &outcome.uncertain_provider_sign_ups {
        match accounts.get(email.as_str()) {
            None | Some(("1", "0")) => {}
            Some((identities, passwords)) => problems.push(format!(
                "interrupted provider sign-in {email} is half-done: {identities} identities, \
                 {passwords} passwords"
            )),
        }
    }
    if outcome.provider_sign_ups.is_empty() {
        problems.push("no sign-in through the provider completed".to_owned());
    }
    Ok(problems)
}

/// Every session the workload holds answers on every node, asked directly; every one it
/// signed out is signed out on every node.
pub fn check_sessions(nodes: &[Node], outcome: &workload::Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    for node in nodes {
        for (token, email) in &outcome.held {
            let bearer = format!("Bearer {token}");
            match http_at(node.addr, "GET", "/me", &[("Authorization", &bearer)], None) {
                Ok(r) if r.status == 200 && workload::has_user(&r, email).is_ok() => {}
                Ok(r) => problems.push(format!(
                    "{}: the session of {email} answered {} {:.200}",
                    node.name, r.status, r.body
                )),
                Err(err) => problems.push(format!("{}: /me failed: {err:#}", node.name)),
            }
        }
        for token in &outcome.signed_out {
            let bearer = format!("Bearer {token}");
            match http_at(node.addr, "GET", "/me", &[("Authorization", &bearer)], None) {
                Ok(r) if r.status == 200 && workload::signed_out(&r).is_ok() => {}
                Ok(r) => problems.push(format!(
                    "{}: a signed-out session answered {} {:.200}",
                    node.name, r.status, r.body
                )),
                Err(err) => problems.push(format!("{}: /me failed: {err:#}", node.name)),
            }
        }
    }
    problems
}

/// The node without a database: HAProxy has it down, sent it nothing, and its log shows only
/// readiness checks.
pub fn check_broken_node(balancer: &Balancer, broken: &Node) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let stats = balancer.stats()?;
    match stats.iter().find(|s| s.name == BROKEN) {
        Some(s) if s.status.starts_with("DOWN") && s.sessions == 0 => {}
        Some(s) => problems.push(format!(
            "{BROKEN}: HAProxy has it {} after sending it {} requests",
            s.status, s.sessions
        )),
        None => problems.push(format!("{BROKEN} is missing from HAProxy's statistics")),
    }
    let log = broken.log_text();
    let routes: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("finished processing request"))
        .filter(|line| !line.contains("route=/readyz") && !line.contains("route=/healthz"))
        .collect();
    if let Some(line) = routes.first() {
        problems.push(format!(
            "{BROKEN} served {} requests besides probes, e.g. {line}",
            routes.len()
        ));
    }
    if !log.contains("route=/readyz") {
        problems.push(format!("{BROKEN} was never probed on /readyz"));
    }
    Ok(problems)
}
