//! Address management inside one IPv6 subnet, and the set of pools one
//! network hands addresses out of (its IPv4 subnets in order, and its
//! IPv6 subnet).

use crate::ipam::Allocator;
use crate::subnet6::Subnet6;
use crate::NetError;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Destinations routed on the host (`/proc/net/ipv6_route`), default
/// route and link-local/multicast ones excluded.
pub fn host_routes6() -> Vec<Subnet6> {
    std::fs::read_to_string("/proc/net/ipv6_route").map(|t| parse_ipv6_route(&t)).unwrap_or_default()
}

/// Parses `/proc/net/ipv6_route`: destination as 32 hex digits, then its
/// prefix length in hex.
pub fn parse_ipv6_route(text: &str) -> Vec<Subnet6> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(dst), Some(len)) = (f.next(), f.next()) else { continue };
        let (Ok(dst), Ok(len)) = (u128::from_str_radix(dst, 16), u8::from_str_radix(len, 16)) else { continue };
        if len == 0 || len > 128 {
            continue;
        }
        if let Ok(s) = Subnet6::new(Ipv6Addr::from(dst), len) {
            if s.reserved_block().is_none() {
                out.push(s);
            }
        }
    }
    out
}

/// One IPv6 subnet's plan and its leases.
#[derive(Debug, Clone)]
pub struct Allocator6 {
    subnet: Subnet6,
    range: Subnet6,
    gateway: Ipv6Addr,
    used: BTreeSet<Ipv6Addr>,
    /// Offset in `range` after the last dynamic lease (no immediate reuse).
    next: u128,
}

impl Allocator6 {
    /// Checks the plan and picks the gateway: the given one or `::1`.
    pub fn new(subnet: Subnet6, range: Option<Subnet6>, gateway: Option<Ipv6Addr>) -> Result<Allocator6, NetError> {
        if subnet.prefix() > 126 {
            return Err(NetError::Invalid(format!("subnet {subnet} is too small for a network")));
        }
        let range = match range {
            Some(r) if r.prefix() < subnet.prefix() || !subnet.contains(r.network()) => {
                return Err(NetError::Invalid(format!("invalid ip-range {r}: it must be inside subnet {subnet}")))
            }
            Some(r) => r,
            None => subnet,
        };
        let gateway = match gateway {
            Some(g) if !subnet.contains(g) || g == subnet.network() => {
                return Err(NetError::Invalid(format!("invalid gateway {g}: it must be a host address of subnet {subnet}")))
            }
            Some(g) => g,
            None => subnet.nth(1).ok_or(NetError::BadSubnet(subnet.to_string()))?,
        };
        Ok(Allocator6 { subnet, range, gateway, used: BTreeSet::new(), next: 0 })
    }

    pub fn subnet(&self) -> Subnet6 {
        self.subnet
    }
    pub fn gateway(&self) -> Ipv6Addr {
        self.gateway
    }
    pub fn range(&self) -> Option<Subnet6> {
        (self.range != self.subnet).then_some(self.range)
    }

    fn usable(&self, ip: Ipv6Addr) -> bool {
        ip != self.gateway && ip != self.subnet.network() && !self.used.contains(&ip)
    }

    pub fn claim(&mut self, ip: Ipv6Addr) -> Result<(), NetError> {
        if !self.subnet.contains(ip) {
            return Err(NetError::Invalid(format!(
                "invalid endpoint settings:\nuser specified IP address {ip} is not in any configured subnet"
            )));
        }
        if !self.usable(ip) {
            return Err(NetError::AddressInUse);
        }
        self.used.insert(ip);
        Ok(())
    }

    /// The next free address in the range. At most `used + 2` addresses
    /// are not usable, so the search is bounded even in a /64.
    pub fn allocate(&mut self) -> Result<Ipv6Addr, NetError> {
        let n = self.range.size();
        let tries = (self.used.len() as u128 + 3).min(n);
        for i in 0..tries {
            let off = self.next.wrapping_add(i) % n;
            let Some(ip) = self.range.nth(off) else { continue };
            if self.usable(ip) {
                self.used.insert(ip);
                self.next = off.wrapping_add(1);
                return Ok(ip);
            }
        }
        Err(NetError::Exhausted(self.subnet.to_string()))
    }

    pub fn release(&mut self, ip: Ipv6Addr) {
        self.used.remove(&ip);
    }
}

/// A network's pools: IPv4 subnets in the order given, then its IPv6 one.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    pub v4: Vec<Allocator>,
    pub v6: Option<Allocator6>,
}

/// An IPv4 lease and the pool it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease4 {
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
}

/// An IPv6 lease and the pool it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease6 {
    pub ip: Ipv6Addr,
    pub prefix: u8,
    pub gateway: Ipv6Addr,
}

impl Pools {
    fn lease4(a: &Allocator, ip: Ipv4Addr) -> Lease4 {
        Lease4 { ip, prefix: a.subnet().prefix(), gateway: a.gateway() }
    }

    /// A given IPv4 address, from whichever subnet holds it.
    pub fn claim4(&mut self, ip: Ipv4Addr) -> Result<Lease4, NetError> {
        match self.v4.iter_mut().find(|a| a.subnet().contains(ip)) {
            Some(a) => a.claim(ip).map(|_| Self::lease4(a, ip)),
            None => Err(NetError::Invalid(format!(
                "invalid endpoint settings:\nuser specified IP address {ip} is not in any configured subnet"
            ))),
        }
    }

    /// The next free IPv4 address of the first subnet that has one (as
    /// dockerd goes through a network's pools in order).
    pub fn allocate4(&mut self) -> Result<Lease4, NetError> {
        let mut last = NetError::Exhausted(String::new());
        for a in &mut self.v4 {
            match a.allocate() {
                Ok(ip) => return Ok(Self::lease4(a, ip)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    pub fn claim6(&mut self, ip: Ipv6Addr) -> Result<Lease6, NetError> {
        let a = self.v6.as_mut().ok_or_else(|| {
            NetError::Invalid(format!("invalid endpoint settings:\nuser specified IP address {ip} is not in any configured subnet"))
        })?;
        a.claim(ip)?;
        Ok(Lease6 { ip, prefix: a.subnet().prefix(), gateway: a.gateway() })
    }

    /// An IPv6 lease when the network has IPv6, else None.
    pub fn allocate6(&mut self) -> Result<Option<Lease6>, NetError> {
        let Some(a) = self.v6.as_mut() else { return Ok(None) };
        let ip = a.allocate()?;
        Ok(Some(Lease6 { ip, prefix: a.subnet().prefix(), gateway: a.gateway() }))
    }

    pub fn release4(&mut self, ip: Ipv4Addr) {
        if let Some(a) = self.v4.iter_mut().find(|a| a.subnet().contains(ip)) {
            a.release(ip);
        }
    }

    pub fn release6(&mut self, ip: Ipv6Addr) {
        if let Some(a) = self.v6.as_mut() {
            a.release(ip);
        }
    }

    pub fn release(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => self.release4(a),
            IpAddr::V6(a) => self.release6(a),
        }
    }

    /// Takes an address out of allocation for good (an auxiliary address),
    /// checking that one of the network's subnets holds it.
    pub fn reserve(&mut self, ip: IpAddr) -> Result<(), NetError> {
        let res = match ip {
            IpAddr::V4(a) => self.claim4(a).map(|_| ()),
            IpAddr::V6(a) => self.claim6(a).map(|_| ()),
        };
        match res {
            Err(NetError::Invalid(_)) => Err(NetError::Invalid(format!("auxiliary address {ip} is not in any subnet of the network"))),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subnet::Subnet;

    fn n6(s: &str) -> Subnet6 {
        Subnet6::parse(s, false).unwrap()
    }

    #[test]
    fn v6_sequential_unique_bounded() {
        let mut a = Allocator6::new(n6("2001:db8:1::/64"), None, None).unwrap();
        assert_eq!(a.gateway(), "2001:db8:1::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(a.allocate().unwrap(), "2001:db8:1::2".parse::<Ipv6Addr>().unwrap());
        a.claim("2001:db8:1::3".parse().unwrap()).unwrap();
        assert_eq!(a.allocate().unwrap(), "2001:db8:1::4".parse::<Ipv6Addr>().unwrap());
        assert!(matches!(a.claim("2001:db8:1::1".parse().unwrap()), Err(NetError::AddressInUse)));
        assert!(a.claim("2001:db8:2::1".parse().unwrap()).is_err());
        let mut tiny = Allocator6::new(n6("fd00::/126"), None, None).unwrap();
        assert_eq!(tiny.allocate().unwrap(), "fd00::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(tiny.allocate().unwrap(), "fd00::3".parse::<Ipv6Addr>().unwrap());
        assert!(matches!(tiny.allocate(), Err(NetError::Exhausted(_))));
    }

    #[test]
    fn ipv6_route_parsing() {
        let t = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n\
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n\
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n\
junk\n";
        assert_eq!(parse_ipv6_route(t), vec![n6("fd00::/64")]);
    }

    #[test]
    fn v6_range_and_gateway() {
        let g: Ipv6Addr = "2001:db8::ffff".parse().unwrap();
        let mut a = Allocator6::new(n6("2001:db8::/64"), Some(n6("2001:db8::/96")), Some(g)).unwrap();
        assert_eq!(a.gateway(), g);
        assert_eq!(a.allocate().unwrap(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert!(Allocator6::new(n6("2001:db8::/64"), Some(n6("2001:db9::/96")), None).is_err());
        assert!(Allocator6::new(n6("2001:db8::/64"), None, Some("2001:db9::1".parse().unwrap())).is_err());
    }

    #[test]
    fn first_v4_pool_with_space() {
        let s1 = Subnet::parse("10.9.0.0/30", false).unwrap();
        let s2 = Subnet::parse("10.9.1.0/24", false).unwrap();
        let mut p = Pools { v4: vec![Allocator::new(s1, None, None).unwrap(), Allocator::new(s2, None, None).unwrap()], v6: None };
        assert_eq!(p.allocate4().unwrap().ip, Ipv4Addr::new(10, 9, 0, 2));
        let l = p.allocate4().unwrap();
        assert_eq!((l.ip, l.prefix, l.gateway), (Ipv4Addr::new(10, 9, 1, 2), 24, Ipv4Addr::new(10, 9, 1, 1)));
        assert_eq!(p.claim4(Ipv4Addr::new(10, 9, 1, 9)).unwrap().gateway, Ipv4Addr::new(10, 9, 1, 1));
        assert!(p.claim4(Ipv4Addr::new(10, 9, 2, 9)).is_err());
        assert!(p.claim6("fd00::5".parse().unwrap()).is_err());
        assert_eq!(p.allocate6().unwrap(), None);
        p.release4(Ipv4Addr::new(10, 9, 0, 2));
        // The first pool has room again.
        assert_eq!(p.allocate4().unwrap().ip, Ipv4Addr::new(10, 9, 0, 2));
    }
}
