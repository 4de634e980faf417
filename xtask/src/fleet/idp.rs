//! The fleet's OpenID provider: the end-to-end suite's `oidc-provider` (with its development
//! login form) on this process's host, where the workload reaches it as a browser would and
//! every node reaches it for the code exchange; stopped by its id when dropped.

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::setup;
use crate::util::Paths;

use super::workload::json_str;

/// The client the fixture registers (`e2e/fixtures/oidc-provider.mjs`).
pub const CLIENT_ID: &str = "torii-e2e";
pub const CLIENT_SECRET: &str = "torii-e2e-secret";

#[derive(Debug)]
pub struct Idp {
    /// `http://ADDRESS:PORT`, as the nodes' configuration names it.
    pub issuer: String,
    pub addr: SocketAddr,
    child: Child,
}

impl Idp {
    /// Starts the provider on `host`, allowing exactly `callback` as a redirect URI besides the
    /// suite's own, and waits for the line that names its issuer.
    pub fn start(paths: &Paths, host: Ipv4Addr, callback: &str, log: &Path) -> Result<Self> {
        setup::node()?;
        setup::npm_ci(paths)?;
        let mut child = Command::new("node")
            .arg("fixtures/oidc-provider.mjs")
            .args(["--host", &host.to_string(), "--callback", callback])
            .current_dir(paths.e2e())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(log)?)
            .spawn()
            .context("could not start the OpenID provider (node)")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Whatever else it prints is read, so that it never blocks on a full pipe.
            for _ in lines {}
        });
        let started = rx.recv_timeout(Duration::from_secs(30));
        let mut idp = Self {
            issuer: String::new(),
            addr: SocketAddr::from((host, 0)),
            child,
        };
        let Ok(line) = started else {
            bail!(
                "the OpenID provider printed no issuer within 30 s (log: {})",
                log.display()
            );
        };
        idp.issuer = json_str(&line, "issuer")
            .with_context(|| format!("the OpenID provider said {line:?}"))?;
        idp.addr = idp
            .issuer
            .strip_prefix("http://")
            .and_then(|rest| rest.parse().ok())
            .with_context(|| format!("unexpected issuer {}", idp.issuer))?;
        println!("fleet: OpenID provider at {}", idp.issuer);
        Ok(idp)
    }

    /// The provider in the nodes' configuration, under the id `oidc`.
    pub fn config(&self) -> String {
        format!(
            "\n[[environments.oauth_providers]]\nid = \"oidc\"\nkind = \"oidc\"\n\
             name = \"Fleet IdP\"\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\n\
             client_secret = \"{CLIENT_SECRET}\"\n",
            self.issuer
        )
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
