//! The OCI runtime spec (`config.json`) for one container, and writing the bundle.

use crate::caps::{privileged_capabilities, DEFAULT_CAPABILITIES};
use crate::devices::{Device, DeviceRule};
use crate::mounts::{
    default_mounts, device_rules, etc_file_mount, init_mount, user_mount, Mount, ShmMount, INIT_PATH,
    MASKED_PATHS, READONLY_PATHS,
};
use crate::namespaces::{Namespaces, NsMode};
use crate::seccomp;
use crate::{ResolvedUser, RuntimeError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// OCI runtime spec version we emit (what runc 1.1 implements).
const OCI_VERSION: &str = "1.0.2";

/// Docker's default /dev/shm size: 64 MiB.
pub const DEFAULT_SHM_SIZE: u64 = 64 * 1024 * 1024;

/// Everything the daemon decided about a container that the spec needs.
#[derive(Debug, Clone)]
pub struct SpecInput {
    /// Final argv (entrypoint and cmd already combined).
    pub args: Vec<String>,
    /// Final environment, "K=V".
    pub env: Vec<String>,
    /// Working directory; "" means "/".
    pub cwd: String,
    pub user: ResolvedUser,
    pub hostname: String,
    /// Absolute path of the mounted rootfs.
    pub rootfs: PathBuf,
    pub readonly_rootfs: bool,
    /// Cgroup path, e.g. "/berth/<id>".
    pub cgroups_path: String,
    /// Host files bound read-write over paths in the container ("/etc/hostname" ...).
    pub etc_files: Vec<(PathBuf, String)>,
    /// Volumes, binds and tmpfs mounts, in the order to mount them (parents first).
    /// An etc file whose destination a user mount covers is left out, as in Docker.
    pub mounts: Vec<Mount>,
    /// Host path of a static init for `--init`.
    pub init: Option<PathBuf>,
    pub stdin: bool,
    pub shm_size: u64,
    /// All capabilities, no seccomp, no masked or read-only paths, all devices allowed.
    pub privileged: bool,
    pub annotations: Vec<(String, String)>,
    /// Memory, CPU, pids limits and rlimits.
    pub resources: crate::Resources,
    /// Join this network namespace (a pinned path) instead of a new one.
    pub netns_path: Option<PathBuf>,
    /// Share the host's network namespace (`--network host`).
    pub host_network: bool,
    /// Give the process a terminal (the runtime's console socket).
    pub tty: bool,
    /// Initial terminal size, (rows, columns).
    pub console_size: Option<(u32, u32)>,
    /// Capabilities of a non-privileged container (`--cap-add`/`--cap-drop` applied).
    pub capabilities: Vec<String>,
    pub seccomp: SeccompSpec,
    pub no_new_privileges: bool,
    /// `None`: Docker's lists; `Some`: the client's (`systempaths=unconfined` sends empty ones).
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
    /// pid, ipc, uts and cgroup namespace modes.
    pub namespaces: Namespaces,
    /// What /dev/shm is (`--ipc` decides); `Tmpfs` uses `shm_size`.
    pub shm: ShmMount,
    /// `--device` nodes and `--device-cgroup-rule` rules.
    pub devices: Vec<Device>,
    pub device_rules: Vec<DeviceRule>,
    pub sysctls: BTreeMap<String, String>,
    pub oom_score_adj: i64,
    pub domainname: String,
}

/// The seccomp filter of a container, resolved for its capabilities.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SeccompSpec {
    /// Docker's default profile for the container's capabilities.
    #[default]
    Default,
    Unconfined,
    /// An OCI `linux.seccomp` object already translated from the client's profile.
    Oci(Value),
}

impl Default for SpecInput {
    fn default() -> Self {
        SpecInput {
            args: Vec::new(),
            env: Vec::new(),
            cwd: "/".to_string(),
            user: ResolvedUser::default(),
            hostname: String::new(),
            rootfs: PathBuf::new(),
            readonly_rootfs: false,
            cgroups_path: String::new(),
            etc_files: Vec::new(),
            mounts: Vec::new(),
            init: None,
            stdin: false,
            shm_size: DEFAULT_SHM_SIZE,
            privileged: false,
            annotations: Vec::new(),
            resources: crate::Resources::default(),
            netns_path: None,
            host_network: false,
            tty: false,
            console_size: None,
            capabilities: DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect(),
            seccomp: SeccompSpec::Default,
            no_new_privileges: false,
            masked_paths: None,
            readonly_paths: None,
            namespaces: Namespaces::default(),
            shm: ShmMount::Tmpfs,
            devices: Vec::new(),
            device_rules: Vec::new(),
            sysctls: BTreeMap::new(),
            oom_score_adj: 0,
            domainname: String::new(),
        }
    }
}

/// Builds the OCI runtime spec for a container, matching Docker's defaults.
pub fn build_spec(input: &SpecInput) -> Value {
    let caps: Vec<String> = if input.privileged { privileged_capabilities() } else { input.capabilities.clone() };

    let mut args = Vec::with_capacity(input.args.len() + 2);
    if input.init.is_some() {
        args.push(INIT_PATH.to_string());
        args.push("--".to_string());
    }
    args.extend(input.args.iter().cloned());

    let mut user = json!({"uid": input.user.uid, "gid": input.user.gid});
    if !input.user.additional_gids.is_empty() {
        user["additionalGids"] = json!(input.user.additional_gids);
    }

    let cwd = if input.cwd.is_empty() {
        "/"
    } else {
        input.cwd.as_str()
    };

    let mut mounts = default_mounts(input.shm_size, input.privileged, &input.shm);
    mounts.extend(input.mounts.iter().map(user_mount));
    mounts.extend(
        input
            .etc_files
            .iter()
            .filter(|(_, dest)| !input.mounts.iter().any(|m| &m.destination == dest))
            .map(|(host, dest)| etc_file_mount(host, dest)),
    );
    if let Some(init) = &input.init {
        mounts.push(init_mount(init));
    }

    let network = match (&input.netns_path, input.host_network) {
        (_, true) => None,
        (Some(p), false) => Some(json!({"type": "network", "path": p.to_string_lossy()})),
        (None, false) => Some(json!({"type": "network"})),
    };
    let namespaces = input.namespaces.spec_entries(network);

    let mut resources = input.resources.to_oci();
    let mut rules = device_rules(input.privileged);
    if !input.privileged {
        rules.extend(input.devices.iter().map(|d| d.cgroup_rule().spec_entry()));
        rules.extend(input.device_rules.iter().map(DeviceRule::spec_entry));
    }
    resources.insert("devices".into(), Value::Array(rules));
    let mut linux = json!({
        "resources": resources,
        "cgroupsPath": input.cgroups_path,
        "namespaces": namespaces,
    });
    if !input.devices.is_empty() {
        linux["devices"] = Value::Array(input.devices.iter().map(Device::spec_entry).collect());
    }
    if !input.sysctls.is_empty() {
        linux["sysctl"] = json!(input.sysctls);
    }
    if !input.privileged {
        match &input.seccomp {
            SeccompSpec::Default => linux["seccomp"] = seccomp::default_profile(&caps),
            SeccompSpec::Oci(v) => linux["seccomp"] = v.clone(),
            SeccompSpec::Unconfined => {}
        }
        linux["maskedPaths"] = match &input.masked_paths {
            Some(p) => json!(p),
            None => json!(MASKED_PATHS),
        };
        linux["readonlyPaths"] = match &input.readonly_paths {
            Some(p) => json!(p),
            None => json!(READONLY_PATHS),
        };
    }

    let annotations: Map<String, Value> = input
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();

    let mut spec = json!({
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": input.tty,
            "user": user,
            "args": args,
            "env": input.env,
            "cwd": cwd,
            // Docker sets no inheritable or ambient capabilities.
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            // No rlimits: the container inherits RLIMIT_NOFILE from the shim, and raising
            // limits would need CAP_SYS_RESOURCE, which some hosts withhold.
            "oomScoreAdj": input.oom_score_adj,
            "noNewPrivileges": input.no_new_privileges,
        },
        "root": {"path": input.rootfs.to_string_lossy(), "readonly": input.readonly_rootfs},
        "mounts": mounts,
        "linux": linux,
    });
    // With the host's UTS namespace the runtime may not set names.
    if input.namespaces.uts == NsMode::Private {
        spec["hostname"] = json!(input.hostname);
        if !input.domainname.is_empty() {
            spec["domainname"] = json!(input.domainname);
        }
    }
    if !annotations.is_empty() {
        spec["annotations"] = Value::Object(annotations);
    }
    // Only `--ulimit` sets rlimits (lowering is always allowed; raising
    // needs CAP_SYS_RESOURCE, which is the user's request to make).
    let rlimits = input.resources.rlimits();
    if !rlimits.is_empty() {
        spec["process"]["rlimits"] = Value::Array(rlimits);
    }
    if let (true, Some(size)) = (input.tty, input.console_size) {
        spec["process"]["consoleSize"] = console_size(size);
    }
    spec
}

fn console_size((rows, cols): (u32, u32)) -> Value {
    json!({"height": rows, "width": cols})
}

/// What an exec'd process runs as, decided by the daemon.
#[derive(Debug, Clone, Default)]
pub struct ExecInput {
    pub args: Vec<String>,
    /// Final environment (the container's, overridden by the exec's).
    pub env: Vec<String>,
    pub cwd: String,
    pub user: ResolvedUser,
    pub tty: bool,
    pub console_size: Option<(u32, u32)>,
    /// `exec --privileged`, or a privileged container: every capability.
    pub privileged: bool,
    /// The container's capabilities otherwise (`None`: Docker's defaults).
    pub capabilities: Option<Vec<String>>,
    /// The container's `no-new-privileges`, which its execs keep.
    pub no_new_privileges: bool,
    /// The container's `process.rlimits` (`--ulimit`), which its execs
    /// keep as under dockerd (its exec process starts from the container's).
    pub rlimits: Vec<Value>,
}

/// The OCI `process` object for `runtime exec --process`: like the
/// container's, with its capabilities (or all, for `--privileged`).
pub fn build_exec_process(input: &ExecInput) -> Value {
    let caps: Vec<String> = if input.privileged {
        privileged_capabilities()
    } else {
        match &input.capabilities {
            Some(c) => c.clone(),
            None => DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect(),
        }
    };
    let mut user = json!({"uid": input.user.uid, "gid": input.user.gid});
    if !input.user.additional_gids.is_empty() {
        user["additionalGids"] = json!(input.user.additional_gids);
    }
    let mut p = json!({
        "terminal": input.tty,
        "user": user,
        "args": input.args,
        "env": input.env,
        "cwd": if input.cwd.is_empty() { "/" } else { input.cwd.as_str() },
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": input.no_new_privileges,
    });
    if let (true, Some(size)) = (input.tty, input.console_size) {
        p["consoleSize"] = console_size(size);
    }
    if !input.rlimits.is_empty() {
        p["rlimits"] = Value::Array(input.rlimits.clone());
    }
    p
}

/// Writes `spec` as `<dir>/config.json` atomically (temporary file, rename).
/// Not fsynced: the bundle is written again at every start, so after a
/// machine crash nothing depends on it (the container is not running then),
/// and an fsync here cost ~1 ms of every start.
pub fn write_bundle(dir: &Path, spec: &Value) -> Result<(), RuntimeError> {
    let bytes = serde_json::to_vec(spec)?;
    let tmp = dir.join(".config.json.tmp");
    let path = dir.join("config.json");
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RuntimeError::WriteBundle { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    if let Err(e) = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, &path)) {
        // Best effort: do not leave a half-written temporary file behind.
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(&path)(e));
    }
    Ok(())
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
