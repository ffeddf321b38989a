//! The local plugin store: plugins made with `POST /plugins/create` from
//! a context (a tar of `config.json` and `rootfs/`), listed, inspected and
//! removed. berth cannot run a plugin yet, so none is ever enabled; the
//! verbs that would run or fetch one are refused by the route.
//!
//! On disk: `<data-root>/plugins/<id>/plugin.json` (the inspect record)
//! beside `rootfs/`. A directory is complete once `plugin.json` is there;
//! one without it (a create cut short) is removed at start.

use berth_api::plugin::{Plugin, PluginConfig, PluginSettings};
use berth_api::ApiError;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

const RECORD: &str = "plugin.json";

pub struct PluginStore {
    root: PathBuf,
    /// By ID.
    plugins: Mutex<BTreeMap<String, Plugin>>,
}

impl PluginStore {
    /// Loads the store under `data_root`; unreadable entries are logged and skipped.
    pub fn open(data_root: &Path) -> Result<PluginStore, ApiError> {
        let root = data_root.join("plugins");
        std::fs::create_dir_all(&root).map_err(|e| ApiError::internal(format!("creating {}: {e}", root.display())))?;
        let mut plugins = BTreeMap::new();
        for entry in std::fs::read_dir(&root).map_err(|e| ApiError::internal(format!("reading {}: {e}", root.display())))?.flatten() {
            let dir = entry.path();
            match std::fs::read(dir.join(RECORD)) {
                Ok(b) => match serde_json::from_slice::<Plugin>(&b) {
                    Ok(p) => {
                        plugins.insert(p.id.clone(), p);
                    }
                    Err(e) => crate::daemon::log(&format!("plugin record {}: {e}; skipped", dir.display())),
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Err(e) => crate::daemon::log(&format!("plugin record {}: {e}; skipped", dir.display())),
            }
        }
        Ok(PluginStore { root, plugins: Mutex::new(plugins) })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Plugin>> {
        self.plugins.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn list(&self) -> Vec<Plugin> {
        self.lock().values().cloned().collect()
    }

    /// By name (`:latest` implied) or ID prefix, as dockerd looks plugins up.
    pub fn get(&self, name: &str) -> Result<Plugin, ApiError> {
        let t = self.lock();
        let full = full_name(name);
        if let Some(p) = t.values().find(|p| p.name == full) {
            return Ok(p.clone());
        }
        let by_id: Vec<&Plugin> = t.values().filter(|p| !name.is_empty() && p.id.starts_with(name)).collect();
        match by_id.as_slice() {
            [p] => Ok((*p).clone()),
            [] => Err(not_found(name)),
            _ => Err(ApiError::invalid(format!("multiple plugins found with ID prefix {name}"))),
        }
    }

    /// Creates a plugin from a context tar. Blocking.
    pub fn create(&self, name: &str, context: impl Read) -> Result<Plugin, ApiError> {
        let full = validate_name(name)?;
        if self.lock().values().any(|p| p.name == full) {
            return Err(ApiError::conflict(format!("plugin {full:?} already exists")));
        }
        let id = crate::container::naming::new_id();
        let tmp = self.root.join(format!("{id}.tmp"));
        let made = self.unpack(&tmp, &id, &full, context);
        let plugin = match made {
            Ok(p) => p,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        let dir = self.root.join(&id);
        // The name is claimed in memory under the lock (it may have been
        // taken while the context was unpacked); the rename runs after the
        // lock is released and gives the claim back if it fails.
        let claimed = {
            let mut t = self.lock();
            let free = !t.values().any(|p| p.name == full);
            if free {
                t.insert(id.clone(), plugin.clone());
            }
            free
        };
        if !claimed {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(ApiError::conflict(format!("plugin {full:?} already exists")));
        }
        if let Err(e) = std::fs::rename(&tmp, &dir) {
            self.lock().remove(&id);
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(ApiError::internal(format!("storing plugin {full}: {e}")));
        }
        Ok(plugin)
    }

    /// Unpacks the context into `tmp` and writes the record there.
    fn unpack(&self, tmp: &Path, id: &str, name: &str, context: impl Read) -> Result<Plugin, ApiError> {
        let internal = |e: std::io::Error| ApiError::internal(format!("creating plugin {name}: {e}"));
        std::fs::create_dir_all(tmp).map_err(internal)?;
        let dir = std::fs::File::open(tmp).map_err(internal)?;
        berth_store::extract_into(&dir, context, berth_store::ExtractOptions::default())
            .map_err(|e| ApiError::invalid(format!("invalid plugin context: {e}")))?;
        let raw = match std::fs::read(tmp.join("config.json")) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ApiError::invalid("invalid plugin context: no config.json at its root"))
            }
            Err(e) => return Err(internal(e)),
        };
        let config = PluginConfig::from_json(&raw).map_err(|e| ApiError::invalid(format!("invalid plugin config.json: {e}")))?;
        if !tmp.join("rootfs").is_dir() {
            return Err(ApiError::invalid("invalid plugin context: no rootfs directory at its root"));
        }
        let plugin = Plugin {
            id: id.to_string(),
            name: name.to_string(),
            enabled: false,
            settings: PluginSettings {
                mounts: config.mounts.clone(),
                env: config.env.iter().filter(|e| !e.value.is_empty()).map(|e| format!("{}={}", e.name, e.value)).collect(),
                args: config.args.value.clone(),
                devices: config.linux.devices.clone(),
            },
            plugin_reference: String::new(),
            config,
        };
        let body = serde_json::to_vec_pretty(&plugin).map_err(|e| ApiError::internal(e.to_string()))?;
        berth_store::write_atomic(&tmp.join(RECORD), &body).map_err(|e| ApiError::internal(format!("creating plugin {name}: {e}")))?;
        Ok(plugin)
    }

    /// Removes a plugin (never enabled here, so `force` changes nothing). Blocking.
    pub fn remove(&self, name: &str) -> Result<Plugin, ApiError> {
        let p = self.get(name)?;
        let dir = self.root.join(&p.id);
        // The record goes first: a directory without one is swept at start.
        std::fs::remove_file(dir.join(RECORD)).map_err(|e| ApiError::internal(format!("removing plugin {}: {e}", p.name)))?;
        self.lock().remove(&p.id);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(p)
    }
}

/// `name` with the `:latest` tag dockerd adds when none is given.
pub fn full_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// A plugin name is an image reference (lower case, no digest).
fn validate_name(name: &str) -> Result<String, ApiError> {
    let full = full_name(name);
    let (repo, tag) = full.rsplit_once(':').unwrap_or((&full, ""));
    let repo_ok = !repo.is_empty()
        && repo.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && part.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        });
    let tag_ok = !tag.is_empty() && tag.len() <= 128 && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if name.is_empty() || !repo_ok || !tag_ok || name.contains('@') {
        return Err(ApiError::invalid(format!("invalid reference format: {name:?} is not a valid plugin name")));
    }
    Ok(full)
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("plugin {name:?} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(files: &[(&str, &[u8])], dirs: &[&str]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for d in dirs {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            b.append_data(&mut h, d, &[][..]).unwrap();
        }
        for (p, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, p, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn create_inspect_list_remove() {
        let dir = tempfile::tempdir().unwrap();
        let s = PluginStore::open(dir.path()).unwrap();
        let cfg = br#"{"entrypoint":["/dummy"],"env":[{"name":"DEBUG","value":"0"}],"interface":{"types":["docker.volumedriver/1.0"]}}"#;
        let ctx = context(&[("config.json", cfg), ("rootfs/dummy/file.txt", b"x")], &["rootfs", "rootfs/dummy"]);
        let p = s.create("sdk/dummy", &ctx[..]).unwrap();
        assert_eq!(p.name, "sdk/dummy:latest");
        assert!(!p.enabled);
        assert_eq!(p.settings.env, vec!["DEBUG=0".to_string()]);
        assert_eq!(s.get("sdk/dummy").unwrap().config.entrypoint, vec!["/dummy".to_string()]);
        assert_eq!(s.get(&p.id[..12]).unwrap().name, p.name);
        assert!(dir.path().join("plugins").join(&p.id).join("rootfs/dummy/file.txt").is_file());
        assert_eq!(s.create("sdk/dummy:latest", &ctx[..]).unwrap_err().message, "plugin \"sdk/dummy:latest\" already exists");
        // Reopened, it is still there.
        let s = PluginStore::open(dir.path()).unwrap();
        assert_eq!(s.list().len(), 1);
        s.remove("sdk/dummy").unwrap();
        assert!(s.list().is_empty());
        assert!(!dir.path().join("plugins").join(&p.id).exists());
        assert_eq!(s.get("sdk/dummy").unwrap_err().message, "plugin \"sdk/dummy\" not found");
    }

    #[test]
    fn bad_contexts_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = PluginStore::open(dir.path()).unwrap();
        let no_cfg = context(&[("rootfs/a", b"x")], &["rootfs"]);
        assert!(s.create("p", &no_cfg[..]).unwrap_err().message.contains("no config.json"));
        let no_rootfs = context(&[("config.json", b"{}")], &[]);
        assert!(s.create("p", &no_rootfs[..]).unwrap_err().message.contains("no rootfs"));
        let bad_json = context(&[("config.json", b"{")], &["rootfs"]);
        assert!(s.create("p", &bad_json[..]).unwrap_err().message.contains("invalid plugin config.json"));
        assert!(s.create("p", &b"not a tar"[..]).is_err());
        assert!(s.create("Bad Name", &no_cfg[..]).unwrap_err().message.contains("invalid reference format"));
        assert!(s.list().is_empty());
        assert_eq!(std::fs::read_dir(dir.path().join("plugins")).unwrap().count(), 0);
    }
}
