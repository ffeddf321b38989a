//! A network's address plan: its IPv4 subnets (one or more), its IPv6
//! subnet, gateways, ranges and auxiliary addresses, from the create
//! request to the record, and from the record to the allocators.

use super::manage::CreateSpec;
use super::record::{NetworkRecord, Pool4, Pool6};
use berth_net::ipam::Allocator;
use berth_net::pools::{choose_from, AddressPool};
use berth_net::ipam6::{Allocator6, Pools};
use berth_net::subnet::parse_ip;
use berth_net::subnet6::parse_ip6;
use berth_net::{NetError, Subnet, Subnet6};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The request, parsed: each family's subnets with what goes with them.
#[derive(Debug, Default)]
pub struct Plan {
    v4: Vec<(Subnet, Option<Ipv4Addr>, Option<Subnet>)>,
    v6: Option<(Subnet6, Option<Ipv6Addr>, Option<Subnet6>)>,
    enable_ipv6: bool,
    /// subnet → (name → address)
    aux: BTreeMap<String, BTreeMap<String, IpAddr>>,
}

fn invalid(msg: String) -> NetError {
    NetError::Invalid(msg)
}

/// Parses `IPAM.Config`. An IPv6 subnet turns IPv6 on (berth's choice:
/// a v6 subnet that hands out no v6 address would be a silent no-op).
pub fn plan(spec: &CreateSpec) -> Result<Plan, NetError> {
    let mut p = Plan { enable_ipv6: spec.enable_ipv6, ..Default::default() };
    for c in &spec.pools {
        let Some(subnet) = c.subnet.as_deref() else {
            if c.gateway.is_some() || c.ip_range.is_some() || !c.aux.is_empty() {
                return Err(invalid("ip-range, gateway and aux-address need a subnet (--subnet)".into()));
            }
            continue;
        };
        let mut aux = BTreeMap::new();
        if subnet.contains(':') {
            let s = Subnet6::parse(subnet, false)?;
            let gw = c.gateway.as_deref().map(|g| parse_ip6(g).map_err(|_| invalid(format!("invalid gateway {g} for IPv6 subnet {s}")))).transpose()?;
            let range = c.ip_range.as_deref().map(|r| Subnet6::parse(r, false)).transpose()?;
            for (k, v) in &c.aux {
                let ip = parse_ip6(v).map_err(|_| invalid(format!("invalid auxiliary address {k}={v} for IPv6 subnet {s}")))?;
                aux.insert(k.clone(), IpAddr::from(ip));
            }
            if p.v6.is_some() {
                return Err(invalid("berth does not support more than one IPv6 subnet per network yet".into()));
            }
            p.v6 = Some((s, gw, range));
            p.enable_ipv6 = true;
            p.aux.insert(s.to_string(), aux);
        } else {
            let s = Subnet::parse(subnet, false)?;
            let gw = c.gateway.as_deref().map(|g| parse_ip(g).map_err(|_| invalid(format!("invalid gateway {g} for IPv4 subnet {s}")))).transpose()?;
            let range = c.ip_range.as_deref().map(|r| Subnet::parse(r, false)).transpose()?;
            for (k, v) in &c.aux {
                let ip = parse_ip(v).map_err(|_| invalid(format!("invalid auxiliary address {k}={v} for IPv4 subnet {s}")))?;
                aux.insert(k.clone(), IpAddr::from(ip));
            }
            if p.v4.iter().any(|(o, _, _)| o.overlaps(&s)) {
                return Err(NetError::Overlap);
            }
            p.v4.push((s, gw, range));
            p.aux.insert(s.to_string(), aux);
        }
    }
    Ok(p)
}

/// A unique-local /64 for `--ipv6` without a subnet, its global ID taken
/// from the network ID (as dockerd 27+ picks one in fd00::/8).
fn ula_for(id: &str, taken: &[Subnet6]) -> Result<Subnet6, NetError> {
    let hex: Vec<u8> = id.bytes().filter_map(|b| (b as char).to_digit(16)).map(|d| d as u8).collect();
    for start in 0..hex.len().saturating_sub(10) {
        let global = hex[start..start + 10].iter().fold(0u128, |acc, d| (acc << 4) | u128::from(*d));
        let base = (0xfdu128 << 120) | (global << 80);
        let s = Subnet6::new(Ipv6Addr::from(base), 64)?;
        if !taken.iter().any(|t| t.overlaps(&s)) {
            return Ok(s);
        }
    }
    Err(invalid("could not find an available IPv6 address pool for the network".into()))
}

/// Checks the plan against the other networks and fills in what was not
/// given (an IPv4 pool, a ULA subnet, gateways); returns a record with the
/// addressing fields set.
/// `host_routes` and `host_routes6` are asked only when a pool is chosen.
pub fn place(
    plan: Plan,
    id: &str,
    ours: &[&NetworkRecord],
    pools: &[AddressPool],
    host_routes: impl FnOnce() -> Vec<Subnet>,
    host_routes6: impl FnOnce() -> Vec<Subnet6>,
) -> Result<NetworkRecord, NetError> {
    let taken4: Vec<Subnet> = ours.iter().flat_map(|n| n.pools4()).map(|p| p.subnet).collect();
    let taken6: Vec<Subnet6> = ours.iter().filter_map(|n| n.ipv6.as_ref()).map(|p| p.subnet).collect();
    let routed = host_routes();
    let mut v4 = vec![];
    for (s, gw, range) in &plan.v4 {
        if let Some(block) = s.reserved_block() {
            return Err(invalid(format!("invalid subnet {s}: it overlaps the reserved range {block}")));
        }
        if taken4.iter().any(|o| o.overlaps(s)) {
            return Err(NetError::Overlap);
        }
        if let Some(r) = super::routes::routed_overlap(s, &routed) {
            return Err(invalid(format!("{} ({r} is routed on the host)", NetError::Overlap)));
        }
        let a = Allocator::new(*s, *range, *gw)?;
        v4.push(Pool4 { subnet: *s, gateway: a.gateway(), ip_range: a.range() });
    }
    if v4.is_empty() {
        let mut taken = routed;
        taken.extend(taken4);
        let s = choose_from(pools, &taken)?;
        let a = Allocator::new(s, None, None)?;
        v4.push(Pool4 { subnet: s, gateway: a.gateway(), ip_range: None });
    }
    let v6 = match (plan.v6, plan.enable_ipv6) {
        (Some((s, gw, range)), _) => {
            if let Some(block) = s.reserved_block() {
                return Err(invalid(format!("invalid subnet {s}: it overlaps the reserved range {block}")));
            }
            if taken6.iter().any(|o| o.overlaps(&s)) {
                return Err(NetError::Overlap);
            }
            let a = Allocator6::new(s, range, gw)?;
            Some(Pool6 { subnet: s, gateway: a.gateway(), ip_range: a.range() })
        }
        (None, true) => {
            let mut taken = host_routes6();
            taken.extend(taken6);
            let s = ula_for(id, &taken)?;
            let a = Allocator6::new(s, None, None)?;
            Some(Pool6 { subnet: s, gateway: a.gateway(), ip_range: None })
        }
        (None, false) => None,
    };
    let first = v4.remove(0);
    Ok(NetworkRecord {
        id: id.to_string(),
        name: String::new(),
        driver: "bridge".into(),
        created: 0,
        subnet: Some(first.subnet),
        gateway: Some(first.gateway),
        ip_range: first.ip_range,
        bridge: String::new(),
        internal: false,
        labels: BTreeMap::new(),
        options: BTreeMap::new(),
        default_bridge: false,
        more_subnets: v4,
        ipv6: v6,
        aux_addresses: plan.aux.into_iter().filter(|(_, m)| !m.is_empty()).collect(),
    })
}

/// The allocators of a network, auxiliary addresses held back.
pub fn allocators(n: &NetworkRecord) -> Result<Pools, NetError> {
    let mut pools = Pools::default();
    for p in n.pools4() {
        pools.v4.push(Allocator::new(p.subnet, p.ip_range, Some(p.gateway))?);
    }
    if let Some(p) = &n.ipv6 {
        pools.v6 = Some(Allocator6::new(p.subnet, p.ip_range, Some(p.gateway))?);
    }
    for (subnet, m) in &n.aux_addresses {
        for (name, ip) in m {
            let inside = match ip {
                IpAddr::V4(a) => Subnet::parse(subnet, false).is_ok_and(|s| s.contains(*a)),
                IpAddr::V6(a) => Subnet6::parse(subnet, false).is_ok_and(|s| s.contains(*a)),
            };
            if !inside {
                return Err(invalid(format!("auxiliary address {name}={ip} is not in subnet {subnet}")));
            }
            pools.reserve(*ip).map_err(|e| match e {
                NetError::AddressInUse => invalid(format!("auxiliary address {name}={ip} is the gateway or already reserved")),
                e => e,
            })?;
        }
    }
    Ok(pools)
}

#[cfg(test)]
mod tests {
    use super::super::manage::PoolSpec;
    use super::*;

    fn pool(subnet: &str, gw: Option<&str>, range: Option<&str>, aux: &[(&str, &str)]) -> PoolSpec {
        PoolSpec {
            subnet: Some(subnet.into()),
            gateway: gw.map(Into::into),
            ip_range: range.map(Into::into),
            aux: aux.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn spec(pools: Vec<PoolSpec>, v6: bool) -> CreateSpec {
        CreateSpec { name: "n".into(), pools, enable_ipv6: v6, ..Default::default() }
    }

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn placed(pools: Vec<PoolSpec>, v6: bool) -> Result<NetworkRecord, NetError> {
        place(plan(&spec(pools, v6))?, ID, &[], &[], Vec::new, Vec::new)
    }

    #[test]
    fn dual_stack_and_two_v4() {
        let n = placed(vec![pool("10.70.0.0/24", None, None, &[]), pool("2001:db8:1::/64", None, None, &[]), pool("10.70.1.0/24", Some("10.70.1.254"), None, &[])], false).unwrap();
        assert_eq!(n.pools4().len(), 2);
        assert_eq!(n.more_subnets[0].gateway, Ipv4Addr::new(10, 70, 1, 254));
        let v6 = n.ipv6.clone().unwrap();
        assert_eq!(v6.gateway, "2001:db8:1::1".parse::<Ipv6Addr>().unwrap());
        let mut a = allocators(&n).unwrap();
        assert_eq!(a.allocate4().unwrap().ip, Ipv4Addr::new(10, 70, 0, 2));
        assert_eq!(a.allocate6().unwrap().unwrap().ip, "2001:db8:1::2".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn ipv6_alone_gets_a_v4_pool_and_enable_gets_a_ula() {
        let n = placed(vec![pool("fd00:9::/64", None, None, &[])], false).unwrap();
        assert!(n.subnet.is_some() && n.ipv6.is_some());
        let n = placed(vec![], true).unwrap();
        let s = n.ipv6.unwrap().subnet;
        assert_eq!(s.to_string(), "fd01:2345:6789::/64");
        let n = placed(vec![], false).unwrap();
        assert!(n.ipv6.is_none());
        // A ULA routed on the host is skipped.
        let routed = vec![Subnet6::parse("fd01:2345:6789::/48", false).unwrap()];
        let n = place(plan(&spec(vec![], true)).unwrap(), ID, &[], &[], Vec::new, || routed).unwrap();
        assert_eq!(n.ipv6.unwrap().subnet.to_string(), "fd12:3456:789a::/64");
    }

    #[test]
    fn aux_addresses_are_held_back() {
        let n = placed(vec![pool("10.71.0.0/29", None, None, &[("a", "10.71.0.2"), ("b", "10.71.0.3")])], false).unwrap();
        let mut a = allocators(&n).unwrap();
        assert_eq!(a.allocate4().unwrap().ip, Ipv4Addr::new(10, 71, 0, 4));
        assert!(a.claim4(Ipv4Addr::new(10, 71, 0, 2)).is_err());
        let bad = placed(vec![pool("10.71.0.0/29", None, None, &[("a", "10.72.0.2")])], false).unwrap();
        assert!(allocators(&bad).is_err());
        let gw = placed(vec![pool("10.71.0.0/29", None, None, &[("a", "10.71.0.1")])], false).unwrap();
        assert!(allocators(&gw).is_err());
    }

    #[test]
    fn bad_plans_are_refused() {
        assert!(plan(&spec(vec![pool("10.0.0.0/24", None, None, &[]), pool("10.0.0.0/25", None, None, &[])], false)).is_err());
        assert!(plan(&spec(vec![pool("fd00:1::/64", None, None, &[]), pool("fd00:2::/64", None, None, &[])], false)).is_err());
        assert!(plan(&spec(vec![pool("fd00:1::/64", Some("10.0.0.1"), None, &[])], false)).is_err());
        assert!(plan(&spec(vec![pool("10.0.0.0/24", Some("fd00::1"), None, &[])], false)).is_err());
        assert!(placed(vec![pool("fe80::/64", None, None, &[])], false).is_err());
        assert!(placed(vec![pool("fd00:1::/64", None, Some("fd00:2::/80"), &[])], false).is_err());
        let other = placed(vec![pool("fd00:1::/64", None, None, &[])], false).unwrap();
        let p = plan(&spec(vec![pool("fd00:1:0:0:1::/80", None, None, &[])], false)).unwrap();
        assert!(matches!(place(p, ID, &[&other], &[], Vec::new, Vec::new), Err(NetError::Overlap)));
    }
}
