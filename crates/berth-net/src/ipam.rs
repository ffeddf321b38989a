//! Address management: choosing a free pool for a new network, and handing
//! out addresses inside one network (never the same one twice).

use crate::subnet::Subnet;
use crate::NetError;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Docker's default local pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s.
pub fn default_pools() -> impl Iterator<Item = Subnet> {
    let big = (17..=31u8).filter_map(|b| Subnet::new(Ipv4Addr::new(172, b, 0, 0), 16).ok());
    let small = (0..16u8).filter_map(|i| Subnet::new(Ipv4Addr::new(192, 168, i * 16, 0), 20).ok());
    big.chain(small)
}


/// Destinations routed on the host (`/proc/net/route`), default route excluded.
pub fn host_routes() -> Vec<Subnet> {
    std::fs::read_to_string("/proc/net/route").map(|t| parse_proc_route(&t)).unwrap_or_default()
}

/// Parses `/proc/net/route`: hex, host byte order (little endian on the
/// machines we run on, as the kernel prints the raw `__be32` as `%08X`).
pub fn parse_proc_route(text: &str) -> Vec<Subnet> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let (Ok(dst), Ok(mask)) = (u32::from_str_radix(f[1], 16), u32::from_str_radix(f[7], 16)) else { continue };
        let dst = Ipv4Addr::from(u32::from_be(dst.to_le()));
        let mask = u32::from_be(mask.to_le());
        if mask == 0 || mask.leading_ones() + mask.trailing_zeros() != 32 {
            continue;
        }
        if let Ok(s) = Subnet::new(dst, mask.leading_ones() as u8) {
            out.push(s);
        }
    }
    out
}

/// One network's address plan and its leases.
#[derive(Debug, Clone)]
pub struct Allocator {
    subnet: Subnet,
    /// Where dynamic addresses come from (`--ip-range`), else the subnet.
    range: Subnet,
    gateway: Ipv4Addr,
    used: BTreeSet<Ipv4Addr>,
    /// Offset in `range` after the last dynamic lease: addresses are handed
    /// out in order, so a freed one is not reused at once (as in Docker).
    next: u64,
}

impl Allocator {
    /// Checks the plan (`--gateway` and `--ip-range` inside the subnet) and
    /// picks the gateway: the given one or the subnet's first address.
    pub fn new(subnet: Subnet, range: Option<Subnet>, gateway: Option<Ipv4Addr>) -> Result<Allocator, NetError> {
        if subnet.prefix() > 30 {
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
            Some(g) if !subnet.contains(g) || g == subnet.network() || g == subnet.broadcast() => {
                return Err(NetError::Invalid(format!("invalid gateway {g}: it must be a host address of subnet {subnet}")))
            }
            Some(g) => g,
            None => subnet.nth(1).ok_or(NetError::BadSubnet(subnet.to_string()))?,
        };
        Ok(Allocator { subnet, range, gateway, used: BTreeSet::new(), next: 0 })
    }

    pub fn subnet(&self) -> Subnet {
        self.subnet
    }
    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }
    pub fn range(&self) -> Option<Subnet> {
        (self.range != self.subnet).then_some(self.range)
    }

    fn usable(&self, ip: Ipv4Addr) -> bool {
        ip != self.gateway && ip != self.subnet.network() && ip != self.subnet.broadcast() && !self.used.contains(&ip)
    }

    /// A specific address (`--ip`, or a lease restored from a record).
    pub fn claim(&mut self, ip: Ipv4Addr) -> Result<(), NetError> {
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

    /// The next free address in the range.
    pub fn allocate(&mut self) -> Result<Ipv4Addr, NetError> {
        let n = self.range.size();
        for i in 0..n {
            let off = (self.next + i) % n;
            let Some(ip) = self.range.nth(off) else { continue };
            if self.subnet.contains(ip) && self.usable(ip) {
                self.used.insert(ip);
                self.next = off + 1;
                return Ok(ip);
            }
        }
        Err(NetError::Exhausted(self.subnet.to_string()))
    }

    pub fn release(&mut self, ip: Ipv4Addr) {
        self.used.remove(&ip);
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Subnet {
        Subnet::parse(s, false).unwrap()
    }

    #[test]
    fn pools_skip_taken_and_routed() {
        assert_eq!(crate::pools::choose_from(&[], &[]).unwrap(), net("172.17.0.0/16"));
        assert_eq!(crate::pools::choose_from(&[], &[net("172.17.0.0/16"), net("172.18.3.0/24")]).unwrap(), net("172.19.0.0/16"));
        let all: Vec<Subnet> = vec![net("172.16.0.0/12"), net("192.168.0.0/16")];
        assert!(matches!(crate::pools::choose_from(&[], &all), Err(NetError::NoPool)));
        let mut almost = vec![net("172.16.0.0/12")];
        almost.push(net("192.168.0.0/20"));
        assert_eq!(crate::pools::choose_from(&[], &almost).unwrap(), net("192.168.16.0/20"));
    }

    #[test]
    fn proc_route_parsing() {
        let t = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
bad\tzz\n\
weird\t000011AC\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0\n";
        assert_eq!(parse_proc_route(t), vec![net("192.0.2.0/24"), net("172.17.0.0/16")]);
    }

    #[test]
    fn addresses_are_sequential_and_unique() {
        let mut a = Allocator::new(net("10.9.0.0/29"), None, None).unwrap();
        assert_eq!(a.gateway(), Ipv4Addr::new(10, 9, 0, 1));
        let got: Vec<_> = (0..5).map(|_| a.allocate().unwrap()).collect();
        assert_eq!(got[0], Ipv4Addr::new(10, 9, 0, 2));
        assert_eq!(got[4], Ipv4Addr::new(10, 9, 0, 6));
        assert!(matches!(a.allocate(), Err(NetError::Exhausted(_))));
        a.release(got[1]);
        assert_eq!(a.allocate().unwrap(), got[1]);
        assert!(matches!(a.claim(got[0]), Err(NetError::AddressInUse)));
        assert!(a.claim(Ipv4Addr::new(10, 9, 0, 1)).is_err());
        assert!(a.claim(Ipv4Addr::new(10, 8, 0, 1)).is_err());
    }

    #[test]
    fn freed_address_is_not_reused_at_once() {
        let mut a = Allocator::new(net("10.9.0.0/24"), None, None).unwrap();
        let x = a.allocate().unwrap();
        a.release(x);
        assert_ne!(a.allocate().unwrap(), x);
    }

    #[test]
    fn ip_range_and_gateway() {
        let mut a = Allocator::new(net("10.9.0.0/16"), Some(net("10.9.5.0/24")), Some(Ipv4Addr::new(10, 9, 0, 254))).unwrap();
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 9, 5, 0));
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 9, 5, 1));
        // --ip outside the range but inside the subnet is fine.
        a.claim(Ipv4Addr::new(10, 9, 7, 7)).unwrap();
        assert!(Allocator::new(net("10.9.0.0/16"), Some(net("10.10.0.0/24")), None).is_err());
        assert!(Allocator::new(net("10.9.0.0/16"), Some(net("10.0.0.0/8")), None).is_err());
        assert!(Allocator::new(net("10.9.0.0/16"), None, Some(Ipv4Addr::new(10, 8, 0, 1))).is_err());
        assert!(Allocator::new(net("10.9.0.0/16"), None, Some(Ipv4Addr::new(10, 9, 0, 0))).is_err());
        assert!(Allocator::new(net("10.9.0.0/31"), None, None).is_err());
    }
}
