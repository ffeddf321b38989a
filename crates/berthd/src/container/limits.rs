//! Resource limits: the API's `HostConfig` fields to the runtime's
//! `Resources`, checked at create, and `update` of a container's limits
//! (live through the runtime's `update` for a running one).

use super::manager::{Container, ContainerManager};
use berth_api::container::{Resources as ApiResources, UpdateRequest};
use berth_api::ApiError;
use std::path::Path;
use std::sync::Arc;

// The checks need nothing of the daemon: they live in the lib (fuzzed).
pub use berthd::checks::resources::{to_runtime, validate, validate_host_config};

/// Limits the host's cgroups cannot apply, dropped with dockerd's warning
/// (as dockerd does): swappiness exists only in cgroup v1's memory
/// controller.
pub fn discard_unsupported(r: &mut ApiResources) -> Vec<String> {
    let mut warnings = Vec::new();
    if r.memory_swappiness.is_some_and(|s| s != -1) && !Path::new(V1_SWAPPINESS).exists() {
        warnings.push(
            "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded."
                .to_string(),
        );
        r.memory_swappiness = None;
    }
    warnings
}

/// The v1 memory controller's swappiness knob (absent on a cgroup v2 host).
const V1_SWAPPINESS: &str = "/sys/fs/cgroup/memory/memory.swappiness";

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
        memory_swappiness: new.memory_swappiness.or(old.memory_swappiness),
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
            let runtime = self.cfg.runtime_path(&rec.host_config.isolation.runtime);
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

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::HostConfig;

    fn host_config(json: &str) -> HostConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn create_refuses_what_dockerd_refuses() {
        let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpus = format!("Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available");
        for (body, want) in [
            (r#"{"Memory":-1}"#, "Minimum memory limit allowed is 6MB"),
            (r#"{"ShmSize":-1}"#, "SHM size can not be less than 0"),
            (r#"{"CpuPeriod":-1}"#, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
            (r#"{"CpuQuota":10}"#, "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
            (r#"{"BlkioWeight":5000}"#, "Range of blkio weight is from 10 to 1000"),
            (r#"{"BlkioWeight":5}"#, "Range of blkio weight is from 10 to 1000"),
            (r#"{"BlkioWeight":"x"}"#, "invalid value for BlkioWeight: \"x\""),
            (r#"{"OomScoreAdj":5000}"#, "Invalid value 5000, range for oom score adj is [-1000, 1000]"),
            (r#"{"OomScoreAdj":-1001}"#, "Invalid value -1001, range for oom score adj is [-1000, 1000]"),
            (r#"{"NanoCpus":4611686018427387904}"#, cpus.as_str()),
            (r#"{"Memory":1048576}"#, "Minimum memory limit allowed is 6MB"),
        ] {
            let e = validate_host_config(&host_config(body)).unwrap_err();
            assert_eq!((e.status(), e.message.as_str()), (400, want), "{body}");
        }
        for ok in [
            r#"{}"#,
            r#"{"Memory":9223372036854775807}"#,
            r#"{"BlkioWeight":0,"OomScoreAdj":-1000,"ShmSize":0,"CpuPeriod":100000,"CpuQuota":50000}"#,
            r#"{"BlkioWeight":1000,"OomScoreAdj":1000,"NanoCpus":1000000000}"#,
        ] {
            assert!(validate_host_config(&host_config(ok)).is_ok(), "{ok}");
        }
    }
}
