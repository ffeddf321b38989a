//! Resource limits: the API's `HostConfig` fields to the runtime's
//! `Resources`, and dockerd's checks of them at create and update.

use berth_api::container::{HostConfig, Resources as ApiResources};
use berth_api::ApiError;
use berth_runtime::{Resources, Ulimit};
use serde_json::Value;

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
        // -1 is the clients' "not set" (the docker CLI sends it by default).
        memory_swappiness: r.memory_swappiness.filter(|s| *s != -1),
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
    let ncpu = std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
    res.validate(ncpu).map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(res)
}

/// Create's checks of a `HostConfig` beyond the limits: the fields berth
/// keeps verbatim are still refused as dockerd refuses them, so a bad
/// value is a 400 at create and never a failure (or a silent default) at
/// start.
pub fn validate_host_config(hc: &HostConfig) -> Result<Resources, ApiError> {
    if hc.shm_size < 0 {
        return Err(ApiError::invalid("SHM size can not be less than 0"));
    }
    let int = |key: &str| -> Result<Option<i64>, ApiError> {
        match hc.extra.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| ApiError::invalid(format!("invalid value for {key}: {v}"))),
        }
    };
    if let Some(w) = int("BlkioWeight")? {
        if w != 0 && !(10..=1000).contains(&w) {
            return Err(ApiError::invalid("Range of blkio weight is from 10 to 1000"));
        }
    }
    let adj = hc.isolation.oom_score_adj;
    if !(-1000..=1000).contains(&adj) {
        return Err(ApiError::invalid(format!("Invalid value {adj}, range for oom score adj is [-1000, 1000]")));
    }
    validate(&hc.resources)
}
