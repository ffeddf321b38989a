//! SIGHUP: re-read the configuration file and apply what dockerd reloads
//! (`debug`, `runtimes`, `default-runtime`, `live-restore`, the registry
//! lists). Other keys that changed are named in the log as waiting for a
//! restart; a file that cannot be read or used leaves everything as it was.

use crate::config::Runtimes;
use crate::daemon::{self, Daemon};
use crate::daemon_json::{self, FileConfig};
use crate::options::{file_runtimes, GivenFlags, Options};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The keys a reload applies.
const RELOADABLE: [&str; 6] = ["debug", "runtimes", "default-runtime", "live-restore", "insecure-registries", "registry-mirrors"];

pub struct Reloader {
    path: PathBuf,
    explicit: bool,
    flags: GivenFlags,
    /// The file as last applied.
    current: FileConfig,
    /// `--add-runtime`s, which a reload keeps.
    args_runtimes: Vec<(String, PathBuf)>,
    /// The default runtime as last chosen (name or path).
    default_runtime: String,
    /// The runtimes the file added, as last applied.
    file_runtimes: Vec<(String, PathBuf)>,
    args_registry: berth_distribution::RegistryConfig,
}

impl Reloader {
    pub fn new(o: &Options) -> Reloader {
        Reloader {
            path: o.config_file.clone(),
            explicit: o.config_file_explicit,
            flags: o.flags.clone(),
            current: o.file.clone(),
            args_runtimes: o.args_runtimes.clone(),
            default_runtime: o.default_runtime.clone(),
            file_runtimes: file_runtimes(&o.file),
            args_registry: o.args_registry.clone(),
        }
    }

    pub fn reload(&mut self, d: &Arc<Daemon>) {
        match self.apply(d) {
            Ok(()) => {}
            Err(e) => daemon::log(&format!("error reloading the configuration, keeping the running one: {e}")),
        }
    }

    fn apply(&mut self, d: &Arc<Daemon>) -> Result<(), String> {
        let flags = self.flags.clone();
        let new = daemon_json::load(&self.path, self.explicit, &|f| flags.get(f)).map_err(|e| e.to_string())?.unwrap_or_default();
        // As dockerd: a key the file no longer sets keeps its value.
        let default_runtime = new.default_runtime.clone().unwrap_or_else(|| self.default_runtime.clone());
        let file_rts = if new.runtimes.is_some() { file_runtimes(&new) } else { self.file_runtimes.clone() };
        let mut added = self.args_runtimes.clone();
        added.extend(file_rts.iter().cloned());
        let runtimes = Runtimes::build(&default_runtime, &added)?;
        // Everything checked: apply.
        if let Some(on) = new.debug {
            daemon::set_debug(on);
        }
        d.cfg.set_runtimes(runtimes.clone());
        // As dockerd: the registry lists are the flags' plus the file's now.
        d.cfg.set_registry(crate::options::with_file_registries(&self.args_registry, &new));
        let waiting: Vec<String> =
            daemon_json::changed_keys(&self.current, &new).into_iter().filter(|k| !RELOADABLE.contains(&k.as_str())).collect();
        if !waiting.is_empty() {
            daemon::log(&format!(
                "configuration changed in {} for {}: this takes effect when berthd restarts",
                self.path.display(),
                waiting.join(", ")
            ));
        }
        let rts: Vec<String> = runtimes.all.iter().map(|(n, p)| format!("{n}:{}", p.display())).collect();
        let mut attrs = BTreeMap::new();
        attrs.insert("debug".to_string(), daemon::debug_enabled().to_string());
        attrs.insert("default-runtime".to_string(), runtimes.default_name.clone());
        attrs.insert("runtimes".to_string(), rts.join(" "));
        attrs.insert("live-restore".to_string(), "true".to_string());
        attrs.insert("name".to_string(), d.host.hostname.clone());
        let summary: Vec<String> = attrs.iter().filter(|(k, _)| *k != "name").map(|(k, v)| format!("{k}={v}")).collect();
        daemon::log(&format!("reloaded configuration from {}: {}", self.path.display(), summary.join(", ")));
        d.events.emit("daemon", "reload", &d.host.hostname, attrs);
        self.current = new;
        self.default_runtime = default_runtime;
        self.file_runtimes = file_rts;
        Ok(())
    }
}
