//! Container shapes: the create request (`Config` + `HostConfig`), the
//! `ps` summary, `inspect`, and `wait`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Docker's `ContainerConfig`: what the container runs. Unknown fields are
/// kept so that `inspect` shows what the client sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    #[serde(deserialize_with = "nullable_vec")]
    pub env: Vec<String>,
    #[serde(deserialize_with = "crate::strslice::deserialize")]
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Value>,
    pub image: String,
    pub volumes: Option<BTreeMap<String, Value>>,
    pub working_dir: String,
    #[serde(deserialize_with = "crate::strslice::deserialize")]
    pub entrypoint: Option<Vec<String>>,
    pub on_build: Option<Vec<String>>,
    #[serde(deserialize_with = "crate::stringmap::deserialize")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The part of `HostConfig` berth acts on; everything else is kept verbatim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub network_mode: String,
    pub auto_remove: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    pub privileged: bool,
    pub readonly_rootfs: bool,
    pub shm_size: i64,
    pub restart_policy: RestartPolicy,
    pub binds: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<crate::volume::Mount>>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "crate::stringmap::deserialize_opt")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub volumes_from: Option<Vec<String>>,
    pub log_config: LogConfig,
    #[serde(flatten)]
    pub isolation: Isolation,
    #[serde(flatten)]
    pub resources: Resources,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What separates the container from the host: capabilities, security
/// options, namespace modes, devices, sysctls (all in `HostConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Isolation {
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub security_opt: Option<Vec<String>>,
    pub pid_mode: String,
    pub ipc_mode: String,
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    pub cgroupns_mode: String,
    pub cgroup_parent: String,
    pub devices: Option<Vec<DeviceMapping>>,
    pub device_cgroup_rules: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "crate::stringmap::deserialize_opt")]
    pub sysctls: Option<BTreeMap<String, String>>,
    pub group_add: Option<Vec<String>>,
    pub oom_score_adj: i64,
    pub runtime: String,
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
}

/// One `--device`: a host device node (or directory of them) and where it appears.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

/// The resource limits of `HostConfig` (also the body of `update`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Resources {
    pub memory: i64,
    pub memory_swap: i64,
    pub memory_reservation: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub pids_limit: Option<i64>,
    /// 0..=100; -1 or null: the kernel's default.
    pub memory_swappiness: Option<i64>,
    #[serde(rename = "OomKillDisable")]
    pub oom_kill_disable: Option<bool>,
    pub ulimits: Option<Vec<UlimitSpec>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct UlimitSpec {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Body of `POST /containers/{id}/update`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateRequest {
    #[serde(flatten)]
    pub resources: Resources,
    pub restart_policy: Option<RestartPolicy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: i64,
}

/// An empty type (a request without one) is the daemon's default driver.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(deserialize_with = "crate::stringmap::deserialize")]
    pub config: BTreeMap<String, String>,
}


/// Body of `POST /containers/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateRequest {
    #[serde(flatten)]
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networking_config: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResponse {
    pub id: String,
    pub warnings: Vec<String>,
}

/// One row of `GET /containers/json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerSummary {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created: i64,
    pub ports: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    pub labels: BTreeMap<String, String>,
    pub state: String,
    pub status: String,
    pub host_config: Value,
    pub network_settings: Value,
    pub mounts: Vec<crate::volume::MountPoint>,
}

/// `State` in `inspect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Value>,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerInspect {
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: ContainerState,
    pub image: String,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    pub log_path: String,
    pub name: String,
    pub restart_count: i64,
    pub driver: String,
    pub platform: String,
    pub mount_label: String,
    pub process_label: String,
    pub app_armor_profile: String,
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    pub host_config: HostConfig,
    pub graph_driver: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    pub mounts: Vec<crate::volume::MountPoint>,
    pub config: ContainerConfig,
    pub network_settings: Value,
}

/// `POST /containers/{id}/wait` response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitResponse {
    pub status_code: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<WaitError>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitError {
    pub message: String,
}

/// `POST /containers/prune` response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PruneResponse {
    pub containers_deleted: Option<Vec<String>>,
    pub space_reclaimed: u64,
}

fn nullable_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_accepts_docker_cli_body() {
        let body = r#"{"Hostname":"","User":"","AttachStdout":true,"Tty":false,"Env":null,
            "Cmd":["echo","hi"],"Image":"busybox","Entrypoint":null,"Labels":{"a":"b"},
            "Volumes":{},"WorkingDir":"","HostConfig":{"AutoRemove":true,"NetworkMode":"default",
            "CpuShares":0,"LogConfig":{"Type":"","Config":{}}},"NetworkingConfig":{"EndpointsConfig":{}}}"#;
        let r: CreateRequest = serde_json::from_str(body).unwrap();
        assert_eq!(r.config.cmd, Some(vec!["echo".to_string(), "hi".to_string()]));
        assert!(r.config.env.is_empty());
        assert!(r.host_config.auto_remove);
        assert_eq!(r.config.labels.get("a").map(String::as_str), Some("b"));
        // Unknown HostConfig fields survive a round trip.
        let back = serde_json::to_value(&r.host_config).unwrap();
        assert_eq!(back["CpuShares"], 0);
    }

    #[test]
    fn resources_are_typed_and_not_duplicated() {
        let h: HostConfig = serde_json::from_str(r#"{"Memory":67108864,"PidsLimit":10,"CpuShares":0,"Ulimits":[{"Name":"nofile","Soft":1,"Hard":2}],"Foo":1}"#).unwrap();
        assert_eq!(h.resources.memory, 64 << 20);
        assert_eq!(h.resources.pids_limit, Some(10));
        assert!(!h.extra.contains_key("Memory"));
        assert!(h.extra.contains_key("Foo"));
        let text = serde_json::to_string(&h).unwrap();
        assert_eq!(text.matches("\"Memory\"").count(), 1);
    }

    #[test]
    fn null_map_values_read_as_empty_strings() {
        // docker-compose 1.29's create body.
        let r: CreateRequest = serde_json::from_str(r#"{"Image":"busybox","Labels":{"a":null},"HostConfig":{"Tmpfs":{"/run":null}}}"#).unwrap();
        assert_eq!(r.config.labels.get("a").map(String::as_str), Some(""));
        assert_eq!(r.host_config.tmpfs.and_then(|t| t.get("/run").cloned()).as_deref(), Some(""));
    }

    #[test]
    fn cmd_may_be_a_string() {
        let r: ContainerConfig = serde_json::from_str(r#"{"Cmd":"ls -l"}"#).unwrap();
        assert_eq!(r.cmd, Some(vec!["ls -l".to_string()]));
    }
}
