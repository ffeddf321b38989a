//! `/version` and `/info`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VersionInfo {
    pub platform: Platform,
    pub components: Vec<Component>,
    pub version: String,
    pub api_version: String,
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    pub git_commit: String,
    pub go_version: String,
    pub os: String,
    pub arch: String,
    pub kernel_version: String,
    pub build_time: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Platform {
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Component {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The subset of `GET /info` berth fills in; the docker CLI tolerates the rest missing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub containers: i64,
    pub containers_running: i64,
    pub containers_paused: i64,
    pub containers_stopped: i64,
    pub images: i64,
    pub driver: String,
    pub driver_status: Vec<[String; 2]>,
    pub logging_driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub kernel_version: String,
    pub operating_system: String,
    #[serde(rename = "OSVersion")]
    pub os_version: String,
    #[serde(rename = "OSType")]
    pub os_type: String,
    pub architecture: String,
    #[serde(rename = "NCPU")]
    pub ncpu: i64,
    pub mem_total: i64,
    pub docker_root_dir: String,
    pub name: String,
    pub server_version: String,
    pub default_runtime: String,
    pub runtimes: serde_json::Value,
    pub security_options: Vec<String>,
    pub labels: Vec<String>,
    pub experimental_build: bool,
    pub live_restore_enabled: bool,
    pub debug: bool,
    #[serde(rename = "NFd")]
    pub nfd: i64,
    pub n_goroutines: i64,
    pub system_time: String,
    pub index_server_address: String,
    /// dockerd's RegistryServiceConfig: insecure CIDRs, per-registry index configs, mirrors.
    #[serde(default)]
    pub registry_config: serde_json::Value,
    pub plugins: serde_json::Value,
    pub warnings: Vec<String>,
    pub swarm: serde_json::Value,
}

/// `GET /system/df`. A part the request did not ask for is `null`, as in
/// dockerd.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DiskUsage {
    pub layers_size: i64,
    pub images: Option<Vec<crate::image::ImageSummary>>,
    pub containers: Option<Vec<crate::container::ContainerSummary>>,
    pub volumes: Option<Vec<crate::volume::Volume>>,
    pub build_cache: Option<Vec<serde_json::Value>>,
}
