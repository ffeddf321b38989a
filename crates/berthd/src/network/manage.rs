//! Network objects: start-up (built-ins, bridges and chains put back),
//! create, remove, and the teardown when berthd stops idle.

use super::record::NetworkRecord;
use super::{find_in, net_error, NetworkManager, State};
use crate::container::naming::new_id;
use crate::container::now_nanos;
use berth_api::ApiError;
use berth_net::firewall::{network_rules, NetworkFw};
use berth_net::pools::choose_from;
use berth_net::subnet::{parse_ip, Subnet};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

/// What `POST /networks/create` asks for, decoded.
#[derive(Debug, Default, Clone)]
pub struct CreateSpec {
    pub name: String,
    pub driver: String,
    /// `IPAM.Config`, in order (IPv4 and IPv6 entries).
    pub pools: Vec<PoolSpec>,
    /// `EnableIPv6` (also implied by an IPv6 subnet).
    pub enable_ipv6: bool,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// One `IPAM.Config` entry.
#[derive(Debug, Default, Clone)]
pub struct PoolSpec {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub aux: BTreeMap<String, String>,
}

/// An exclusive host-wide flock, released on drop.
struct PoolLock(std::fs::File);

impl PoolLock {
    fn take(path: &std::path::Path) -> Result<PoolLock, ApiError> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| ApiError::internal(format!("opening {}: {e}", path.display())))?;
        // SAFETY: flock on an fd we own; blocks until the lock is ours.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(ApiError::internal(format!("locking {}", path.display())));
        }
        Ok(PoolLock(f))
    }
}

impl Drop for PoolLock {
    fn drop(&mut self) {
        // SAFETY: unlocking an fd we own.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

fn builtin(name: &str, driver: &str) -> NetworkRecord {
    NetworkRecord {
        id: new_id(),
        name: name.into(),
        driver: driver.into(),
        created: now_nanos(),
        subnet: None,
        gateway: None,
        ip_range: None,
        bridge: String::new(),
        internal: false,
        labels: BTreeMap::new(),
        options: BTreeMap::new(),
        default_bridge: false,
        more_subnets: vec![],
        ipv6: None,
        aux_addresses: BTreeMap::new(),
    }
}

impl NetworkManager {
    /// Loads records, makes the built-ins, puts chains and bridges back.
    pub(super) fn load(&self) -> Result<(), ApiError> {
        let loaded = self
            .records
            .load(&berth_store::Quarantine::new(&self.cfg.data_root))
            .map_err(|e| ApiError::internal(format!("reading network records: {e}")))?;
        crate::daemon::log_quarantined(&loaded.quarantined);
        let recs = loaded.records;
        let mut st = self.lock();
        for (_, r) in recs {
            st.nets.insert(r.id.clone(), r);
        }
        for (name, driver) in [("host", "host"), ("none", "null")] {
            if !st.nets.values().any(|n| n.name == name) {
                let r = builtin(name, driver);
                self.persist(&r)?;
                st.nets.insert(r.id.clone(), r);
            }
        }
        self.fw.setup(&self.chains).map_err(net_error)?;
        let pool_lock = PoolLock::take(&self.cfg.pool_lock)?;
        self.ensure_default_bridge(&mut st)?;
        let bridges: Vec<NetworkRecord> = st.nets.values().filter(|n| n.driver == "bridge").cloned().collect();
        for n in bridges {
            if let Some(alloc) = self.bring_up(&n)? {
                st.alloc.insert(n.id.clone(), alloc);
            }
        }
        let known: std::collections::BTreeSet<String> = st.nets.values().map(|n| n.bridge.clone()).collect();
        drop(st);
        drop(pool_lock);
        self.remove_unrecorded_bridges(&known);
        Ok(())
    }

    /// A bridge this daemon made that no record names (a crash between the
    /// bridge and the record of `network create`) goes, unless something is
    /// plugged into it. Sysfs and netlink: never under the state lock.
    fn remove_unrecorded_bridges(&self, known: &std::collections::BTreeSet<String>) {
        for b in self.links.idle_bridges_marked(&self.owner_alias()) {
            if !known.contains(&b) && b != self.cfg.bridge {
                crate::daemon::log(&format!("removing bridge {b}: made by this berthd for a network it has no record of"));
                if let Err(e) = self.links.delete_link(&b) {
                    crate::daemon::log(&format!("removing bridge {b}: {e}"));
                }
            }
        }
    }

    fn ensure_default_bridge(&self, st: &mut State) -> Result<(), ApiError> {
        let existing = st.nets.values().find(|n| n.name == "bridge").cloned();
        let link_up = berth_net::link::link_exists(&self.cfg.bridge);
        let (subnet, gateway) = match (&self.cfg.bip, &existing) {
            (Some(bip), _) => {
                let gw = parse_ip(bip.split('/').next().unwrap_or("")).map_err(net_error)?;
                (Subnet::parse(bip, false).map_err(net_error)?, gw)
            }
            // Our bridge is still there: keep its pool.
            (None, Some(n)) if link_up && n.subnet.is_some() && n.bridge == self.cfg.bridge => return Ok(()),
            // Our bridge is up but its record is gone (quarantined): keep
            // the subnet its running containers are on.
            (None, _) if link_up && self.adopted_bridge_subnet().is_some() => {
                let s = self.adopted_bridge_subnet().ok_or_else(|| ApiError::internal("bridge route vanished"))?;
                (s, s.nth(1).ok_or_else(|| ApiError::internal("pool too small"))?)
            }
            (None, _) => {
                let mut taken = self.routes.routed();
                taken.extend(st.nets.values().filter(|n| n.name != "bridge").flat_map(|n| n.pools4()).map(|p| p.subnet));
                let s = choose_from(&self.cfg.pools, &taken).map_err(net_error)?;
                (s, s.nth(1).ok_or_else(|| ApiError::internal("pool too small"))?)
            }
        };
        let mut n = existing.clone().unwrap_or_else(|| builtin("bridge", "bridge"));
        n.subnet = Some(subnet);
        n.gateway = Some(gateway);
        n.bridge = self.cfg.bridge.clone();
        n.default_bridge = true;
        // Start-up writes only what changed, so a full disk does not stop
        // it; the default bridge is derived again at every start, so a
        // failed write costs nothing but a log line.
        let same = |a: &NetworkRecord| serde_json::to_value(a).ok() == serde_json::to_value(&n).ok();
        if !existing.as_ref().is_some_and(same) {
            if let Err(e) = self.persist(&n) {
                crate::daemon::log(&format!("{e}; the default bridge keeps its settings in memory"));
            }
        }
        st.nets.insert(n.id.clone(), n);
        Ok(())
    }

    /// The subnet routed out of our default bridge's link, if any.
    fn adopted_bridge_subnet(&self) -> Option<Subnet> {
        self.routes.routed_via(&self.cfg.bridge).into_iter().next()
    }

    fn fw_of(n: &NetworkRecord) -> Option<NetworkFw> {
        let subnets: Vec<Subnet> = n.pools4().iter().map(|p| p.subnet).collect();
        (!subnets.is_empty()).then(|| NetworkFw { bridge: n.bridge.clone(), subnets, subnet6: n.ipv6.as_ref().map(|p| p.subnet), internal: n.internal })
    }

    /// Bridge link and its rules; returns its allocators (None without an
    /// IPv4 pool). Slow (netlink, iptables): never under the state lock.
    fn bring_up(&self, n: &NetworkRecord) -> Result<Option<berth_net::ipam6::Pools>, ApiError> {
        let pools4 = n.pools4();
        if pools4.is_empty() {
            return Ok(None);
        }
        let pools = super::pools::allocators(n).map_err(net_error)?;
        let mut gateways: Vec<(IpAddr, u8)> = pools4.iter().map(|p| (p.gateway.into(), p.subnet.prefix())).collect();
        gateways.extend(n.ipv6.iter().map(|p| (p.gateway.into(), p.subnet.prefix())));
        self.links.ensure_bridge(&n.bridge, &gateways, &self.owner_alias()).map_err(net_error)?;
        if let Some(f) = Self::fw_of(n) {
            self.fw.add(&network_rules(&self.chains, &f)).map_err(net_error)?;
        }
        Ok(Some(pools))
    }

    pub fn create(&self, spec: CreateSpec) -> Result<NetworkRecord, ApiError> {
        // dockerd (libnetwork) takes any name that is not blank, e.g.
        // docker-compose's `_underscoretest_bar`; names are only record
        // fields here, never paths or interface names.
        if spec.name.trim().is_empty() {
            return Err(ApiError::invalid(format!("invalid name: {}", spec.name)));
        }
        let driver = if spec.driver.is_empty() { "bridge".to_string() } else { spec.driver.clone() };
        if driver != "bridge" {
            return Err(ApiError::not_found(format!("plugin \"{driver}\" not found")));
        }
        let plan = super::pools::plan(&spec).map_err(net_error)?;
        let id = new_id();
        let bridge = spec.options.get("com.docker.network.bridge.name").cloned().unwrap_or_else(|| format!("br-{}", &id[..12]));
        if !berth_net::link::valid_ifname(&bridge) {
            return Err(ApiError::invalid(format!("invalid bridge name {bridge:?}")));
        }
        // Creates and removes queue behind each other (and, for the pool,
        // behind other daemons' creates), never behind container starts.
        let _admin = self.admin();
        let _lock = PoolLock::take(&self.cfg.pool_lock)?;
        let st = self.lock();
        if st.nets.values().any(|n| n.name == spec.name) {
            return Err(ApiError::conflict(format!("network with name {} already exists", spec.name)));
        }
        if st.nets.values().any(|n| n.bridge == bridge) || berth_net::link::link_exists(&bridge) {
            return Err(ApiError::conflict(format!("bridge name {bridge} is already in use")));
        }
        let ours: Vec<&NetworkRecord> = st.nets.values().collect();
        let routed = || self.routes.routed();
        let placed = super::pools::place(plan, &id, &ours, &self.cfg.pools, routed, berth_net::ipam6::host_routes6).map_err(net_error)?;
        drop(st);
        let n = NetworkRecord {
            id,
            name: spec.name,
            driver,
            created: now_nanos(),
            bridge,
            internal: spec.internal,
            labels: spec.labels,
            options: spec.options,
            ..placed
        };
        // The plan must hold together (gateways, ranges, aux addresses).
        super::pools::allocators(&n).map_err(net_error)?;
        // The record first: a crash after it leaves a network that start-up
        // brings up; a crash before it leaves nothing. The other order
        // could leave a bridge no record names.
        self.persist(&n)?;
        let alloc = match self.bring_up(&n) {
            Ok(a) => a,
            Err(e) => {
                self.tear_down_net(&n);
                let _ = self.records.delete(&n.id);
                return Err(e);
            }
        };
        let mut st = self.lock();
        if let Some(a) = alloc {
            st.alloc.insert(n.id.clone(), a);
        }
        st.nets.insert(n.id.clone(), n.clone());
        Ok(n)
    }

    /// The bridge and its rules (slow: never under the state lock).
    fn tear_down_net(&self, n: &NetworkRecord) {
        if let Some(f) = Self::fw_of(n) {
            if let Err(e) = self.fw.delete(&network_rules(&self.chains, &f)) {
                crate::daemon::log(&format!("removing the rules of {}: {e}", n.bridge));
            }
        }
        match self.links.delete_bridge(&n.bridge, &self.owner_alias()) {
            Ok(true) => {}
            Ok(false) => crate::daemon::log(&format!("leaving bridge {}: this berthd did not make it", n.bridge)),
            Err(e) => crate::daemon::log(&format!("deleting bridge {}: {e}", n.bridge)),
        }
    }

    /// The alias marking the bridges this daemon makes (berth_net::link).
    fn owner_alias(&self) -> String {
        berth_net::link::owner_alias(&self.cfg.data_root)
    }

    /// `network rm`: refused for built-ins and networks with containers.
    /// `attached` says whether any container (running or not) uses it.
    pub fn remove(&self, key: &str, attached: &dyn Fn(&NetworkRecord) -> bool) -> Result<(), ApiError> {
        let _admin = self.admin();
        // Asked before the state lock: it takes the containers' locks.
        let n = self.find(key)?;
        let used = attached(&n);
        let mut st = self.lock();
        let n = find_in(&st.nets, &n.id)?;
        if ["bridge", "host", "none"].contains(&n.name.as_str()) {
            return Err(ApiError::new(
                berth_api::ErrorKind::Forbidden,
                format!("{} is a pre-defined network and cannot be removed", n.name),
            ));
        }
        if st.users.get(&n.id).is_some_and(|u| !u.is_empty()) || used {
            return Err(ApiError::new(
                berth_api::ErrorKind::Forbidden,
                format!("error while removing network: network {} id {} has active endpoints", n.name, n.id),
            ));
        }
        // Out of the map first (no new attach can find it); then the bridge
        // and rules before the record, so a crash in between leaves a
        // record that start-up brings up again, never a bridge without one.
        st.nets.remove(&n.id);
        let alloc = st.alloc.remove(&n.id);
        drop(st);
        self.tear_down_net(&n);
        if let Err(e) = self.records.delete(&n.id) {
            let _ = self.bring_up(&n);
            let mut st = self.lock();
            st.nets.insert(n.id.clone(), n.clone());
            if let Some(a) = alloc {
                st.alloc.insert(n.id.clone(), a);
            }
            return Err(ApiError::internal(format!("deleting network {}: {e}", n.name)));
        }
        Ok(())
    }

    pub fn all(&self) -> Vec<NetworkRecord> {
        self.lock().nets.values().cloned().collect()
    }

    /// berthd stops with no container running: bridges and chains go
    /// (they are made again at start); with live containers they stay.
    pub fn shutdown(&self, containers_running: bool) {
        if !containers_running {
            let _admin = self.admin();
            let nets: Vec<NetworkRecord> = self.lock().nets.values().filter(|n| n.driver == "bridge").cloned().collect();
            for n in nets {
                self.tear_down_net(&n);
                self.lock().alloc.remove(&n.id);
            }
            if let Err(e) = self.fw.teardown(&self.chains) {
                crate::daemon::log(&format!("shutdown: {e}"));
            }
        }
        // Last: the bridge is ours until everything above is done.
        drop(self.owner.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
}
