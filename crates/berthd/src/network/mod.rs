//! Networks: the built-in `bridge`, `host` and `none`, user bridge
//! networks, and each running container's endpoints and published ports.
//! OS effects go through berth-net's `Links` and `Firewall` traits.

mod connect;
pub mod dns;
mod dns_names;
mod endpoint;
mod etc;
mod manage;
mod pools;
mod owner;
pub mod routes;
pub mod ports;
pub mod record;
mod teardown;
pub mod view;

pub use endpoint::{AttachInput, Attached, NetNs};
pub use etc::{host_nameservers, hosts as hosts_file, resolv as resolv_file, DnsSettings};
pub use manage::{CreateSpec, PoolSpec};
pub use record::ContainerNet;

use berth_api::ApiError;
use berth_net::firewall::{Chains, Firewall, Proto};
use berth_net::ipam6::Pools;
use berth_net::link::Links;
use berth_store::RecordDir;
use record::NetworkRecord;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Daemon flags that shape networking.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub data_root: PathBuf,
    /// `--bridge`: the default bridge's Linux name (also the daemon's tag in
    /// netns, veth and iptables chain names).
    pub bridge: String,
    /// `--bip`: the default bridge's gateway address and prefix.
    pub bip: Option<String>,
    /// Host-wide lock taken while choosing a pool and creating its bridge,
    /// so two daemons never pick the same free pool.
    pub pool_lock: PathBuf,
    /// `default-address-pools`: where new networks' subnets come from
    /// (Docker's defaults when empty).
    pub pools: Vec<berth_net::pools::AddressPool>,
    /// Host-wide directory of the bridge-name claims (owner.rs).
    pub owner_dir: PathBuf,
}

#[derive(Default)]
struct State {
    nets: BTreeMap<String, NetworkRecord>,
    alloc: HashMap<String, Pools>,
    /// Held host ports: (proto, host ip, port) → (container id, socket).
    ports: HashMap<(Proto, String, u16), (String, ports::Reservation)>,
    /// Network id → running container ids attached.
    users: HashMap<String, Vec<String>>,
}

pub struct NetworkManager {
    cfg: NetConfig,
    chains: Chains,
    links: Arc<dyn Links>,
    fw: Arc<dyn Firewall>,
    records: RecordDir<NetworkRecord>,
    /// In-memory bookkeeping only: never held across a syscall that can
    /// block (netlink, iptables, namespace set-up, file writes), so starts
    /// on any network proceed side by side. Addresses and host ports are
    /// reserved under it; the slow work runs after it is dropped.
    state: Mutex<State>,
    /// Serialises network create, remove and teardown (the slow work on
    /// bridges and their rules) without blocking container starts.
    admin: Mutex<()>,
    dns: Arc<dns::Resolver>,
    /// Containers whose veths are being deleted (teardown.rs).
    pending: teardown::Pending,
    /// This daemon's claim on its bridge name, held for its whole life.
    /// Taken (and so released, its file removed) at shutdown.
    owner: Mutex<Option<owner::BridgeOwner>>,
    /// The host's routes (a user subnet must not overlap one).
    routes: Box<dyn routes::HostRoutes>,
}

impl NetworkManager {
    pub fn open(cfg: NetConfig, links: Arc<dyn Links>, fw: Arc<dyn Firewall>) -> Result<Arc<NetworkManager>, ApiError> {
        if !berth_net::link::valid_ifname(&cfg.bridge) {
            return Err(ApiError::invalid(format!("invalid bridge name {:?}", cfg.bridge)));
        }
        // Before anything touches the bridge or its chains.
        let owner = owner::BridgeOwner::claim(&cfg.owner_dir, &cfg.bridge, &cfg.data_root)?;
        let records = RecordDir::open(&cfg.data_root.join("db").join("networks"))
            .map_err(|e| ApiError::internal(format!("opening network records: {e}")))?;
        let chains = Chains::new(&cfg.bridge);
        let m = Arc::new(NetworkManager { cfg, chains, links, fw, records, state: Mutex::default(), admin: Mutex::default(), dns: Arc::default(), pending: Default::default(), owner: Mutex::new(Some(owner)), routes: Box::new(routes::ProcRoutes) });
        m.load()?;
        Ok(m)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn admin(&self) -> MutexGuard<'_, ()> {
        self.admin.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn persist(&self, n: &NetworkRecord) -> Result<(), ApiError> {
        self.records.put(&n.id, n).map_err(|e| ApiError::internal(format!("saving network {}: {e}", n.name)))
    }

    /// Namespace names carry the daemon tag so a leak is traceable.
    pub fn netns_name(&self, container_id: &str) -> String {
        format!("berth-{}-{}", self.cfg.bridge, &container_id[..container_id.len().min(12)])
    }

    /// Finds a network by full ID, name, or unique ID prefix (as Docker).
    pub fn find(&self, key: &str) -> Result<NetworkRecord, ApiError> {
        let st = self.lock();
        find_in(&st.nets, key)
    }
}

fn find_in(nets: &BTreeMap<String, NetworkRecord>, key: &str) -> Result<NetworkRecord, ApiError> {
    if let Some(n) = nets.get(key) {
        return Ok(n.clone());
    }
    if let Some(n) = nets.values().find(|n| n.name == key) {
        return Ok(n.clone());
    }
    let hits: Vec<&NetworkRecord> = if key.is_empty() { vec![] } else { nets.values().filter(|n| n.id.starts_with(key)).collect() };
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ApiError::not_found(format!("network {key} not found"))),
        _ => Err(ApiError::invalid(format!("network {key} is ambiguous ({} matches found on name)", hits.len()))),
    }
}

pub fn net_error(e: berth_net::NetError) -> ApiError {
    use berth_net::NetError as E;
    match e {
        E::BadSubnet(_) | E::BadAddress(_) | E::Overlap | E::Invalid(_) | E::AddressInUse => ApiError::invalid(e.to_string()),
        E::NoPool | E::Exhausted(_) => ApiError::invalid(e.to_string()),
        _ => ApiError::internal(e.to_string()),
    }
}
