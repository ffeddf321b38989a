//! The isolation fields of `HostConfig` (capabilities, security options,
//! namespace modes, devices, sysctls, groups, OOM score, cgroup parent,
//! runtime): checked and completed at create, resolved into the spec's
//! terms at start. Joining another container's namespace needs it running.

use super::manager::ContainerManager;
use super::record::ContainerRecord;
use berth_api::container::{ContainerConfig, HostConfig, Isolation};
use berth_api::ApiError;
use berth_runtime::{
    Device, DeviceRule, Namespaces, NsMode, ResolvedUser, RuntimeError, SeccompSpec, SecurityOptions, ShmMount,
};
use std::path::{Path, PathBuf};

/// What start hands to the spec, resolved from the record.
pub struct IsolationSpec {
    pub capabilities: Vec<String>,
    pub seccomp: SeccompSpec,
    pub no_new_privileges: bool,
    pub namespaces: Namespaces,
    pub shm: ShmMount,
    pub devices: Vec<Device>,
    pub device_rules: Vec<DeviceRule>,
    /// A shareable container's /dev/shm, mounted on the host by start.
    pub shareable_shm: bool,
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(e.to_string())
}

/// A namespace mode as the API spells it.
enum Mode<'a> {
    Private,
    Host,
    Container(&'a str),
}

fn mode<'a>(value: &'a str, what: &str, extra: &[&str]) -> Result<Mode<'a>, ApiError> {
    match value {
        "" | "private" => Ok(Mode::Private),
        "host" => Ok(Mode::Host),
        v if extra.contains(&v) => Ok(Mode::Private),
        v => match v.strip_prefix("container:") {
            Some(name) if !name.is_empty() => Ok(Mode::Container(name)),
            _ => Err(ApiError::invalid(format!("invalid {what} mode: {v}"))),
        },
    }
}

/// The cgroup namespace mode Docker picks when none is given: the host's on
/// cgroup v1 or hybrid hosts, a private one on a pure v2 host.
fn default_cgroupns_mode() -> &'static str {
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "private"
    } else {
        "host"
    }
}

/// The cgroup path of a container: `/berth/<id>`, or `<parent>/<id>` (`--cgroup-parent`).
pub fn cgroup_path(rec: &ContainerRecord) -> String {
    cgroup_path_under(&rec.id, &rec.host_config.isolation.cgroup_parent)
}

fn cgroup_path_under(id: &str, parent: &str) -> String {
    match parent.trim_end_matches('/') {
        "" => format!("/berth/{id}"),
        p if p.starts_with('/') => format!("{p}/{id}"),
        p => format!("/{p}/{id}"),
    }
}

impl ContainerManager {
    /// Checks the isolation fields of a create request and fills in what
    /// dockerd shows in `inspect` (IPC and cgroup namespace modes, runtime).
    pub(super) fn check_isolation(&self, hc: &mut HostConfig, config: &mut ContainerConfig) -> Result<(), ApiError> {
        let network_host = hc.network_mode == "host";
        let iso = &mut hc.isolation;
        let caps = |list: &Option<Vec<String>>, field: &str| -> Result<(), ApiError> {
            for c in list.iter().flatten() {
                berth_runtime::normalize_capability(c).map_err(|e| ApiError::invalid(format!("invalid {field}: {e}")))?;
            }
            Ok(())
        };
        caps(&iso.cap_add, "CapAdd")?;
        caps(&iso.cap_drop, "CapDrop")?;
        berth_runtime::parse_security_opts(iso.security_opt.as_deref().unwrap_or_default()).map_err(invalid)?;
        for (value, what) in [(&iso.pid_mode, "PID"), (&iso.uts_mode, "UTS")] {
            if let Mode::Container(name) = mode(value, what, &[])? {
                if what == "UTS" {
                    return Err(ApiError::invalid(format!("invalid UTS mode: container:{name}")));
                }
                self.get(name)?;
            }
        }
        if let Mode::Container(name) = mode(&iso.ipc_mode, "IPC", &["shareable", "none"])? {
            self.get(name)?;
        }
        if iso.ipc_mode.is_empty() {
            iso.ipc_mode = "private".into();
        }
        match iso.cgroupns_mode.as_str() {
            "" => iso.cgroupns_mode = default_cgroupns_mode().into(),
            "host" | "private" => {}
            other => return Err(ApiError::invalid(format!("invalid cgroup namespace mode: {other}"))),
        }
        if iso.uts_mode == "host" {
            if !config.hostname.is_empty() {
                return Err(ApiError::invalid("conflicting options: hostname and the UTS mode"));
            }
            config.hostname = host_name();
        }
        if iso.cgroup_parent.split('/').any(|c| c == "..") {
            return Err(ApiError::invalid(format!("invalid cgroup parent: {}", iso.cgroup_parent)));
        }
        for d in iso.devices.iter().flatten() {
            berth_runtime::resolve_device(&d.path_on_host, &d.path_in_container, &d.cgroup_permissions).map_err(invalid)?;
        }
        for r in iso.device_cgroup_rules.iter().flatten() {
            berth_runtime::parse_device_rule(r).map_err(invalid)?;
        }
        if let Some(sysctls) = &iso.sysctls {
            let ns = namespaces_by_name(iso);
            berth_runtime::validate_sysctls(sysctls, &ns, !network_host).map_err(invalid)?;
        }
        for p in iso.masked_paths.iter().flatten().chain(iso.readonly_paths.iter().flatten()) {
            if !p.starts_with('/') {
                return Err(ApiError::invalid(format!("path {p:?} is not absolute")));
            }
        }
        let runtimes = self.cfg.runtimes();
        if iso.runtime.is_empty() {
            iso.runtime = runtimes.default_name;
        } else if !runtimes.all.contains_key(&iso.runtime) {
            return Err(ApiError::invalid(format!("unknown or invalid runtime name: {}", iso.runtime)));
        }
        if !config.domainname.is_empty() && iso.uts_mode == "host" {
            return Err(ApiError::invalid("conflicting options: domainname and the UTS mode"));
        }
        Ok(())
    }

    /// Resolves the isolation fields for a start.
    pub(super) fn resolve_isolation(&self, rec: &ContainerRecord) -> Result<IsolationSpec, String> {
        let hc = &rec.host_config;
        let iso = &hc.isolation;
        let (capabilities, security) = process_security(hc).map_err(|e| e.to_string())?;
        let seccomp = security.seccomp_spec(&capabilities).map_err(|e| e.to_string())?;
        let mut namespaces = namespaces_by_name(iso);
        if let Mode::Container(name) = mode(&iso.pid_mode, "PID", &[]).map_err(|e| e.message)? {
            let (other, pid) = self.running_donor(name, "PID")?;
            namespaces.pid = if other.host_config.isolation.pid_mode == "host" { NsMode::Host } else { ns_path(pid, "pid") };
        }
        let mut shm = match iso.ipc_mode.as_str() {
            "host" => ShmMount::Bind(PathBuf::from("/dev/shm")),
            "none" => ShmMount::None,
            "shareable" => ShmMount::Bind(self.shm_dir(&rec.id)),
            _ => ShmMount::Tmpfs,
        };
        if let Mode::Container(name) = mode(&iso.ipc_mode, "IPC", &["shareable", "none"]).map_err(|e| e.message)? {
            let (other, pid) = self.running_donor(name, "IPC")?;
            match other.host_config.isolation.ipc_mode.as_str() {
                "host" => {
                    namespaces.ipc = NsMode::Host;
                    shm = ShmMount::Bind(PathBuf::from("/dev/shm"));
                }
                "shareable" => {
                    namespaces.ipc = ns_path(pid, "ipc");
                    shm = ShmMount::Bind(self.shm_dir(&other.id));
                }
                _ => {
                    return Err(format!(
                        "cannot join IPC of container {}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)",
                        other.id
                    ))
                }
            }
        }
        let mut devices = Vec::new();
        for d in iso.devices.iter().flatten() {
            devices.extend(
                berth_runtime::resolve_device(&d.path_on_host, &d.path_in_container, &d.cgroup_permissions)
                    .map_err(|e| e.to_string())?,
            );
        }
        let device_rules = iso
            .device_cgroup_rules
            .iter()
            .flatten()
            .map(|r| berth_runtime::parse_device_rule(r))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        Ok(IsolationSpec {
            capabilities,
            seccomp,
            no_new_privileges: security.no_new_privileges,
            namespaces,
            shareable_shm: iso.ipc_mode == "shareable",
            shm,
            devices,
            device_rules,
        })
    }

    /// Mounts a shareable container's /dev/shm on the host, where the
    /// containers that join its IPC namespace bind it from.
    pub(super) fn mount_shareable_shm(&self, rec: &ContainerRecord) -> Result<(), String> {
        let dir = self.shm_dir(&rec.id);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let _ = self.mounter.unmount(&dir);
        self.mounter.mount_tmpfs(&dir, shm_size(&rec.host_config)).map_err(|e| format!("mounting /dev/shm: {e}"))
    }

    /// The host directory a shareable container's /dev/shm is mounted on.
    pub(super) fn shm_dir(&self, id: &str) -> PathBuf {
        super::rootfs::RootfsPaths::new(&self.cfg.container_dir(id)).shm
    }

    /// The record and init pid of a running container whose namespace another joins.
    fn running_donor(&self, name: &str, what: &str) -> Result<(ContainerRecord, i64), String> {
        let other = self.get(name).map_err(|e| e.message)?.snapshot();
        if !other.state.status.is_running() || other.state.pid <= 0 {
            return Err(format!("cannot join {what} of a non running container: {}", other.id));
        }
        let pid = other.state.pid;
        Ok((other, pid))
    }
}

/// The capabilities and security options of every process of a container:
/// its init and its execs (an exec's `--privileged` widens the set itself).
pub(super) fn process_security(hc: &HostConfig) -> Result<(Vec<String>, SecurityOptions), RuntimeError> {
    let iso = &hc.isolation;
    let caps = berth_runtime::container_capabilities(
        hc.privileged,
        iso.cap_add.as_deref().unwrap_or_default(),
        iso.cap_drop.as_deref().unwrap_or_default(),
    )?;
    Ok((caps, berth_runtime::parse_security_opts(iso.security_opt.as_deref().unwrap_or_default())?))
}

/// The user a container's process runs as, plus the `--group-add` groups.
pub(super) fn process_user(rootfs: &Path, user: &str, iso: &Isolation) -> Result<ResolvedUser, RuntimeError> {
    let mut u = berth_runtime::resolve_user(rootfs, user)?;
    berth_runtime::add_groups(rootfs, &mut u, iso.group_add.as_deref().unwrap_or_default())?;
    Ok(u)
}

/// The size of the container's /dev/shm: `--shm-size`, else Docker's 64 MiB.
pub(super) fn shm_size(hc: &HostConfig) -> u64 {
    if hc.shm_size > 0 {
        hc.shm_size as u64
    } else {
        berth_runtime::DEFAULT_SHM_SIZE
    }
}

/// The namespace modes that need no other container (container:X stays private here).
fn namespaces_by_name(iso: &Isolation) -> Namespaces {
    let host = |v: &str| if v == "host" { NsMode::Host } else { NsMode::Private };
    Namespaces {
        pid: host(&iso.pid_mode),
        ipc: host(&iso.ipc_mode),
        uts: host(&iso.uts_mode),
        cgroup: match iso.cgroupns_mode.as_str() {
            "private" => NsMode::Private,
            "host" => NsMode::Host,
            _ => Namespaces::default().cgroup,
        },
    }
}

fn ns_path(pid: i64, kind: &str) -> NsMode {
    NsMode::Join(PathBuf::from(format!("/proc/{pid}/ns/{kind}")))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_as_dockerd_reads_them() {
        assert!(matches!(mode("", "PID", &[]), Ok(Mode::Private)));
        assert!(matches!(mode("host", "PID", &[]), Ok(Mode::Host)));
        assert!(matches!(mode("container:web", "PID", &[]), Ok(Mode::Container("web"))));
        assert!(matches!(mode("shareable", "IPC", &["shareable", "none"]), Ok(Mode::Private)));
        assert_eq!(mode("bogus", "PID", &[]).err().map(|e| e.message), Some("invalid PID mode: bogus".into()));
        assert!(mode("container:", "IPC", &[]).is_err());
    }

    #[test]
    fn cgroup_parent_prefixes_the_path() {
        assert_eq!(cgroup_path_under("abc", ""), "/berth/abc");
        assert_eq!(cgroup_path_under("abc", "custom/"), "/custom/abc");
        assert_eq!(cgroup_path_under("abc", "/a/b"), "/a/b/abc");
    }
}
