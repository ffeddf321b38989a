//! dockerd's `default-address-pools`: where new networks' subnets come
//! from when none is given (Docker's built-in list when none is set).

use crate::ipam::default_pools;
use crate::subnet::Subnet;
use crate::NetError;
use std::net::Ipv4Addr;

/// A base range cut into subnets of `size` prefix bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPool {
    pub base: Subnet,
    pub size: u8,
}

impl AddressPool {
    pub fn new(base: &str, size: u8) -> Result<AddressPool, NetError> {
        let base = Subnet::parse(base, false)?;
        if size < base.prefix() || size > 30 {
            return Err(NetError::Invalid(format!(
                "invalid pool size {size} for base {base}: it must be between {} and 30",
                base.prefix()
            )));
        }
        Ok(AddressPool { base, size })
    }

    /// Parses the `--default-address-pool` form `base=CIDR,size=N`.
    pub fn parse(s: &str) -> Result<AddressPool, NetError> {
        let bad = || NetError::Invalid(format!("invalid default address pool {s:?}: expected base=CIDR,size=N"));
        let (mut base, mut size) = (None, None);
        for field in s.split(',') {
            match field.split_once('=') {
                Some(("base", v)) => base = Some(v),
                Some(("size", v)) => size = Some(v.parse::<u8>().map_err(|_| bad())?),
                _ => return Err(bad()),
            }
        }
        AddressPool::new(base.ok_or_else(bad)?, size.ok_or_else(bad)?)
    }

    /// The pool's subnets, in order.
    fn subnets(&self) -> impl Iterator<Item = Subnet> + '_ {
        let count = 1u64 << (self.size - self.base.prefix());
        let step = 1u64 << (32 - self.size);
        let start = u64::from(u32::from(self.base.network()));
        (0..count).filter_map(move |i| Subnet::new(Ipv4Addr::from((start + i * step) as u32), self.size).ok())
    }
}

/// The first subnet of `pools` (Docker's defaults when empty) that
/// overlaps nothing in `taken`.
pub fn choose_from(pools: &[AddressPool], taken: &[Subnet]) -> Result<Subnet, NetError> {
    let free = |p: &Subnet| !taken.iter().any(|t| t.overlaps(p));
    if pools.is_empty() {
        return default_pools().find(free).ok_or(NetError::NoPool);
    }
    pools.iter().flat_map(AddressPool::subnets).find(free).ok_or(NetError::NoPool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Subnet {
        Subnet::parse(s, false).unwrap()
    }

    #[test]
    fn pools_are_cut_and_skipped() {
        let p = AddressPool::parse("base=10.77.0.0/16,size=24").unwrap();
        assert_eq!(choose_from(&[p], &[]).unwrap(), net("10.77.0.0/24"));
        assert_eq!(choose_from(&[p], &[net("10.77.0.0/23")]).unwrap(), net("10.77.2.0/24"));
        let small = AddressPool::new("10.78.0.0/24", 25).unwrap();
        assert!(matches!(choose_from(&[small], &[net("10.78.0.0/24")]), Err(NetError::NoPool)));
        assert_eq!(choose_from(&[], &[]).unwrap(), net("172.17.0.0/16"));
        for bad in ["base=10.0.0.0/16", "size=24", "base=10.0.0.0/16,size=8", "base=x,size=24", "base=10.0.0.0/16,size=31"] {
            assert!(AddressPool::parse(bad).is_err(), "{bad}");
        }
    }
}
