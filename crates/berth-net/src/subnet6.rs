//! IPv6 subnets: parsing, containment, overlap, host addresses. The IPv4
//! twin is subnet.rs; the arithmetic here is over u128.

use crate::NetError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// An IPv6 network `addr/prefix`, with the host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet6 {
    base: u128,
    prefix: u8,
}

fn mask(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

impl Subnet6 {
    pub fn new(addr: Ipv6Addr, prefix: u8) -> Result<Subnet6, NetError> {
        if prefix > 128 {
            return Err(NetError::BadSubnet(format!("{addr}/{prefix}")));
        }
        Ok(Subnet6 { base: u128::from(addr) & mask(prefix), prefix })
    }

    /// Parses `addr/n`; `strict` refuses host bits (as `--subnet` does).
    pub fn parse(s: &str, strict: bool) -> Result<Subnet6, NetError> {
        let bad = || NetError::BadSubnet(s.to_string());
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr = Ipv6Addr::from_str(a).map_err(|_| bad())?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0')) {
            return Err(bad());
        }
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        let n = Subnet6::new(addr, prefix).map_err(|_| bad())?;
        if strict && u128::from(addr) != n.base {
            return Err(NetError::Invalid(format!("invalid subnet {s}: it should be {n}")));
        }
        Ok(n)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }
    pub fn network(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.base)
    }
    /// Number of addresses, saturating at u128::MAX for a /0.
    pub fn size(&self) -> u128 {
        if self.prefix == 0 {
            u128::MAX
        } else {
            1u128 << (128 - u32::from(self.prefix))
        }
    }
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & mask(self.prefix) == self.base
    }
    pub fn overlaps(&self, o: &Subnet6) -> bool {
        let p = self.prefix.min(o.prefix);
        self.base & mask(p) == o.base & mask(p)
    }
    /// The `n`th address of the subnet (0 = the subnet-router anycast address).
    pub fn nth(&self, n: u128) -> Option<Ipv6Addr> {
        (n < self.size()).then(|| Ipv6Addr::from(self.base | n))
    }

    /// The special-purpose block this subnet overlaps, if any (a bridge
    /// must never route loopback, link-local or multicast addresses).
    pub fn reserved_block(&self) -> Option<&'static str> {
        const BLOCKS: [(u128, u8, &str); 3] = [
            (0, 8, "::/8 (unspecified, loopback, IPv4-mapped)"),
            (0xfe80 << 112, 10, "fe80::/10 (link-local)"),
            (0xff00 << 112, 8, "ff00::/8 (multicast)"),
        ];
        BLOCKS.iter().find_map(|(base, prefix, name)| self.overlaps(&Subnet6 { base: *base, prefix: *prefix }).then_some(*name))
    }
}

impl fmt::Display for Subnet6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

impl TryFrom<String> for Subnet6 {
    type Error = NetError;
    fn try_from(s: String) -> Result<Subnet6, NetError> {
        Subnet6::parse(&s, false)
    }
}

impl From<Subnet6> for String {
    fn from(s: Subnet6) -> String {
        s.to_string()
    }
}

/// Parses a plain IPv6 address with a clear error.
pub fn parse_ip6(s: &str) -> Result<Ipv6Addr, NetError> {
    Ipv6Addr::from_str(s).map_err(|_| NetError::BadAddress(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Subnet6 {
        Subnet6::parse(s, false).unwrap()
    }

    #[test]
    fn parse_and_display() {
        let s = Subnet6::parse("2001:db8:1::/64", true).unwrap();
        assert_eq!(s.to_string(), "2001:db8:1::/64");
        assert_eq!(s.nth(1), Some("2001:db8:1::1".parse().unwrap()));
        assert_eq!(s.size(), 1 << 64);
        assert_eq!(net("2001:db8:1::5/64").to_string(), "2001:db8:1::/64");
        assert!(Subnet6::parse("2001:db8:1::5/64", true).is_err());
        assert_eq!(net("::/0").size(), u128::MAX);
    }

    #[test]
    fn hostile_input_is_refused() {
        for bad in ["", "/", "2001:db8::", "2001:db8::/", "2001:db8::/129", "2001:db8::/064", "10.0.0.0/8", "x/64", "2001:db8::/-1", "2001:db8::/64/1"] {
            assert!(Subnet6::parse(bad, false).is_err(), "{bad}");
        }
        assert!(parse_ip6("2001:db8::g").is_err());
    }

    #[test]
    fn overlap_contains_reserved() {
        let a = net("fd00:1::/48");
        assert!(a.overlaps(&net("fd00:1:0:2::/64")));
        assert!(!a.overlaps(&net("fd00:2::/48")));
        assert!(a.contains("fd00:1::9".parse().unwrap()));
        assert!(!a.contains("fd00:2::9".parse().unwrap()));
        assert_eq!(net("fe80::/64").reserved_block(), Some("fe80::/10 (link-local)"));
        assert_eq!(net("ff02::/16").reserved_block(), Some("ff00::/8 (multicast)"));
        assert_eq!(net("::1/128").reserved_block(), Some("::/8 (unspecified, loopback, IPv4-mapped)"));
        assert_eq!(net("2001:db8::/32").reserved_block(), None);
    }
}
