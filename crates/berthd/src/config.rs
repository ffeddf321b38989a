//! Where berthd keeps things, and which binaries it runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Paths and binaries fixed at start-up.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    /// The per-container shim binary.
    pub shim: PathBuf,
    /// The default OCI runtime binary.
    pub runtime: PathBuf,
    /// The default runtime's name (`HostConfig.Runtime` when none is asked for).
    pub default_runtime: String,
    /// Every runtime a container may name, with its binary (the default included).
    pub runtimes: BTreeMap<String, PathBuf>,
    /// A static init for `--init` (tini-static), if installed.
    pub init: Option<PathBuf>,
    pub debug: bool,
    pub net: crate::network::NetConfig,
}

impl DaemonConfig {
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.data_root.join("containers").join(id)
    }
    pub fn container_records(&self) -> PathBuf {
        self.data_root.join("db").join("containers")
    }
    pub fn shim_dir(&self, id: &str) -> PathBuf {
        self.exec_root.join("shims").join(id)
    }
    pub fn runtime_root(&self) -> PathBuf {
        self.exec_root.join("runtime")
    }
    /// The binary of the runtime a container was created with (the default
    /// for records older than the runtime field).
    pub fn runtime_path(&self, name: &str) -> &Path {
        self.runtimes.get(name).map(PathBuf::as_path).unwrap_or(&self.runtime)
    }
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.container_dir(id).join(format!("{id}-json.log"))
    }
}

/// Finds `name` beside our own executable, then on PATH.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::current_exe().ok().as_deref().and_then(Path::parent) {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}
