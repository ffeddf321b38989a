//! The OCI runtime spec (`config.json`) for one container, and writing the bundle.

use crate::caps::{privileged_capabilities, DEFAULT_CAPABILITIES};
use crate::mounts::{
    default_mounts, device_rules, etc_file_mount, init_mount, user_mount, Mount, INIT_PATH,
    MASKED_PATHS, READONLY_PATHS,
};
use crate::seccomp;
use crate::{ResolvedUser, RuntimeError};
use serde_json::{json, Map, Value};
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
        }
    }
}

/// Builds the OCI runtime spec for a container, matching Docker's defaults.
pub fn build_spec(input: &SpecInput) -> Value {
    let caps: Vec<String> = if input.privileged {
        privileged_capabilities()
    } else {
        DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect()
    };

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

    let mut mounts = default_mounts(input.shm_size, input.privileged);
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

    let namespaces: Vec<Value> = ["mount", "network", "uts", "pid", "ipc"]
        .iter()
        .filter(|t| !(input.host_network && **t == "network"))
        .map(|t| match (&input.netns_path, *t) {
            (Some(p), "network") => json!({"type": t, "path": p.to_string_lossy()}),
            _ => json!({"type": t}),
        })
        .collect();

    let mut resources = input.resources.to_oci();
    resources.insert("devices".into(), Value::Array(device_rules(input.privileged)));
    let mut linux = json!({
        "resources": resources,
        "cgroupsPath": input.cgroups_path,
        "namespaces": namespaces,
    });
    if !input.privileged {
        linux["seccomp"] = seccomp::default_profile(&caps);
        linux["maskedPaths"] = json!(MASKED_PATHS);
        linux["readonlyPaths"] = json!(READONLY_PATHS);
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
            "oomScoreAdj": 0,
            "noNewPrivileges": false,
        },
        "root": {"path": input.rootfs.to_string_lossy(), "readonly": input.readonly_rootfs},
        "hostname": input.hostname,
        "mounts": mounts,
        "linux": linux,
    });
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
    pub privileged: bool,
}

/// The OCI `process` object for `runtime exec --process`: like the
/// container's, with Docker's default (or all, for `--privileged`)
/// capabilities.
pub fn build_exec_process(input: &ExecInput) -> Value {
    let caps: Vec<String> = if input.privileged {
        privileged_capabilities()
    } else {
        DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect()
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
        "noNewPrivileges": false,
    });
    if let (true, Some(size)) = (input.tty, input.console_size) {
        p["consoleSize"] = console_size(size);
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
