//! Volume shapes: `GET /volumes`, `POST /volumes/create`, inspect, prune,
//! and the mount types a container's `HostConfig.Mounts` and inspect
//! `Mounts` use.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One volume, as `GET /volumes/{name}` shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Volume {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    pub driver: String,
    /// `null` when the volume was created without labels, as in Docker.
    pub labels: Option<BTreeMap<String, String>>,
    pub mountpoint: String,
    pub name: String,
    pub options: Option<BTreeMap<String, String>>,
    pub scope: String,
    /// Only in `GET /system/df`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// A volume's `UsageData`: bytes used and how many containers use it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeUsageData {
    pub size: i64,
    pub ref_count: i64,
}

/// `GET /volumes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeListResponse {
    pub volumes: Vec<Volume>,
    pub warnings: Option<Vec<String>>,
}

/// Body of `POST /volumes/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub driver: String,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "crate::stringmap::deserialize_opt")]
    pub driver_opts: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "crate::stringmap::deserialize_opt")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// `POST /volumes/prune`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumePruneResponse {
    pub volumes_deleted: Option<Vec<String>>,
    pub space_reclaimed: u64,
}

/// One entry of `HostConfig.Mounts` (what `--mount` sends).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    #[serde(rename = "Type", deserialize_with = "crate::stringmap::null_default")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "crate::stringmap::null_default")]
    pub source: String,
    #[serde(deserialize_with = "crate::stringmap::null_default")]
    pub target: String,
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "crate::stringmap::null_default")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "crate::stringmap::null_default")]
    pub consistency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "crate::stringmap::null_default")]
    pub propagation: String,
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "crate::stringmap::null_default")]
    pub non_recursive: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "crate::stringmap::null_default")]
    pub create_mountpoint: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "crate::stringmap::null_default")]
    pub no_copy: bool,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "crate::stringmap::deserialize_opt")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<DriverConfig>,
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "crate::stringmap::null_default")]
    pub subpath: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct DriverConfig {
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "crate::stringmap::null_default")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "crate::stringmap::deserialize_opt")]
    pub options: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "crate::stringmap::null_default")]
    pub size_bytes: i64,
    #[serde(skip_serializing_if = "is_zero_u32", deserialize_with = "crate::stringmap::null_default")]
    pub mode: u32,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

/// One entry of a container's inspect `Mounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_read_as_zero_values_as_go_does() {
        // docker-compose 1.29 (docker-py's Mount) for a tmpfs volume entry.
        let body = r#"[{"Target":"/cache","Source":null,"Type":"tmpfs","ReadOnly":null,"Consistency":null,
            "TmpfsOptions":{"SizeBytes":null,"Mode":null},"BindOptions":{"Propagation":null},"VolumeOptions":{"NoCopy":null,"Subpath":null}}]"#;
        let m: Vec<Mount> = serde_json::from_str(body).unwrap();
        assert_eq!((m[0].kind.as_str(), m[0].source.as_str(), m[0].target.as_str(), m[0].read_only), ("tmpfs", "", "/cache", false));
        assert_eq!(m[0].tmpfs_options.as_ref().map(|t| (t.size_bytes, t.mode)), Some((0, 0)));
        assert!(serde_json::from_str::<Vec<Mount>>(r#"[{"Target":"/c","ReadOnly":"yes"}]"#).is_err(), "a wrong type is still refused");
    }

    #[test]
    fn decodes_docker_cli_mounts() {
        let body = r#"[{"Type":"volume","Source":"mv","Target":"/m","VolumeOptions":{"NoCopy":true,"DriverConfig":{"Options":{"type":"tmpfs"}}}},
            {"Type":"bind","Source":"/x","Target":"/y","ReadOnly":true,"BindOptions":{"Propagation":"rshared"}},
            {"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576,"Mode":960}}]"#;
        let m: Vec<Mount> = serde_json::from_str(body).unwrap();
        assert_eq!(m[0].kind, "volume");
        assert!(m[0].volume_options.as_ref().unwrap().no_copy);
        assert_eq!(m[1].bind_options.as_ref().unwrap().propagation, "rshared");
        assert!(m[1].read_only);
        assert_eq!(m[2].tmpfs_options.as_ref().unwrap().mode, 0o1700);
    }

    #[test]
    fn volume_shows_null_labels_like_docker() {
        let v = Volume { name: "a".into(), driver: "local".into(), scope: "local".into(), ..Default::default() };
        let j = serde_json::to_value(&v).unwrap();
        assert!(j["Labels"].is_null());
        assert!(j["Options"].is_null());
        let mp = MountPoint { kind: "bind".into(), rw: true, ..Default::default() };
        let j = serde_json::to_value(&mp).unwrap();
        assert_eq!(j["RW"], true);
        assert!(j.get("Name").is_none());
    }
}
