//! Plugin shapes: `GET /plugins`, `GET /plugins/{name}/json`, and the
//! `config.json` of a plugin's context (`POST /plugins/create`), which
//! plugin authors write with lower-case keys (decoded with
//! [`crate::casefold`], as Go decodes it).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One plugin, as `inspect` and `ls` show it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Plugin {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub settings: PluginSettings,
    pub plugin_reference: String,
    pub config: PluginConfig,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginSettings {
    pub mounts: Vec<Value>,
    pub env: Vec<String>,
    pub args: Vec<String>,
    pub devices: Vec<Value>,
}

/// A plugin's `config.json` (Docker's `PluginConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginConfig {
    pub docker_version: String,
    pub description: String,
    pub documentation: String,
    pub interface: PluginInterface,
    pub entrypoint: Vec<String>,
    pub work_dir: String,
    pub user: PluginUser,
    pub network: PluginNetwork,
    pub linux: PluginLinux,
    pub propagated_mount: String,
    pub ipc_host: bool,
    pub pid_host: bool,
    pub mounts: Vec<Value>,
    pub env: Vec<PluginEnv>,
    pub args: PluginArgs,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginInterface {
    #[serde(deserialize_with = "interface_types")]
    pub types: Vec<PluginInterfaceType>,
    pub socket: String,
    pub protocol_scheme: String,
}

/// `docker.volumedriver/1.0`: a string on the wire (Docker's type
/// marshals itself so), parts here.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginInterfaceType {
    pub prefix: String,
    pub capability: String,
    pub version: String,
}

impl PluginConfig {
    /// Reads a plugin's `config.json`, matching its keys to the fields
    /// without regard to case (as dockerd does; authors write them in
    /// lower case), list items included.
    pub fn from_json(bytes: &[u8]) -> Result<PluginConfig, serde_json::Error> {
        let sample = PluginConfig {
            interface: PluginInterface { types: vec![PluginInterfaceType::default()], ..Default::default() },
            env: vec![PluginEnv { settable: vec![String::new()], ..Default::default() }],
            ..Default::default()
        };
        crate::casefold::from_slice_like(bytes, &sample)
    }
}

impl Serialize for PluginInterfaceType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{}/{}", self.prefix, self.capability, self.version))
    }
}

impl PluginInterfaceType {
    /// Reads `prefix.capability/version`.
    pub fn parse(s: &str) -> Option<PluginInterfaceType> {
        let (name, version) = s.split_once('/')?;
        let (prefix, capability) = name.split_once('.')?;
        Some(PluginInterfaceType { prefix: prefix.into(), capability: capability.into(), version: version.into() })
    }
}

/// Interface types are strings in `config.json` and objects in inspect.
fn interface_types<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PluginInterfaceType>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum T {
        Text(String),
        Object(PluginInterfaceType),
    }
    Option::<Vec<T>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|t| match t {
            T::Object(o) => Ok(o),
            T::Text(s) => PluginInterfaceType::parse(&s)
                .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a valid plugin interface type"))),
        })
        .collect()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginUser {
    #[serde(rename = "UID")]
    pub uid: u32,
    #[serde(rename = "GID")]
    pub gid: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginNetwork {
    #[serde(rename = "Type")]
    pub kind: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginLinux {
    pub capabilities: Vec<String>,
    pub allow_all_devices: bool,
    pub devices: Vec<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginEnv {
    pub name: String,
    pub description: String,
    pub settable: Vec<String>,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginArgs {
    pub name: String,
    pub description: String,
    pub settable: Vec<String>,
    pub value: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_lower_case_config_json() {
        let c: PluginConfig = PluginConfig::from_json(
            br#"{"description":"d","entrypoint":["/dummy"],"network":{"type":"host"},
                "interface":{"types":["docker.volumedriver/1.0"],"socket":"dummy.sock"},
                "env":[{"name":"DEBUG","settable":["value"],"value":"0"}]}"#,
        )
        .expect("valid");
        assert_eq!(c.entrypoint, vec!["/dummy".to_string()]);
        assert_eq!(c.network.kind, "host");
        assert_eq!(c.interface.socket, "dummy.sock");
        assert_eq!(
            c.interface.types,
            vec![PluginInterfaceType { prefix: "docker".into(), capability: "volumedriver".into(), version: "1.0".into() }]
        );
        assert_eq!(c.env[0].name, "DEBUG");
        let v = serde_json::to_value(&c).expect("serializes");
        assert_eq!(v["Entrypoint"][0], "/dummy");
        assert_eq!(v["Interface"]["Types"][0], "docker.volumedriver/1.0");
        // What inspect wrote reads back.
        let again: PluginConfig = serde_json::from_value(v).expect("round trip");
        assert_eq!(again.interface.types.len(), 1);
        assert!(PluginConfig::from_json(br#"{"interface":{"types":["nodot"]}}"#).is_err());
    }
}
