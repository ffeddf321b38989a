//! `run`/`create` flags for what separates a container from the host:
//! capabilities, security options, namespace modes, devices, sysctls,
//! groups, OOM score, cgroup parent, runtime, and the log driver.
//! Parsed as the docker CLI parses them, so both send the same body.

use berth_api::container::{DeviceMapping, HostConfig, LogConfig};
use std::collections::BTreeMap;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct IsolationOptions {
    /// Add Linux capabilities
    #[arg(long = "cap-add", value_name = "list")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop", value_name = "list")]
    pub cap_drop: Vec<String>,
    /// Security options (seccomp=unconfined|builtin|PROFILE.json, no-new-privileges, systempaths=unconfined)
    #[arg(long = "security-opt", value_name = "list")]
    pub security_opt: Vec<String>,
    /// PID namespace to use (host, container:NAME)
    #[arg(long = "pid", value_name = "string")]
    pub pid: Option<String>,
    /// IPC mode to use (private, shareable, none, host, container:NAME)
    #[arg(long = "ipc", value_name = "string")]
    pub ipc: Option<String>,
    /// UTS namespace to use (host)
    #[arg(long = "uts", value_name = "string")]
    pub uts: Option<String>,
    /// Cgroup namespace to use (host|private)
    #[arg(long = "cgroupns", value_name = "string")]
    pub cgroupns: Option<String>,
    /// Optional parent cgroup for the container
    #[arg(long = "cgroup-parent", value_name = "string")]
    pub cgroup_parent: Option<String>,
    /// Add a host device to the container (HOST[:CONTAINER][:PERMISSIONS])
    #[arg(long = "device", value_name = "list")]
    pub device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list (e.g. 'c 1:3 rwm')
    #[arg(long = "device-cgroup-rule", value_name = "list")]
    pub device_cgroup_rule: Vec<String>,
    /// Namespaced kernel parameters (KEY=VALUE)
    #[arg(long = "sysctl", value_name = "map")]
    pub sysctl: Vec<String>,
    /// Add additional groups to join
    #[arg(long = "group-add", value_name = "list")]
    pub group_add: Vec<String>,
    /// Tune the host's OOM preferences (-1000 to 1000)
    #[arg(long = "oom-score-adj", value_name = "int", allow_hyphen_values = true)]
    pub oom_score_adj: Option<i64>,
    /// Runtime to use for this container
    #[arg(long = "runtime", value_name = "string")]
    pub runtime: Option<String>,
    /// Logging driver for the container
    #[arg(long = "log-driver", value_name = "string")]
    pub log_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt", value_name = "list")]
    pub log_opt: Vec<String>,
}

impl IsolationOptions {
    /// Fills the isolation and logging fields of `hc`.
    pub fn apply(&self, hc: &mut HostConfig) -> Result<(), String> {
        let list = |v: &[String]| if v.is_empty() { None } else { Some(v.to_vec()) };
        let iso = &mut hc.isolation;
        iso.cap_add = list(&self.cap_add);
        iso.cap_drop = list(&self.cap_drop);
        let mut security = Vec::new();
        for opt in &self.security_opt {
            match security_opt(opt)? {
                SecurityOpt::Pass(o) => security.push(o),
                SecurityOpt::UnconfinedPaths => {
                    iso.masked_paths = Some(vec![]);
                    iso.readonly_paths = Some(vec![]);
                }
            }
        }
        iso.security_opt = list(&security);
        iso.pid_mode = self.pid.clone().unwrap_or_default();
        iso.ipc_mode = self.ipc.clone().unwrap_or_default();
        iso.uts_mode = self.uts.clone().unwrap_or_default();
        iso.cgroupns_mode = self.cgroupns.clone().unwrap_or_default();
        iso.cgroup_parent = self.cgroup_parent.clone().unwrap_or_default();
        let devices = self.device.iter().map(|d| parse_device(d)).collect::<Result<Vec<_>, _>>()?;
        iso.devices = Some(devices);
        iso.device_cgroup_rules = list(&self.device_cgroup_rule);
        if !self.sysctl.is_empty() {
            iso.sysctls = Some(key_values(&self.sysctl, "--sysctl")?);
        }
        iso.group_add = list(&self.group_add);
        iso.oom_score_adj = self.oom_score_adj.unwrap_or(0);
        iso.runtime = self.runtime.clone().unwrap_or_default();
        // The docker CLI's own check (the daemon takes options for none).
        if self.log_driver.as_deref() == Some("none") && !self.log_opt.is_empty() {
            return Err("invalid logging opts for driver none".into());
        }
        hc.log_config = LogConfig {
            kind: self.log_driver.clone().unwrap_or_default(),
            config: key_values(&self.log_opt, "--log-opt")?,
        };
        Ok(())
    }
}

enum SecurityOpt {
    /// Sent to the daemon as written (a seccomp file replaced by its content).
    Pass(String),
    /// `systempaths=unconfined`: the CLI clears the masked and read-only paths.
    UnconfinedPaths,
}

/// The docker CLI's handling of one `--security-opt`: a seccomp profile is
/// read here and sent as its JSON; `systempaths=unconfined` is not sent.
fn security_opt(opt: &str) -> Result<SecurityOpt, String> {
    let (key, value) = opt.split_once('=').or_else(|| opt.split_once(':')).unwrap_or((opt, ""));
    match key {
        "systempaths" if value == "unconfined" => Ok(SecurityOpt::UnconfinedPaths),
        "systempaths" => Err(format!("invalid --security-opt: {opt:?}")),
        "seccomp" if !matches!(value, "unconfined" | "builtin" | "") => {
            let text = std::fs::read(value).map_err(|e| format!("opening seccomp profile ({value}) failed: {e}"))?;
            let json: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("compacting json for seccomp profile ({value}) failed: {e}"))?;
            Ok(SecurityOpt::Pass(format!("seccomp={json}")))
        }
        _ => Ok(SecurityOpt::Pass(opt.to_string())),
    }
}

fn valid_mode(s: &str) -> bool {
    !s.is_empty() && s.len() <= 3 && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
}

/// `HOST[:CONTAINER][:PERMISSIONS]`, as the docker CLI splits it.
fn parse_device(spec: &str) -> Result<DeviceMapping, String> {
    let bad = || format!("invalid argument \"{spec}\" for \"--device\" flag: bad format for path: {spec}");
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if valid_mode(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] if valid_mode(p) => (*h, *c, *p),
        [_, _, p] => return Err(format!("invalid argument \"{spec}\" for \"--device\" flag: invalid device mode: {p}")),
        _ => return Err(bad()),
    };
    if host.is_empty() || container.is_empty() {
        return Err(bad());
    }
    Ok(DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: container.to_string(),
        cgroup_permissions: perms.to_string(),
    })
}

fn key_values(list: &[String], flag: &str) -> Result<BTreeMap<String, String>, String> {
    list.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(format!("invalid argument \"{kv}\" for \"{flag}\" flag: expected KEY=VALUE")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_split_as_docker() {
        let d = |s: &str| parse_device(s).map(|m| (m.path_on_host, m.path_in_container, m.cgroup_permissions));
        assert_eq!(d("/dev/fuse").unwrap(), ("/dev/fuse".into(), "/dev/fuse".into(), "rwm".into()));
        assert_eq!(d("/dev/fuse:r").unwrap(), ("/dev/fuse".into(), "/dev/fuse".into(), "r".into()));
        assert_eq!(d("/dev/sda:/dev/xvdc").unwrap(), ("/dev/sda".into(), "/dev/xvdc".into(), "rwm".into()));
        assert_eq!(d("/dev/sda:/dev/xvdc:rw").unwrap(), ("/dev/sda".into(), "/dev/xvdc".into(), "rw".into()));
        assert!(d("/dev/sda:/dev/xvdc:rwx").is_err());
        assert!(d("a:b:c:d").is_err());
    }

    #[test]
    fn security_opts_as_the_docker_cli_sends_them() {
        let mut hc = HostConfig::default();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.json");
        std::fs::write(&p, "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }").unwrap();
        let opts = IsolationOptions {
            security_opt: vec![format!("seccomp={}", p.display()), "systempaths=unconfined".into(), "no-new-privileges".into()],
            sysctl: vec!["net.ipv4.ip_forward=1".into()],
            ..Default::default()
        };
        opts.apply(&mut hc).unwrap();
        assert_eq!(
            hc.isolation.security_opt,
            Some(vec![r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#.to_string(), "no-new-privileges".into()])
        );
        assert_eq!(hc.isolation.masked_paths, Some(vec![]));
        assert_eq!(hc.isolation.sysctls.unwrap()["net.ipv4.ip_forward"], "1");
        let missing = IsolationOptions { security_opt: vec!["seccomp=/nope.json".into()], ..Default::default() };
        assert!(missing.apply(&mut HostConfig::default()).unwrap_err().contains("opening seccomp profile"));
    }
}
