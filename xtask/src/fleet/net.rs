//! Where the fleet's processes run. As root with `ip netns`, each node and the balancer get a
//! network namespace of their own, joined to this one by veth pairs on a bridge: every process
//! has an address of its own, as hosts on a network do, and this process (the workload's
//! client, and PostgreSQL's host) is the bridge's address. Elsewhere, everything is on
//! loopback, the balancer connecting to the nodes from 127.0.0.2. Namespaces and the bridge
//! are deleted when dropped.

use std::net::Ipv4Addr;
use std::process::Command;

use anyhow::Result;

use crate::util::{Cmd, is_root};

/// One machine of the fleet: its address, and its namespace when it has one.
#[derive(Debug, Clone)]
pub struct Host {
    pub ip: Ipv4Addr,
    /// The address it connects from (the balancer's on loopback differs from where it listens).
    pub source: Ipv4Addr,
    pub namespace: Option<String>,
}

impl Host {
    /// A command run on this host.
    pub fn command(&self, program: &std::path::Path) -> Command {
        match &self.namespace {
            Some(ns) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns]).arg(program);
                cmd
            }
            None => Command::new(program),
        }
    }
}

#[derive(Debug)]
pub struct Net {
    /// This process's address as the hosts see it: the workload's client address, and where
    /// PostgreSQL listens for them.
    pub here: Ipv4Addr,
    /// The network of the hosts, for PostgreSQL's pg_hba.conf (none on loopback).
    pub subnet: Option<String>,
    namespaces: Vec<String>,
    bridge: Option<String>,
}

impl Net {
    /// The balancer's host and one host per node name, in namespaces when possible.
    pub fn new(nodes: &[&str]) -> (Self, Host, Vec<Host>) {
        if is_root() && Cmd::new("ip").args(["netns", "list"]).succeeds() {
            match Self::namespaces(nodes) {
                Ok(made) => return made,
                Err(err) => println!("network namespaces failed, using loopback: {err:#}"),
            }
        }
        Self::loopback(nodes)
    }

    fn loopback(nodes: &[&str]) -> (Self, Host, Vec<Host>) {
        let localhost = Ipv4Addr::LOCALHOST;
        let balancer = Host {
            ip: localhost,
            source: Ipv4Addr::new(127, 0, 0, 2),
            namespace: None,
        };
        let hosts = nodes
            .iter()
            .map(|_| Host {
                ip: localhost,
                source: localhost,
                namespace: None,
            })
            .collect();
        let net = Self {
            here: localhost,
            subnet: None,
            namespaces: Vec::new(),
            bridge: None,
        };
        println!("fleet network: loopback (the balancer connects from 127.0.0.2)");
        (net, balancer, hosts)
    }

    fn namespaces(nodes: &[&str]) -> Result<(Self, Host, Vec<Host>)> {
        let pid = std::process::id();
        // A /24 of 10.201.0.0/16 picked by the process id, so two runs at once differ.
        let third = u8::try_from(pid % 200).unwrap_or(0) + 20;
        let ip = |last: u8| Ipv4Addr::new(10, 201, third, last);
        let bridge = format!("tfb{pid}");
        let mut net = Self {
            here: ip(1),
            subnet: Some(format!("10.201.{third}.0/24")),
            namespaces: Vec::new(),
            bridge: None,
        };
        Cmd::new("ip")
            .args(["link", "add", &bridge, "type", "bridge"])
            .read()?;
        net.bridge = Some(bridge.clone());
        Cmd::new("ip")
            .args(["addr", "add", &format!("{}/24", ip(1)), "dev", &bridge])
            .read()?;
        Cmd::new("ip").args(["link", "set", &bridge, "up"]).read()?;
        let mut hosts = Vec::new();
        for (i, name) in std::iter::once("lb")
            .chain(nodes.iter().copied())
            .enumerate()
        {
            let index = u8::try_from(i).unwrap_or(0);
            let ns = format!("torii-fleet-{pid}-{name}");
            Cmd::new("ip").args(["netns", "add", &ns]).read()?;
            net.namespaces.push(ns.clone());
            let inside = format!("tfv{pid}h{i}");
            let outside = format!("tfp{pid}h{i}");
            let address = ip(10 + index);
            Cmd::new("ip")
                .args([
                    "link", "add", &inside, "type", "veth", "peer", "name", &outside,
                ])
                .read()?;
            Cmd::new("ip")
                .args(["link", "set", &outside, "master", &bridge, "up"])
                .read()?;
            Cmd::new("ip")
                .args(["link", "set", &inside, "netns", &ns])
                .read()?;
            let in_ns = |args: &[&str]| {
                Cmd::new("ip")
                    .args(["netns", "exec", &ns, "ip"])
                    .args(args)
                    .read()
            };
            in_ns(&["addr", "add", &format!("{address}/24"), "dev", &inside])?;
            in_ns(&["link", "set", &inside, "up"])?;
            in_ns(&["link", "set", "lo", "up"])?;
            hosts.push(Host {
                ip: address,
                source: address,
                namespace: Some(ns),
            });
        }
        let balancer = hosts.remove(0);
        println!(
            "fleet network: namespaces on bridge {bridge} (10.201.{third}.0/24): this process {}, \
             the balancer {}, the nodes {}",
            ip(1),
            balancer.ip,
            hosts
                .iter()
                .map(|h| h.ip.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok((net, balancer, hosts))
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in self.namespaces.drain(..) {
            let _ = Cmd::new("ip").args(["netns", "del", &ns]).succeeds();
        }
        if let Some(bridge) = self.bridge.take() {
            let _ = Cmd::new("ip").args(["link", "del", &bridge]).succeeds();
        }
    }
}
