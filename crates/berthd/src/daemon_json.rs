//! `daemon.json`: dockerd's configuration file keys for what berthd does.
//! A key berthd does not know, or one also given as a flag, is an error
//! worded as dockerd words it; a value berthd cannot honour is refused.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default configuration file; missing is fine, unlike an explicit one.
pub const DEFAULT_PATH: &str = "/etc/berth/daemon.json";

/// Each key, with the berthd flag that sets the same thing.
pub const KEYS: &[(&str, &str)] = &[
    ("hosts", "host"),
    ("data-root", "data-root"),
    ("exec-root", "exec-root"),
    ("pidfile", "pidfile"),
    ("debug", "debug"),
    ("default-runtime", "default-runtime"),
    ("runtimes", "add-runtime"),
    ("log-driver", "log-driver"),
    ("log-opts", "log-opt"),
    ("bip", "bip"),
    ("bridge", "bridge"),
    ("default-address-pools", "default-address-pool"),
    ("insecure-registries", "insecure-registry"),
    ("registry-mirrors", "registry-mirror"),
    ("live-restore", "live-restore"),
    ("tls", "tls"),
    ("tlsverify", "tlsverify"),
    ("tlscacert", "tlscacert"),
    ("tlscert", "tlscert"),
    ("tlskey", "tlskey"),
    ("group", "group"),
    ("storage-driver", "storage-driver"),
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("unable to configure the berth daemon with file {0}: {1}")]
    File(PathBuf, String),
}

/// One `runtimes` entry: berth runs a runtime by its path only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RuntimeEntry {
    pub path: PathBuf,
}

/// `default-address-pools` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PoolEntry {
    pub base: String,
    pub size: u8,
}

/// The file's settings; `None` where the file does not set a key.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileConfig {
    pub hosts: Option<Vec<String>>,
    pub data_root: Option<PathBuf>,
    pub exec_root: Option<PathBuf>,
    pub pidfile: Option<PathBuf>,
    pub debug: Option<bool>,
    pub default_runtime: Option<String>,
    pub runtimes: Option<BTreeMap<String, RuntimeEntry>>,
    pub log_driver: Option<String>,
    pub log_opts: Option<BTreeMap<String, String>>,
    pub bip: Option<String>,
    pub bridge: Option<String>,
    pub default_address_pools: Option<Vec<PoolEntry>>,
    pub insecure_registries: Option<Vec<String>>,
    pub registry_mirrors: Option<Vec<String>>,
    pub live_restore: Option<bool>,
    pub tls: Option<bool>,
    pub tlsverify: Option<bool>,
    pub tlscacert: Option<PathBuf>,
    pub tlscert: Option<PathBuf>,
    pub tlskey: Option<PathBuf>,
    pub group: Option<String>,
    pub storage_driver: Option<String>,
    /// The keys the file sets, with their values as written.
    #[serde(skip)]
    pub set: BTreeMap<String, Value>,
}

/// Reads `path`. `explicit` is whether `--config-file` named it (a missing
/// default file is no error); `flag` answers, for a flag name, the value
/// it was given on the command line, if it was.
pub fn load(path: &Path, explicit: bool, flag: &dyn Fn(&str) -> Option<String>) -> Result<Option<FileConfig>, ConfigFileError> {
    let fail = |msg: String| ConfigFileError::File(path.to_path_buf(), msg);
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => return Err(fail(format!("open {}: {e}", path.display()))),
    };
    parse(&text, flag).map(Some).map_err(fail)
}

/// Parses the file's text and checks it against the flags.
pub fn parse(text: &[u8], flag: &dyn Fn(&str) -> Option<String>) -> Result<FileConfig, String> {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(FileConfig::default());
    }
    let map: serde_json::Map<String, Value> = serde_json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut unknown: Vec<&str> = map.keys().map(String::as_str).filter(|k| !KEYS.iter().any(|(key, _)| key == k)).collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(format!("the following directives don't match any configuration option: {}", unknown.join(", ")));
    }
    let conflicts: Vec<String> = KEYS
        .iter()
        .filter_map(|(key, fl)| {
            let file = map.get(*key)?;
            let from_flag = flag(fl)?;
            Some(format!("{key}: (from flag: {from_flag}, from file: {})", go_value(file)))
        })
        .collect();
    if !conflicts.is_empty() {
        return Err(format!(
            "the following directives are specified both as a flag and in the configuration file: {}",
            conflicts.join(", ")
        ));
    }
    refuse_runtime_options(&map)?;
    let mut cfg: FileConfig = serde_json::from_value(Value::Object(map.clone())).map_err(|e| format!("invalid JSON: {e}"))?;
    cfg.set = map.into_iter().collect();
    cfg.check()?;
    Ok(cfg)
}

/// dockerd's runtimes take arguments, types and options; berth runs a path.
fn refuse_runtime_options(map: &serde_json::Map<String, Value>) -> Result<(), String> {
    let Some(Value::Object(rts)) = map.get("runtimes") else { return Ok(()) };
    for (name, rt) in rts {
        if let Some(extra) = rt.as_object().and_then(|o| o.keys().find(|k| *k != "path")) {
            return Err(format!("berth does not support runtimes.{name}.{extra} yet"));
        }
    }
    Ok(())
}

impl FileConfig {
    /// Values berth cannot honour.
    fn check(&self) -> Result<(), String> {
        check_storage_driver(self.storage_driver.as_deref())?;
        check_registries("insecure-registries", self.insecure_registries.as_deref())?;
        check_registries("registry-mirrors", self.registry_mirrors.as_deref())?;
        check_live_restore(self.live_restore)
    }
}

pub fn check_storage_driver(d: Option<&str>) -> Result<(), String> {
    match d {
        None | Some("") | Some("overlay2") => Ok(()),
        Some(d) => Err(format!("berth supports only the overlay2 storage driver, not {d}")),
    }
}

/// `insecure-registries` and `registry-mirrors` as the registry client reads them.
pub fn check_registries(key: &str, v: Option<&[String]>) -> Result<(), String> {
    let list = v.unwrap_or_default().to_vec();
    let cfg = match key {
        "registry-mirrors" => berth_distribution::RegistryConfig { mirrors: list, ..Default::default() },
        _ => berth_distribution::RegistryConfig { insecure: list, ..Default::default() },
    };
    cfg.validate()
}

/// Containers always outlive berthd (its shims keep them).
pub fn check_live_restore(v: Option<bool>) -> Result<(), String> {
    match v {
        Some(false) => Err("berth does not support live-restore=false yet: containers always keep running when berthd stops".into()),
        _ => Ok(()),
    }
}

/// A JSON value as dockerd prints it in a conflict (Go's `%v`).
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_value).collect::<Vec<_>>().join(" ")),
        Value::Object(o) => format!("map[{}]", o.iter().map(|(k, v)| format!("{k}:{}", go_value(v))).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    }
}

/// The keys whose values differ between two files.
pub fn changed_keys(old: &FileConfig, new: &FileConfig) -> Vec<String> {
    let mut keys: Vec<String> = old.set.keys().chain(new.set.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| old.set.get(k) != new.set.get(k));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn keys_are_read() {
        let c = parse(
            br#"{"debug": true, "data-root": "/d", "runtimes": {"fast": {"path": "/bin/fast"}},
                 "log-driver": "json-file", "log-opts": {"max-size": "1k"}, "storage-driver": "overlay2",
                 "default-address-pools": [{"base": "10.9.0.0/16", "size": 24}], "insecure-registries": []}"#,
            &none,
        )
        .unwrap();
        assert_eq!(c.debug, Some(true));
        assert_eq!(c.data_root.as_deref(), Some(Path::new("/d")));
        assert_eq!(c.runtimes.unwrap()["fast"].path, PathBuf::from("/bin/fast"));
        assert_eq!(c.log_opts.unwrap()["max-size"], "1k");
        assert_eq!(c.default_address_pools.unwrap()[0], PoolEntry { base: "10.9.0.0/16".into(), size: 24 });
        assert_eq!(parse(b"  \n", &none).unwrap(), FileConfig::default());
    }

    #[test]
    fn errors_are_dockerds() {
        let e = parse(br#"{"debug": true, "iptables": false, "bogus": 1}"#, &none).unwrap_err();
        assert_eq!(e, "the following directives don't match any configuration option: bogus, iptables");
        let flag = |f: &str| match f {
            "debug" => Some("true".to_string()),
            "host" => Some("[unix:///a]".to_string()),
            _ => None,
        };
        let e = parse(br#"{"debug": false, "hosts": ["unix:///b", "tcp://x:1"]}"#, &flag).unwrap_err();
        assert_eq!(
            e,
            "the following directives are specified both as a flag and in the configuration file: \
             hosts: (from flag: [unix:///a], from file: [unix:///b tcp://x:1]), debug: (from flag: true, from file: false)"
        );
        assert!(parse(b"{nope", &none).unwrap_err().starts_with("invalid JSON: "));
        assert!(parse(br#"{"debug": "yes"}"#, &none).unwrap_err().starts_with("invalid JSON: "));
        assert_eq!(
            parse(br#"{"storage-driver": "btrfs"}"#, &none).unwrap_err(),
            "berth supports only the overlay2 storage driver, not btrfs"
        );
        assert_eq!(
            parse(br#"{"registry-mirrors": ["m.local"]}"#, &none).unwrap_err(),
            "invalid mirror: \"m.local\" is not a valid URI (scheme and host only)"
        );
        assert_eq!(
            parse(br#"{"runtimes": {"x": {"path": "/x", "runtimeArgs": ["-d"]}}}"#, &none).unwrap_err(),
            "berth does not support runtimes.x.runtimeArgs yet"
        );
        assert!(parse(br#"{"live-restore": false}"#, &none).unwrap_err().contains("live-restore=false"));
    }

    #[test]
    fn missing_files() {
        let p = Path::new("/nonexistent/berth/daemon.json");
        assert!(load(p, false, &none).unwrap().is_none());
        let e = load(p, true, &none).unwrap_err().to_string();
        assert!(e.starts_with("unable to configure the berth daemon with file /nonexistent/berth/daemon.json: open "), "{e}");
    }

    #[test]
    fn changes() {
        let a = parse(br#"{"debug": false, "log-driver": "none"}"#, &none).unwrap();
        let b = parse(br#"{"debug": true, "log-driver": "none", "bip": "10.1.0.1/24"}"#, &none).unwrap();
        assert_eq!(changed_keys(&a, &b), vec!["bip".to_string(), "debug".to_string()]);
    }
}
