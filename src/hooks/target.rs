//! Where deliveries may go. An endpoint's URL is `http` or `https`; its host's addresses are
//! checked after DNS resolution, and the connection goes to an address that was checked (the
//! resolver below is the HTTP client's only resolver), so a name that resolves to an internal
//! address, or changes between a check and the connection, cannot reach inside the network.
//! Refused unless `WEBHOOK_ALLOW_PRIVATE`: loopback, private, shared (carrier-grade NAT),
//! link-local (which holds the cloud metadata address 169.254.169.254), unspecified, multicast,
//! broadcast and reserved addresses, and their IPv6 forms (unique local `fc00::/7`, which holds
//! `fd00:ec2::254`; IPv4-mapped and NAT64 addresses are judged by the IPv4 address inside).

use std::{
    error::Error,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// True when `ip` is an ordinary public address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    let first = segments[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (segments[..6] == [0, 0, 0, 0, 0, 0]))
}

/// Whether `url` can be an endpoint: an absolute `http` or `https` URL with a host, no user
/// name or password, and, when its host is an address, one deliveries may go to. The fault in
/// plain words otherwise.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not an absolute URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("has the scheme `{}`", parsed.scheme()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("holds a user name or password".into());
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err("has no host".into());
    };
    let Some(ip) = literal_ip(host) else {
        return Ok(());
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(format!(
            "names the address {ip}, which is loopback, private, link-local or reserved"
        ))
    }
}

/// The address a URL's host is, if it is one (`[::1]` included): such a host is never resolved.
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// Why a delivery was not sent: the endpoint's host has no address it may be sent to.
#[derive(Debug, thiserror::Error)]
#[error("refused: {host} resolves only to loopback, private, link-local or reserved addresses ({addresses}); set WEBHOOK_ALLOW_PRIVATE=true to allow them")]
pub struct Refused {
    host: String,
    addresses: String,
}

impl Refused {
    /// The refusal of `host`, which resolved to `addresses`.
    pub fn new(host: &str, addresses: &[IpAddr]) -> Self {
        let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        Refused {
            host: host.to_owned(),
            addresses: list.join(", "),
        }
    }
}

/// The HTTP client's resolver: the system's, keeping only the addresses deliveries may go to.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// Keep every address (`WEBHOOK_ALLOW_PRIVATE`).
    pub allow_private: bool,
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                let ips: Vec<IpAddr> = found.iter().map(SocketAddr::ip).collect();
                return Err(Box::new(Refused::new(&host, &ips)) as Box<dyn Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
