//! `POST /networks/{id}/connect` and `/disconnect`: a container's
//! endpoints changed while it runs (wired at once) or while it is stopped
//! (recorded for its next start).

use super::manager::ContainerManager;
use crate::network::record::Endpoint;
use berth_api::ApiError;
use serde_json::{json, Value};

impl ContainerManager {
    pub async fn connect_network(&self, network: &str, container: &str, endpoint_config: Option<&Value>) -> Result<(), ApiError> {
        let n = self.networks.find(network)?;
        let c = self.get(container)?;
        let _op = c.op.lock().await;
        let rec = c.snapshot();
        let mode = rec.host_config.network_mode.as_str();
        if mode == "host" || n.driver == "host" {
            return Err(ApiError::new(berth_api::ErrorKind::Forbidden, "container cannot be disconnected from host network or connected to host network"));
        }
        if mode == "none" || n.driver == "null" || mode.starts_with("container:") {
            return Err(ApiError::new(
                berth_api::ErrorKind::Forbidden,
                "container cannot be connected to multiple networks with one of the networks in private (none) mode",
            ));
        }
        let wrapped = json!({"EndpointsConfig": {n.name.clone(): endpoint_config.cloned().unwrap_or(json!({}))}});
        let req: Endpoint = super::network::requested(Some(&wrapped))?.endpoints.remove(&n.name).unwrap_or_default();
        if rec.net.endpoints.contains_key(&n.name) {
            return Err(ApiError::new(berth_api::ErrorKind::Forbidden, format!("endpoint with name {} already exists in network {}", rec.name, n.name)));
        }
        if n.default_bridge && req.requested_ip.is_some() {
            return Err(ApiError::invalid("user specified IP address is supported on user defined networks only"));
        }
        let (name, ep) = if rec.state.status.is_running() {
            // Namespace and netlink work: off the async workers.
            let (nets, id, net, nid) = (self.networks.clone(), rec.id.clone(), rec.net.clone(), n.id.clone());
            tokio::task::spawn_blocking(move || nets.connect_running(&id, &net, &nid, &req))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))??
        } else {
            (n.name.clone(), req)
        };
        let rec = c.update(|r| {
            r.net.endpoints.insert(name.clone(), ep.clone());
        });
        self.persist(&rec)?;
        Ok(())
    }

    pub async fn disconnect_network(&self, network: &str, container: &str, force: bool) -> Result<(), ApiError> {
        let c = self.get(container)?;
        let _op = c.op.lock().await;
        let rec = c.snapshot();
        let name = match self.networks.find(network) {
            Ok(n) => n.name,
            // Forced: the network may be gone; drop the endpoint by name.
            Err(_) if force && rec.net.endpoints.contains_key(network) => network.to_string(),
            Err(e) => return Err(e),
        };
        if rec.host_config.network_mode == "host" && name == "host" {
            return Err(ApiError::new(berth_api::ErrorKind::Forbidden, "container cannot be disconnected from host network or connected to host network"));
        }
        if !rec.net.endpoints.contains_key(&name) {
            // A stopped container still counts as on its NetworkMode network.
            if rec.state.status.is_running() || rec.host_config.network_mode != name {
                return Err(ApiError::internal(format!("container {} is not connected to network {name}", rec.id)));
            }
        }
        if rec.state.status.is_running() {
            let (nets, id, net, owned) = (self.networks.clone(), rec.id.clone(), rec.net.clone(), name.clone());
            tokio::task::spawn_blocking(move || nets.disconnect_running(&id, &net, &owned))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        let rec = c.update(|r| {
            r.net.endpoints.remove(&name);
            if r.net.primary.as_deref() == Some(name.as_str()) {
                r.net.ports.clear();
                r.net.primary = None;
            }
        });
        self.persist(&rec)?;
        Ok(())
    }
}
