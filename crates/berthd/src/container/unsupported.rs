//! Settings berth cannot honour yet. A create that sets one is refused
//! with 400 naming the field: accepting it and running without it would
//! leave the user believing in a limit or a driver that is not there.
//! The README's "Not supported yet" table lists the same fields (log
//! drivers and options are checked in `logdriver.rs`).

use berth_api::container::{ContainerConfig, HostConfig};
use berth_api::ApiError;
use serde_json::Value;

/// `HostConfig` fields berth does not act on, with the values that mean
/// "not set" besides null, false, 0, "" and empty lists or maps.
const HOST_CONFIG: &[(&str, &[&str])] = &[
    ("BlkioWeight", &[]),
    ("BlkioWeightDevice", &[]),
    ("BlkioDeviceReadBps", &[]),
    ("BlkioDeviceWriteBps", &[]),
    ("BlkioDeviceReadIOps", &[]),
    ("BlkioDeviceWriteIOps", &[]),
    ("Cgroup", &[]),
    ("CpuCount", &[]),
    ("CpuPercent", &[]),
    ("CpuRealtimePeriod", &[]),
    ("CpuRealtimeRuntime", &[]),
    ("DeviceRequests", &[]),
    ("IOMaximumBandwidth", &[]),
    ("IOMaximumIOps", &[]),
    ("Isolation", &["default"]),
    ("KernelMemory", &[]),
    ("KernelMemoryTCP", &[]),
    ("StorageOpt", &[]),
    ("UsernsMode", &["host"]),
];

/// `Config` fields berth does not act on.
const CONFIG: &[(&str, &[&str])] = &[("NetworkDisabled", &[])];

/// Per-endpoint fields of `NetworkingConfig.EndpointsConfig`.
const ENDPOINT: &[(&str, &[&str])] = &[("GwPriority", &[])];

/// Whether `v` sets something, given the spellings of "unset" for its field.
fn is_set(v: &Value, unset: &[&str]) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0) && !unset.contains(&n.to_string().as_str()),
        Value::String(s) => !s.is_empty() && !unset.contains(&s.as_str()),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn check(obj: Option<&serde_json::Map<String, Value>>, table: &[(&str, &[&str])], prefix: &str) -> Result<(), ApiError> {
    let Some(obj) = obj else { return Ok(()) };
    for (field, unset) in table {
        if obj.get(*field).is_some_and(|v| is_set(v, unset)) {
            return Err(ApiError::invalid(format!("berth does not support {prefix}{field} yet")));
        }
    }
    Ok(())
}

/// Refuses a create request that sets anything berth would silently ignore.
pub fn refuse(hc: &HostConfig, config: &ContainerConfig, networking: Option<&Value>) -> Result<(), ApiError> {
    check(Some(&hc.extra), HOST_CONFIG, "HostConfig.")?;
    check(Some(&config.extra), CONFIG, "Config.")?;
    let endpoints = networking.and_then(|n| n.get("EndpointsConfig")).and_then(Value::as_object);
    for (name, ep) in endpoints.into_iter().flatten() {
        let prefix = format!("NetworkingConfig.EndpointsConfig[{name}].");
        check(ep.as_object(), ENDPOINT, &prefix)?;
    }
    super::logdriver::LogDriver::validate(&hc.log_config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host(v: Value) -> HostConfig {
        serde_json::from_value(v).unwrap()
    }

    fn refused(hc: Value, config: Value, net: Option<Value>) -> Option<String> {
        let config: ContainerConfig = serde_json::from_value(config).unwrap();
        refuse(&host(hc), &config, net.as_ref()).err().map(|e| e.message)
    }

    #[test]
    fn defaults_the_docker_cli_sends_pass() {
        let hc = json!({"BlkioWeight": 0, "BlkioDeviceReadBps": [], "Cgroup": "", "CpuCount": 0,
            "DeviceRequests": null, "Isolation": "", "MemorySwappiness": -1, "UsernsMode": "",
            "VolumeDriver": "", "LogConfig": {"Type": "", "Config": {}}, "ContainerIDFile": ""});
        assert_eq!(refused(hc, json!({}), Some(json!({"EndpointsConfig": {"bridge": {"IPAMConfig": {}}}}))), None);
        assert_eq!(refused(json!({"Isolation": "default", "UsernsMode": "host"}), json!({}), None), None);
    }

    #[test]
    fn set_fields_are_named() {
        assert_eq!(refused(json!({"BlkioWeight": 300}), json!({}), None).unwrap(), "berth does not support HostConfig.BlkioWeight yet");
        assert_eq!(refused(json!({"UsernsMode": "private"}), json!({}), None).unwrap(), "berth does not support HostConfig.UsernsMode yet");
        assert_eq!(refused(json!({}), json!({"NetworkDisabled": true}), None).unwrap(), "berth does not support Config.NetworkDisabled yet");
        let net = json!({"EndpointsConfig": {"n1": {"GwPriority": 10}}});
        assert_eq!(refused(json!({}), json!({}), Some(net)).unwrap(), "berth does not support NetworkingConfig.EndpointsConfig[n1].GwPriority yet");
    }
}
