//! Network wire types: `GET /networks`, `POST /networks/create`, connect.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Network {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: String,
    pub driver: String,
    #[serde(rename = "EnableIPv4")]
    pub enable_ipv4: bool,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: Value,
    pub config_only: bool,
    pub containers: BTreeMap<String, NetworkContainer>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    pub driver: String,
    #[serde(deserialize_with = "crate::stringmap::deserialize_opt")]
    pub options: Option<BTreeMap<String, String>>,
    #[serde(deserialize_with = "null_as_empty_list")]
    pub config: Vec<IpamConfig>,
}

fn null_as_empty_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpamConfig>, D::Error> {
    Ok(Option::<Vec<IpamConfig>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamConfig {
    /// docker-py sends `null` for what is not set.
    #[serde(deserialize_with = "crate::stringmap::null_as_empty")]
    pub subnet: String,
    #[serde(rename = "IPRange", skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    #[serde(deserialize_with = "crate::stringmap::null_as_empty", skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(deserialize_with = "crate::stringmap::deserialize_opt", skip_serializing_if = "Option::is_none")]
    pub auxiliary_addresses: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkContainer {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// `POST /networks/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateRequest {
    pub name: String,
    pub driver: String,
    pub internal: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Option<Ipam>,
    #[serde(deserialize_with = "crate::stringmap::deserialize_opt")]
    pub options: Option<BTreeMap<String, String>>,
    #[serde(deserialize_with = "crate::stringmap::deserialize_opt")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: Option<bool>,
    /// docker 28's `--ipv4=false` (IPv6-only networks).
    #[serde(rename = "EnableIPv4")]
    pub enable_ipv4: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateResponse {
    pub id: String,
    pub warning: String,
}

/// `POST /networks/{id}/connect` and `disconnect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnectRequest {
    pub container: String,
    pub endpoint_config: Option<Value>,
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipam_nulls_read_as_unset() {
        let body = r#"{"Name":"n","IPAM":{"Driver":"default","Config":[{"Subnet":"10.1.0.0/16","IPRange":null,"Gateway":null,"AuxiliaryAddresses":null}],"Options":null}}"#;
        let r: NetworkCreateRequest = serde_json::from_str(body).expect("valid");
        let c = &r.ipam.expect("ipam").config[0];
        assert_eq!((c.subnet.as_str(), c.gateway.as_str(), c.ip_range.as_deref()), ("10.1.0.0/16", "", None));
        assert!(c.auxiliary_addresses.is_none());
        let r: NetworkCreateRequest = serde_json::from_str(r#"{"Name":"n","IPAM":{"Config":null}}"#).expect("valid");
        assert!(r.ipam.expect("ipam").config.is_empty());
        let shown = serde_json::to_value(IpamConfig { subnet: "10.1.0.0/16".into(), gateway: "10.1.0.1".into(), ..Default::default() }).expect("json");
        assert_eq!(shown, serde_json::json!({"Subnet": "10.1.0.0/16", "Gateway": "10.1.0.1"}));
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkPruneResponse {
    pub networks_deleted: Vec<String>,
}
