//! IPv4 subnets: parsing, containment, overlap, host addresses.

use crate::NetError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network `addr/prefix`, with the host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    base: u32,
    prefix: u8,
}

impl Subnet {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Subnet, NetError> {
        if prefix > 32 {
            return Err(NetError::BadSubnet(format!("{addr}/{prefix}")));
        }
        Ok(Subnet { base: u32::from(addr) & mask(prefix), prefix })
    }

    /// Parses `a.b.c.d/n`; `strict` refuses host bits (as `--subnet` does).
    pub fn parse(s: &str, strict: bool) -> Result<Subnet, NetError> {
        let bad = || NetError::BadSubnet(s.to_string());
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr = Ipv4Addr::from_str(a).map_err(|_| bad())?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        let n = Subnet::new(addr, prefix).map_err(|_| bad())?;
        if strict && u32::from(addr) != n.base {
            return Err(NetError::Invalid(format!("invalid subnet {s}: it should be {n}")));
        }
        Ok(n)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base)
    }
    /// Number of addresses, including network and broadcast.
    pub fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == self.base
    }
    pub fn overlaps(&self, o: &Subnet) -> bool {
        let p = self.prefix.min(o.prefix);
        self.base & mask(p) == o.base & mask(p)
    }
    /// The `n`th address of the subnet (0 = network address).
    pub fn nth(&self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(self.base + n as u32))
    }
    /// Offset of `ip` in the subnet.
    pub fn offset(&self, ip: Ipv4Addr) -> Option<u64> {
        self.contains(ip).then(|| u64::from(u32::from(ip) - self.base))
    }
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base | !mask(self.prefix))
    }

    /// The special-purpose block this subnet overlaps, if any: addresses a
    /// bridge must never take (routing them to a bridge, with NAT, would
    /// capture the host's loopback, link-local or multicast traffic).
    pub fn reserved_block(&self) -> Option<&'static str> {
        const BLOCKS: [([u8; 4], u8, &str); 5] = [
            ([0, 0, 0, 0], 8, "0.0.0.0/8 (this network)"),
            ([127, 0, 0, 0], 8, "127.0.0.0/8 (loopback)"),
            ([169, 254, 0, 0], 16, "169.254.0.0/16 (link-local)"),
            ([224, 0, 0, 0], 4, "224.0.0.0/4 (multicast)"),
            ([240, 0, 0, 0], 4, "240.0.0.0/4 (reserved, broadcast)"),
        ];
        BLOCKS.iter().find_map(|(a, p, name)| {
            let block = Subnet { base: u32::from(Ipv4Addr::from(*a)), prefix: *p };
            self.overlaps(&block).then_some(*name)
        })
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

impl TryFrom<String> for Subnet {
    type Error = NetError;
    fn try_from(s: String) -> Result<Subnet, NetError> {
        Subnet::parse(&s, false)
    }
}

impl From<Subnet> for String {
    fn from(s: Subnet) -> String {
        s.to_string()
    }
}

/// Parses a plain IPv4 address with a clear error.
pub fn parse_ip(s: &str) -> Result<Ipv4Addr, NetError> {
    Ipv4Addr::from_str(s).map_err(|_| NetError::BadAddress(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let s = Subnet::parse("172.18.0.0/16", true).unwrap();
        assert_eq!(s.to_string(), "172.18.0.0/16");
        assert_eq!(s.size(), 65536);
        assert_eq!(s.nth(1), Some(Ipv4Addr::new(172, 18, 0, 1)));
        assert_eq!(s.broadcast(), Ipv4Addr::new(172, 18, 255, 255));
        assert_eq!(Subnet::parse("10.1.2.3/8", false).unwrap().to_string(), "10.0.0.0/8");
    }

    #[test]
    fn hostile_input_is_refused() {
        for bad in ["", "/", "1.2.3.4", "1.2.3.4/", "1.2.3.4/33", "1.2.3/8", "1.2.3.4/-1", "1.2.3.4/+8", "x/8", "1.2.3.4/008", "1.2.3.4/8/8"] {
            assert!(Subnet::parse(bad, false).is_err(), "{bad}");
        }
        assert!(Subnet::parse("10.1.0.0/8", true).is_err());
        assert!(parse_ip("300.1.1.1").is_err());
    }

    #[test]
    fn overlap_and_contains() {
        let a = Subnet::parse("172.18.0.0/16", true).unwrap();
        let b = Subnet::parse("172.18.5.0/24", true).unwrap();
        let c = Subnet::parse("172.19.0.0/16", true).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert!(a.contains(Ipv4Addr::new(172, 18, 9, 9)));
        assert!(!c.contains(Ipv4Addr::new(172, 18, 9, 9)));
        let all = Subnet::parse("0.0.0.0/0", true).unwrap();
        assert!(all.overlaps(&a));
        assert_eq!(all.nth(1 << 32), None);
    }

    #[test]
    fn reserved_blocks() {
        let r = |s: &str| Subnet::parse(s, false).map(|n| n.reserved_block()).ok().flatten();
        assert_eq!(r("127.0.0.0/8"), Some("127.0.0.0/8 (loopback)"));
        assert_eq!(r("127.5.0.0/16"), Some("127.0.0.0/8 (loopback)"));
        assert_eq!(r("169.254.10.0/24"), Some("169.254.0.0/16 (link-local)"));
        assert_eq!(r("230.0.0.0/8"), Some("224.0.0.0/4 (multicast)"));
        assert_eq!(r("0.0.0.0/0"), Some("0.0.0.0/8 (this network)"));
        assert_eq!(r("10.231.0.0/24"), None);
        assert_eq!(r("172.17.0.0/16"), None);
    }

}
