//! Network objects: start-up (built-ins, bridges and chains put back),
//! create, remove, and the teardown when berthd stops idle.

use super::record::NetworkRecord;
use super::{find_in, net_error, NetworkManager, State};
use crate::container::naming::new_id;
use crate::container::now_nanos;
use berth_api::ApiError;
use berth_net::firewall::{network_rules, NetworkFw};
use berth_net::ipam::{choose_pool, Allocator};
use berth_net::subnet::{parse_ip, Subnet};
use std::collections::BTreeMap;
use std::os::fd::AsRawFd;

/// What `POST /networks/create` asks for, decoded.
#[derive(Debug, Default, Clone)]
pub struct CreateSpec {
    pub name: String,
    pub driver: String,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
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
        let _lock = PoolLock::take(&self.cfg.pool_lock)?;
        self.ensure_default_bridge(&mut st)?;
        let bridges: Vec<NetworkRecord> = st.nets.values().filter(|n| n.driver == "bridge").cloned().collect();
        for n in bridges {
            if let Some(alloc) = self.bring_up(&n)? {
                st.alloc.insert(n.id.clone(), alloc);
            }
        }
        Ok(())
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
                taken.extend(st.nets.values().filter(|n| n.name != "bridge").filter_map(|n| n.subnet));
                let s = choose_pool(&taken).map_err(net_error)?;
                (s, s.nth(1).ok_or_else(|| ApiError::internal("pool too small"))?)
            }
        };
        let mut n = existing.unwrap_or_else(|| builtin("bridge", "bridge"));
        n.subnet = Some(subnet);
        n.gateway = Some(gateway);
        n.bridge = self.cfg.bridge.clone();
        n.default_bridge = true;
        self.persist(&n)?;
        st.nets.insert(n.id.clone(), n);
        Ok(())
    }

    /// The subnet routed out of our default bridge's link, if any.
    fn adopted_bridge_subnet(&self) -> Option<Subnet> {
        self.routes.routed_via(&self.cfg.bridge).into_iter().next()
    }

    fn fw_of(n: &NetworkRecord) -> Option<NetworkFw> {
        Some(NetworkFw { bridge: n.bridge.clone(), subnet: n.subnet?, internal: n.internal })
    }

    /// Bridge link and its rules; returns its allocator (None without a
    /// subnet). Slow (netlink, iptables): never under the state lock.
    fn bring_up(&self, n: &NetworkRecord) -> Result<Option<Allocator>, ApiError> {
        let (Some(subnet), Some(gw)) = (n.subnet, n.gateway) else { return Ok(None) };
        let alloc = Allocator::new(subnet, n.ip_range, Some(gw)).map_err(net_error)?;
        self.links.ensure_bridge(&n.bridge, gw, subnet.prefix()).map_err(net_error)?;
        if let Some(f) = Self::fw_of(n) {
            self.fw.add(&network_rules(&self.chains, &f)).map_err(net_error)?;
        }
        Ok(Some(alloc))
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
        let subnet = spec.subnet.as_deref().map(|s| Subnet::parse(s, false)).transpose().map_err(net_error)?;
        let range = spec.ip_range.as_deref().map(|s| Subnet::parse(s, false)).transpose().map_err(net_error)?;
        let gateway = spec.gateway.as_deref().map(parse_ip).transpose().map_err(net_error)?;
        if subnet.is_none() && (range.is_some() || gateway.is_some()) {
            return Err(ApiError::invalid("ip-range and gateway need a subnet (--subnet)"));
        }
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
        let ours: Vec<Subnet> = st.nets.values().filter_map(|n| n.subnet).collect();
        drop(st);
        let subnet = match subnet {
            Some(s) => {
                if let Some(block) = s.reserved_block() {
                    return Err(ApiError::invalid(format!("invalid subnet {s}: it overlaps the reserved range {block}")));
                }
                if ours.iter().any(|o| o.overlaps(&s)) {
                    return Err(net_error(berth_net::NetError::Overlap));
                }
                if let Some(r) = super::routes::routed_overlap(&s, &self.routes.routed()) {
                    return Err(ApiError::invalid(format!("{} ({r} is routed on the host)", berth_net::NetError::Overlap)));
                }
                s
            }
            None => {
                let mut taken = self.routes.routed();
                taken.extend(ours);
                choose_pool(&taken).map_err(net_error)?
            }
        };
        let alloc = Allocator::new(subnet, range, gateway).map_err(net_error)?;
        let n = NetworkRecord {
            id,
            name: spec.name,
            driver,
            created: now_nanos(),
            subnet: Some(subnet),
            gateway: Some(alloc.gateway()),
            ip_range: alloc.range(),
            bridge,
            internal: spec.internal,
            labels: spec.labels,
            options: spec.options,
            default_bridge: false,
        };
        let alloc = self.bring_up(&n).inspect_err(|_| {
            let _ = self.links.delete_link(&n.bridge);
        })?;
        if let Err(e) = self.persist(&n) {
            self.tear_down_net(&n);
            return Err(e);
        }
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
            let _ = self.fw.delete(&network_rules(&self.chains, &f));
        }
        let _ = self.links.delete_link(&n.bridge);
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
        // Out of the map first (no new attach can find it), then the slow part.
        st.nets.remove(&n.id);
        let alloc = st.alloc.remove(&n.id);
        drop(st);
        if let Err(e) = self.records.delete(&n.id) {
            let mut st = self.lock();
            st.nets.insert(n.id.clone(), n.clone());
            if let Some(a) = alloc {
                st.alloc.insert(n.id.clone(), a);
            }
            return Err(ApiError::internal(format!("deleting network {}: {e}", n.name)));
        }
        self.tear_down_net(&n);
        Ok(())
    }

    pub fn all(&self) -> Vec<NetworkRecord> {
        self.lock().nets.values().cloned().collect()
    }

    /// berthd stops with no container running: bridges and chains go
    /// (they are made again at start); with live containers they stay.
    pub fn shutdown(&self, containers_running: bool) {
        if containers_running {
            return;
        }
        let _admin = self.admin();
        let nets: Vec<NetworkRecord> = self.lock().nets.values().filter(|n| n.driver == "bridge").cloned().collect();
        for n in nets {
            self.tear_down_net(&n);
            self.lock().alloc.remove(&n.id);
        }
        let _ = self.fw.teardown(&self.chains);
    }
}
