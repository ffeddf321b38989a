//! Resource limits: the API's `HostConfig` fields to the runtime's
//! `Resources`, checked at create, and `update` of a container's limits
//! (live through the runtime's `update` for a running one).

use super::manager::{Container, ContainerManager};
use berth_api::container::{Resources as ApiResources, UpdateRequest};
use berth_api::ApiError;
use berth_runtime::{Resources, Ulimit};
use std::sync::Arc;

pub fn to_runtime(r: &ApiResources) -> Resources {
    Resources {
        memory: r.memory,
        memory_swap: r.memory_swap,
        memory_reservation: r.memory_reservation,
        nano_cpus: r.nano_cpus,
        cpu_shares: r.cpu_shares,
        cpu_quota: r.cpu_quota,
        cpu_period: r.cpu_period,
        cpuset_cpus: r.cpuset_cpus.clone(),
        cpuset_mems: r.cpuset_mems.clone(),
        pids_limit: r.pids_limit,
        oom_kill_disable: r.oom_kill_disable.unwrap_or(false),
        ulimits: r
            .ulimits
            .iter()
            .flatten()
            .map(|u| Ulimit { name: u.name.clone(), soft: u.soft, hard: u.hard })
            .collect(),
    }
}

/// Docker's validation of a set of limits, as a 400.
pub fn validate(r: &ApiResources) -> Result<Resources, ApiError> {
    let res = to_runtime(r);
    res.validate().map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(res)
}

/// Fields of an update that were set override the container's.
fn merge(old: &ApiResources, new: &ApiResources) -> ApiResources {
    let pick = |n: i64, o: i64| if n != 0 { n } else { o };
    ApiResources {
        memory: pick(new.memory, old.memory),
        memory_swap: pick(new.memory_swap, old.memory_swap),
        memory_reservation: pick(new.memory_reservation, old.memory_reservation),
        nano_cpus: pick(new.nano_cpus, old.nano_cpus),
        cpu_shares: pick(new.cpu_shares, old.cpu_shares),
        cpu_quota: pick(new.cpu_quota, old.cpu_quota),
        cpu_period: pick(new.cpu_period, old.cpu_period),
        cpuset_cpus: if new.cpuset_cpus.is_empty() { old.cpuset_cpus.clone() } else { new.cpuset_cpus.clone() },
        cpuset_mems: if new.cpuset_mems.is_empty() { old.cpuset_mems.clone() } else { new.cpuset_mems.clone() },
        pids_limit: new.pids_limit.or(old.pids_limit),
        oom_kill_disable: old.oom_kill_disable,
        ulimits: old.ulimits.clone(),
    }
}

impl ContainerManager {
    /// `POST /containers/{id}/update`. A limit the kernel refuses is
    /// reported and the old limits stay.
    pub async fn update(&self, c: &Arc<Container>, req: UpdateRequest) -> Result<Vec<String>, ApiError> {
        let _op = c.op.lock().await;
        let rec = c.snapshot();
        let merged = merge(&rec.host_config.resources, &req.resources);
        let res = validate(&merged)?;
        if let Some(p) = &req.restart_policy {
            super::restart::validate(p, rec.host_config.auto_remove)?;
        }
        if rec.state.status.is_running() {
            let body = serde_json::Value::Object(res.to_oci());
            let runtime = self.cfg.runtime_path(&rec.host_config.isolation.runtime).to_path_buf();
            let root = self.cfg.runtime_root();
            let id = c.id.clone();
            tokio::task::spawn_blocking(move || runtime_update(&runtime, &root, &id, &body))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?
                .map_err(|e| ApiError::invalid(format!("Cannot update container {id}: {e}", id = c.id)))?;
        }
        let rec = c.update(|r| {
            r.host_config.resources = merged;
            if let Some(p) = req.restart_policy {
                r.host_config.restart_policy = p;
            }
        });
        self.persist(&rec)?;
        self.emit(c, "update", &[]);
        Ok(vec![])
    }
}

fn runtime_update(runtime: &std::path::Path, root: &std::path::Path, id: &str, body: &serde_json::Value) -> Result<(), String> {
    super::runtime_cli::run(runtime, root, &["update", "--resources", "-", id], Some(body.to_string().as_bytes())).map(|_| ())
}
