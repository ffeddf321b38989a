//! Where berthd keeps things, and which binaries it runs.

use berth_api::container::LogConfig;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The runtimes containers may name. A SIGHUP may replace them (as dockerd
/// reloads `runtimes` and `default-runtime`), so they sit behind a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtimes {
    /// The default runtime's name (`HostConfig.Runtime` when none is asked for).
    pub default_name: String,
    /// The default runtime's binary.
    pub default_path: PathBuf,
    /// Every runtime a container may name, with its binary (the default included).
    pub all: BTreeMap<String, PathBuf>,
}

impl Runtimes {
    /// berth-oci and runc when installed (dockerd registers runc the same
    /// way), the added ones, and the default: a path, the name of an added
    /// runtime (as dockerd's default-runtime names one of its runtimes), or
    /// a binary found beside berthd or on PATH.
    pub fn build(default: &str, added: &[(String, PathBuf)]) -> Result<Runtimes, String> {
        let named = added.iter().find(|(n, _)| n == default);
        let (default_name, default_path) = match named {
            Some((n, p)) => (n.clone(), p.clone()),
            None => {
                let path = if default.contains('/') {
                    PathBuf::from(default)
                } else {
                    find_binary(default).ok_or_else(|| format!("{default} not found (beside berthd or on PATH)"))?
                };
                (path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| default.to_string()), path)
            }
        };
        let mut all = BTreeMap::new();
        for name in ["berth-oci", "runc"] {
            if let Some(p) = find_binary(name) {
                all.insert(name.to_string(), p);
            }
        }
        all.insert(default_name.clone(), default_path.clone());
        for (name, path) in added {
            if name.is_empty() || path.as_os_str().is_empty() {
                return Err(format!("runtime {name:?}: expected a name and a path"));
            }
            // The default's binary is default-runtime's to choose.
            if *name == default_name && named.is_none() {
                return Err(format!("runtime name '{name}' is reserved"));
            }
            all.insert(name.clone(), path.clone());
        }
        Ok(Runtimes { default_name, default_path, all })
    }
}

/// Paths and binaries fixed at start-up, and the runtimes.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    /// The per-container shim binary.
    pub shim: PathBuf,
    /// The OCI runtimes (replaced on a reload).
    pub runtimes: Arc<RwLock<Runtimes>>,
    /// `log-driver`/`log-opts`: the log configuration of containers created
    /// without one.
    pub log_config: LogConfig,
    /// A static init for `--init` (tini-static), if installed.
    pub init: Option<PathBuf>,
    pub net: crate::network::NetConfig,
    /// Insecure registries, mirrors and certs.d for pulls (replaced on a reload).
    pub registry: Arc<RwLock<berth_distribution::RegistryConfig>>,
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
    /// for records older than the runtime field, or a runtime a reload removed).
    pub fn runtime_path(&self, name: &str) -> PathBuf {
        let r = self.runtimes();
        r.all.get(name).cloned().unwrap_or(r.default_path)
    }
    /// The runtimes as they are now.
    pub fn runtimes(&self) -> Runtimes {
        // A poisoned lock still holds a whole value (it is only ever replaced).
        self.runtimes.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub fn registry(&self) -> berth_distribution::RegistryConfig {
        self.registry.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub fn set_registry(&self, r: berth_distribution::RegistryConfig) {
        *self.registry.write().unwrap_or_else(|p| p.into_inner()) = r;
    }
    pub fn set_runtimes(&self, r: Runtimes) {
        *self.runtimes.write().unwrap_or_else(|p| p.into_inner()) = r;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_are_registered_and_the_default_is_reserved() {
        let added = vec![("fast".to_string(), PathBuf::from("/opt/fast-runc"))];
        let r = Runtimes::build("/usr/lib/berth/berth-oci", &added).expect("runtimes");
        assert_eq!(r.all.get("fast"), Some(&PathBuf::from("/opt/fast-runc")));
        assert_eq!((r.default_name.as_str(), r.all.get("berth-oci")), ("berth-oci", Some(&PathBuf::from("/usr/lib/berth/berth-oci"))));
        // The default may name an added runtime.
        let r = Runtimes::build("fast", &added).expect("runtimes");
        assert_eq!((r.default_name.as_str(), r.default_path.as_path()), ("fast", Path::new("/opt/fast-runc")));
        let clash = vec![("berth-oci".to_string(), PathBuf::from("/x"))];
        assert_eq!(Runtimes::build("/b/berth-oci", &clash).unwrap_err(), "runtime name 'berth-oci' is reserved");
        assert!(Runtimes::build("no-such-runtime-binary", &[]).is_err());
    }
}
