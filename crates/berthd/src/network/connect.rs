//! `network connect` / `disconnect` on a running container: one more veth
//! into its namespace (no default route: the primary network keeps it), or
//! one taken out with its lease.

use super::record::{ContainerNet, Endpoint};
use super::teardown::Deferred;
use super::{find_in, NetworkManager};
use berth_api::{ApiError, ErrorKind};

impl NetworkManager {
    /// Plugs running container `id` (namespace `ns_name`, current `net`)
    /// into network `key`; returns the network's name and the endpoint.
    pub fn connect_running(&self, id: &str, net: &ContainerNet, key: &str, req: &Endpoint) -> Result<(String, Endpoint), ApiError> {
        let ns_name = net.netns.clone().ok_or_else(|| ApiError::internal(format!("container {id} has no network namespace")))?;
        let mut st = self.lock();
        let n = find_in(&st.nets, key)?;
        if n.driver != "bridge" {
            return Err(ApiError::new(ErrorKind::Forbidden, "container cannot be disconnected from host network or connected to host network"));
        }
        if net.endpoints.values().any(|e| e.network_id == n.id) {
            return Err(ApiError::new(ErrorKind::Forbidden, format!("endpoint with name {} already exists in network {}", id, n.name)));
        }
        let used: Vec<&str> = net.endpoints.values().map(|e| e.ifname.as_str()).collect();
        let idx = (0..).find(|i| !used.contains(&format!("eth{i}").as_str())).unwrap_or(0);
        let (ep, plan) = self.plug(&mut st, id, &ns_name, &n, req, idx, false)?;
        drop(st);
        if let Err(e) = self.links.add_veth(&plan) {
            let mut deferred = Deferred::default();
            self.release_endpoint(&mut self.lock(), id, &ep, &mut deferred);
            self.finish(deferred);
            return Err(super::net_error(e));
        }
        if !n.default_bridge {
            self.register_dns(id, net, &n.id, &n.name, &ep);
        }
        Ok((n.name.clone(), ep))
    }

    /// Takes endpoint `name` out of running container `id`; the published
    /// ports go too when it is the primary one.
    pub fn disconnect_running(&self, id: &str, net: &ContainerNet, name: &str) {
        let mut deferred = Deferred::default();
        {
            let mut st = self.lock();
            if net.primary.as_deref() == Some(name) {
                self.release_ports(&mut st, id, net, &mut deferred);
            }
            if let Some(ep) = net.endpoints.get(name) {
                self.release_endpoint(&mut st, id, ep, &mut deferred);
            }
        }
        self.drop_ports(id, &mut deferred);
        // The container keeps running: its veth goes now, not in the background.
        self.finish(deferred);
    }
}
