//! The client's address: the socket peer's, or — only when the peer is a configured trusted
//! proxy — the one the proxies recorded in `X-Forwarded-For` or `Forwarded` (RFC 7239), read
//! from the right: the rightmost address that is not itself a trusted proxy. Entries to the
//! left of it were written by the client (or by proxies nobody vouches for) and are never
//! believed. From any other peer both headers are ignored.
//!
//! Also the key of per-address rate limits: an IPv4 address as is, an IPv6 address by its /64
//! (one subscriber's usual allocation, so rotating through the addresses of one network does
//! not earn a fresh bucket each time).

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// At most this many hops of a forwarding header are read, from the right; a longer chain
/// is cut (and its leftmost considered hop stands for the client).
pub const MAX_FORWARDED_HOPS: usize = 32;

/// The proxies whose forwarding headers are believed: a list of networks (CIDR), IPv4 and
/// IPv6. Empty (the default) believes no header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A trusted-proxy entry that is neither a CIDR network nor an address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a network (10.0.0.0/8, fd00::/8) or an address")]
pub struct InvalidNetwork(pub String);

impl TrustedProxies {
    /// No trusted proxy.
    #[must_use]
    pub const fn none() -> Self {
        Self(Vec::new())
    }

    /// Parses CIDR networks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses.
    ///
    /// # Errors
    /// The first entry that is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, InvalidNetwork> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidNetwork(entry.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client's address, given the socket peer and the request's headers.
#[must_use]
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let from_forwarded = forwarded_hops(headers, &axum::http::header::FORWARDED, forwarded_for)
        .map(|hops| resolve(peer, &hops, trusted));
    let from_xff = forwarded_hops(headers, &X_FORWARDED_FOR, x_forwarded_for)
        .map(|hops| resolve(peer, &hops, trusted));
    match (from_forwarded, from_xff) {
        (None, None) => peer,
        (Some(ip), None) | (None, Some(ip)) => ip,
        (Some(a), Some(b)) if a == b => a,
        // The two headers disagree: one of them came from the client through a proxy that
        // only writes the other, and nothing says which. The proxy's own address is the one
        // answer no client can choose.
        (Some(_), Some(_)) => peer,
    }
}

/// The rate-limit key of an address: IPv4 as is, IPv6 by its /64.
#[must_use]
pub fn limit_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1_u128 << 64) - 1);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// One hop of a forwarding chain: an address, or something else (`unknown`, an obfuscated
/// identifier, garbage) that names nobody.
type Hop = Option<IpAddr>;

/// Every hop of every `name` header, in order (several header lines are one list), keeping
/// the rightmost [`MAX_FORWARDED_HOPS`]; `None` when the header is absent.
fn forwarded_hops(
    headers: &HeaderMap,
    name: &HeaderName,
    parse_element: fn(&str) -> Hop,
) -> Option<Vec<Hop>> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let mut hops: Vec<Hop> = Vec::new();
    for value in values {
        // A value that is not visible ASCII names nobody, but still counts as a hop.
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(text.split(',').map(|element| parse_element(element.trim())));
        if hops.len() > 4 * MAX_FORWARDED_HOPS {
            hops.drain(..hops.len() - MAX_FORWARDED_HOPS);
        }
    }
    if hops.len() > MAX_FORWARDED_HOPS {
        hops.drain(..hops.len() - MAX_FORWARDED_HOPS);
    }
    Some(hops)
}

/// Walks the chain from the right: trusted proxies are skipped; the first other address is
/// the client. A hop that names nobody ends the walk at the proxy that wrote it.
fn resolve(peer: IpAddr, hops: &[Hop], trusted: &TrustedProxies) -> IpAddr {
    let mut last_trusted = peer;
    for hop in hops.iter().rev() {
        match hop.as_ref().map(IpAddr::to_canonical) {
            Some(ip) if trusted.contains(ip) => last_trusted = ip,
            Some(ip) => return ip,
            None => return last_trusted,
        }
    }
    // Every hop is a trusted proxy: the leftmost is where the request began.
    last_trusted
}

/// One `X-Forwarded-For` element: an address, perhaps with a port, IPv6 perhaps bracketed.
fn x_forwarded_for(element: &str) -> Hop {
    node_address(element)
}

/// The `for=` parameter of one `Forwarded` element (`for=192.0.2.60;proto=https`,
/// `for="[2001:db8::1]:4711"`); `None` without one, or when it names nobody.
fn forwarded_for(element: &str) -> Hop {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        node_address(value)
    })
}

/// An RFC 7239 node (or an `X-Forwarded-For` entry): `192.0.2.1`, `192.0.2.1:80`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`. `unknown` and obfuscated identifiers
/// (`_hidden`) name nobody.
fn node_address(node: &str) -> Hop {
    if node.len() > 64 {
        return None;
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.5";

    fn via_proxy(pairs: &[(&str, &str)]) -> IpAddr {
        client_ip(ip(PROXY), &headers(pairs), &trusted(&["10.0.0.0/8"]))
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        assert_eq!(
            client_ip(ip("198.51.100.7"), &h, &trusted(&["10.0.0.0/8"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("198.51.100.7"), &h, &TrustedProxies::none()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_and_spoofed_leftmost_entries_are_not() {
        // The client wrote "1.1.1.1, 2.2.2.2" itself; the proxy appended the real peer.
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "1.1.1.1, 2.2.2.2, 198.51.100.7")]),
            ip("198.51.100.7")
        );
        // Two trusted proxies in a row are walked past.
        assert_eq!(
            via_proxy(&[(
                "x-forwarded-for",
                "6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"
            )]),
            ip("198.51.100.7")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            via_proxy(&[
                ("x-forwarded-for", "6.6.6.6"),
                ("x-forwarded-for", "198.51.100.7")
            ]),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(via_proxy(&[]), ip(PROXY));
        // Every hop trusted: the leftmost is where the request began.
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn garbage_unknown_and_obfuscated_hops_name_nobody() {
        for header in [
            "not an address",
            "unknown",
            "",
            "1.2.3.4.5",
            "::::::1",
            "' OR 1=1 --",
        ] {
            assert_eq!(
                via_proxy(&[("x-forwarded-for", header)]),
                ip(PROXY),
                "{header:?}"
            );
        }
        // Garbage to the left of the real client changes nothing.
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "garbage, 198.51.100.7")]),
            ip("198.51.100.7")
        );
        // Garbage written by a trusted hop stops the walk at that hop.
        assert_eq!(
            via_proxy(&[("x-forwarded-for", "198.51.100.7, unknown, 10.1.1.1")]),
            ip("10.1.1.1")
        );
        assert_eq!(
            via_proxy(&[("forwarded", "for=_hidden, for=unknown")]),
            ip(PROXY)
        );
        // A header value that is not ASCII is one hop naming nobody.
        let mut h = HeaderMap::new();
        h.append(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"\xff\xfe 1.2.3.4").unwrap(),
        );
        assert_eq!(
            client_ip(ip(PROXY), &h, &trusted(&["10.0.0.0/8"])),
            ip(PROXY)
        );
    }

    #[test]
    fn very_long_chains_are_cut_to_their_rightmost_hops() {
        let mut chain: Vec<String> = (0..10_000)
            .map(|i| format!("10.0.{}.{}", i / 250, i % 250))
            .collect();
        chain[0] = "6.6.6.6".to_owned();
        assert_eq!(
            via_proxy(&[("x-forwarded-for", &chain.join(", "))]),
            ip(&chain[chain.len() - MAX_FORWARDED_HOPS]),
            "the client's spoofed first hop is out of reach"
        );
        let lines: Vec<(&str, &str)> = chain
            .iter()
            .map(|hop| ("x-forwarded-for", hop.as_str()))
            .collect();
        assert_eq!(
            via_proxy(&lines),
            ip(&chain[chain.len() - MAX_FORWARDED_HOPS])
        );
    }

    #[test]
    fn forwarded_elements_with_ports_quotes_and_ipv6_are_read() {
        let cases = [
            ("for=198.51.100.7", "198.51.100.7"),
            ("For=\"198.51.100.7:4711\"", "198.51.100.7"),
            ("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            ("for=\"[2001:db8:cafe::17]\"", "2001:db8:cafe::17"),
            ("for=198.51.100.7;proto=https;by=10.0.0.5", "198.51.100.7"),
            ("proto=https; for=198.51.100.7", "198.51.100.7"),
            ("for=6.6.6.6, for=198.51.100.7", "198.51.100.7"),
            ("for=\"::ffff:198.51.100.7\"", "198.51.100.7"),
        ];
        for (header, client) in cases {
            assert_eq!(via_proxy(&[("forwarded", header)]), ip(client), "{header}");
        }
    }

    #[test]
    fn x_forwarded_for_entries_with_ports_and_ipv6_are_read() {
        for (header, client) in [
            ("198.51.100.7:5555", "198.51.100.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("  198.51.100.7  ", "198.51.100.7"),
        ] {
            assert_eq!(
                via_proxy(&[("x-forwarded-for", header)]),
                ip(client),
                "{header}"
            );
        }
    }

    #[test]
    fn both_headers_must_agree_or_the_proxy_itself_is_the_client() {
        assert_eq!(
            via_proxy(&[
                ("x-forwarded-for", "198.51.100.7"),
                ("forwarded", "for=198.51.100.7")
            ]),
            ip("198.51.100.7")
        );
        // The proxy writes one; the client forged the other.
        assert_eq!(
            via_proxy(&[
                ("x-forwarded-for", "198.51.100.7"),
                ("forwarded", "for=6.6.6.6")
            ]),
            ip(PROXY)
        );
    }

    #[test]
    fn ipv4_mapped_peers_are_ipv4_and_networks_match_either_form() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.5"), &h, &trusted(&["10.0.0.0/8"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("::ffff:198.51.100.7"), &h, &TrustedProxies::none()),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("fd00::1"), &h, &trusted(&["fd00::/8"])),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn networks_and_single_addresses_parse_and_garbage_is_named() {
        let t = trusted(&[
            "10.0.0.0/8",
            " 192.0.2.1 ",
            "2001:db8::/32",
            "::1",
            "10.1.2.3/8",
        ]);
        assert!(t.contains(ip("10.200.0.1")));
        assert!(t.contains(ip("192.0.2.1")));
        assert!(!t.contains(ip("192.0.2.2")));
        assert!(t.contains(ip("2001:db8:ffff::1")));
        assert!(t.contains(ip("::1")));
        assert!(!t.contains(ip("2001:db9::1")));
        for bad in ["10.0.0.0/33", "localhost", "", "10.0.0.0/", "fd00::/129"] {
            assert_eq!(
                TrustedProxies::parse(&[bad]),
                Err(InvalidNetwork(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ipv6_addresses_share_a_limit_key_per_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            "2001:db8:1:2::/64"
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:3::1")),
            limit_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(limit_key(ip("198.51.100.7")), "198.51.100.7");
        assert_eq!(limit_key(ip("::ffff:198.51.100.7")), "198.51.100.7");
    }
}
