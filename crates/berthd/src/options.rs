//! berthd's flags, merged with `daemon.json` into the options it runs with.
//! Flags and file keys follow dockerd's names; a setting comes from one
//! of them or from the default (daemon_json refuses it in both).

use crate::daemon_json::{self, FileConfig};
use crate::listen::Host;
use crate::tls::TlsFiles;
use berth_api::container::LogConfig;
use berth_net::pools::AddressPool;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Flags follow dockerd's where they overlap.
#[derive(Parser, Debug)]
#[command(name = "berthd", version, about = "The berth container engine daemon")]
pub struct Args {
    /// Daemon configuration file
    #[arg(long = "config-file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Daemon socket(s) to listen on: unix://PATH or tcp://HOST:PORT (repeatable)
    #[arg(short = 'H', long = "host")]
    pub host: Vec<String>,
    /// Root directory of persistent state [default: /var/lib/berth]
    #[arg(long = "data-root")]
    pub data_root: Option<PathBuf>,
    /// Root directory for execution state (sockets, shims) [default: /run/berth]
    #[arg(long = "exec-root")]
    pub exec_root: Option<PathBuf>,
    /// Path of the daemon's PID file
    #[arg(short = 'p', long = "pidfile")]
    pub pidfile: Option<PathBuf>,
    /// Enable debug logging
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
    /// OCI runtime used for containers: a name found beside berthd or on
    /// PATH (berth-oci, berth's own on youki's libcontainer; runc; crun...),
    /// or a path [default: berth-oci]
    #[arg(long = "default-runtime")]
    pub default_runtime: Option<String>,
    /// Register an OCI runtime containers may choose with --runtime (NAME=PATH, repeatable)
    #[arg(long = "add-runtime", value_name = "NAME=PATH")]
    pub add_runtime: Vec<String>,
    /// The per-container shim binary (default: berth-shim beside berthd)
    #[arg(long = "shim")]
    pub shim: Option<PathBuf>,
    /// Linux bridge of the default `bridge` network [default: berth0]
    #[arg(short = 'b', long = "bridge")]
    pub bridge: Option<String>,
    /// Address and prefix of the default bridge (e.g. 172.30.0.1/16)
    #[arg(long = "bip")]
    pub bip: Option<String>,
    /// Where new networks' subnets come from: base=CIDR,size=N (repeatable)
    #[arg(long = "default-address-pool", value_name = "base=CIDR,size=N")]
    pub default_address_pool: Vec<String>,
    /// Default log driver of containers [default: json-file]
    #[arg(long = "log-driver")]
    pub log_driver: Option<String>,
    /// Default log driver options of containers (KEY=VALUE, repeatable)
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opt: Vec<String>,
    /// Use TLS on TCP listeners; implied by --tlsverify
    #[arg(long = "tls", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls: Option<bool>,
    /// Use TLS and require client certificates signed by --tlscacert
    #[arg(long = "tlsverify", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlsverify: Option<bool>,
    /// Trust client certificates signed only by this CA [default: ~/.docker/ca.pem]
    #[arg(long = "tlscacert")]
    pub tlscacert: Option<PathBuf>,
    /// The server's TLS certificate [default: ~/.docker/cert.pem]
    #[arg(long = "tlscert")]
    pub tlscert: Option<PathBuf>,
    /// The server's TLS key [default: ~/.docker/key.pem]
    #[arg(long = "tlskey")]
    pub tlskey: Option<PathBuf>,
    /// Group of the unix sockets [default: berth if it exists, else root]
    #[arg(short = 'G', long = "group")]
    pub group: Option<String>,
    /// Storage driver (berth has overlay2 only)
    #[arg(short = 's', long = "storage-driver")]
    pub storage_driver: Option<String>,
    /// Containers keep running while berthd is down (always on in berth)
    #[arg(long = "live-restore", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub live_restore: Option<bool>,
    /// Registry reachable without TLS (host[:port] or CIDR)
    #[arg(long = "insecure-registry")]
    pub insecure_registry: Vec<String>,
    /// Preferred Docker Hub mirror (https://host[:port])
    #[arg(long = "registry-mirror")]
    pub registry_mirror: Vec<String>,
    /// Directory of per-registry certificates (HOST[:PORT]/ca.crt, client.cert,
    /// client.key), searched before /etc/berth/certs.d and /etc/docker/certs.d
    #[arg(long = "registry-certs-dir", value_name = "DIR")]
    pub registry_certs_dir: Option<PathBuf>,
}

/// Flags given as lists print as dockerd's list options do in a conflict.
const LIST_FLAGS: [&str; 6] = ["host", "add-runtime", "log-opt", "default-address-pool", "insecure-registry", "registry-mirror"];

/// The flags given on the command line, by long name, with their values
/// as dockerd prints them; kept for a reload's conflict check.
#[derive(Debug, Clone, Default)]
pub struct GivenFlags(BTreeMap<String, String>);

impl GivenFlags {
    fn from_matches(m: &ArgMatches) -> GivenFlags {
        let mut out = BTreeMap::new();
        for (_, flag) in daemon_json::KEYS {
            let id = flag.replace('-', "_");
            if m.value_source(&id) != Some(ValueSource::CommandLine) {
                continue;
            }
            let vals: Vec<String> =
                m.get_raw(&id).into_iter().flatten().map(|v| v.to_string_lossy().into_owned()).collect();
            let shown = if LIST_FLAGS.contains(flag) { format!("[{}]", vals.join(" ")) } else { vals.join(" ") };
            // A boolean switch (-D) has no raw value.
            let shown = if shown.is_empty() { "true".to_string() } else { shown };
            out.insert(flag.to_string(), shown);
        }
        GivenFlags(out)
    }
    pub fn get(&self, flag: &str) -> Option<String> {
        self.0.get(flag).cloned()
    }
}

/// Everything berthd runs with.
#[derive(Debug, Clone)]
pub struct Options {
    pub hosts: Vec<Host>,
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    pub pidfile: Option<PathBuf>,
    pub debug: bool,
    pub default_runtime: String,
    pub added_runtimes: Vec<(String, PathBuf)>,
    pub shim: Option<PathBuf>,
    pub bridge: String,
    pub bip: Option<String>,
    pub pools: Vec<AddressPool>,
    pub log_config: LogConfig,
    /// TLS on TCP listeners, and its files.
    pub tls: Option<TlsFiles>,
    /// TLS or verification was set explicitly (either way).
    pub tls_explicit: bool,
    pub group: Option<String>,
    /// The configuration file, and what it held when read.
    pub config_file: PathBuf,
    pub config_file_explicit: bool,
    pub file: FileConfig,
    pub flags: GivenFlags,
    /// `--add-runtime`s as given, which a reload keeps.
    pub args_runtimes: Vec<(String, PathBuf)>,
    /// Insecure registries and Docker Hub mirrors, flags and file together.
    pub registry: berth_distribution::RegistryConfig,
    /// The same from the flags alone, which a reload keeps.
    pub args_registry: berth_distribution::RegistryConfig,
}

/// Parses the command line and reads the configuration file.
pub fn from_command_line() -> Result<Options, String> {
    let m = Args::command().get_matches();
    let args = Args::from_arg_matches(&m).map_err(|e| e.to_string())?;
    let flags = GivenFlags::from_matches(&m);
    let explicit = args.config_file.is_some();
    let path = args.config_file.clone().unwrap_or_else(|| PathBuf::from(daemon_json::DEFAULT_PATH));
    let file = daemon_json::load(&path, explicit, &|f| flags.get(f)).map_err(|e| e.to_string())?.unwrap_or_default();
    resolve(args, file, flags, path, explicit)
}

/// Where the TLS files are looked for by default, as dockerd does:
/// $DOCKER_CERT_PATH, else $DOCKER_CONFIG, else ~/.docker.
fn default_cert_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("DOCKER_CERT_PATH")
        .or_else(|| env("DOCKER_CONFIG"))
        .unwrap_or_else(|| env("HOME").unwrap_or_else(|| PathBuf::from("/root")).join(".docker"))
}

/// The flags' registry lists followed by the file's.
pub fn with_file_registries(args: &berth_distribution::RegistryConfig, f: &FileConfig) -> berth_distribution::RegistryConfig {
    let mut r = args.clone();
    r.insecure.extend(f.insecure_registries.iter().flatten().cloned());
    r.mirrors.extend(f.registry_mirrors.iter().flatten().cloned());
    r
}

/// `NAME=PATH` of `--add-runtime`.
fn runtime_flag(spec: &str) -> Result<(String, PathBuf), String> {
    match spec.split_once('=') {
        Some((n, p)) if !n.is_empty() && !p.is_empty() => Ok((n.to_string(), PathBuf::from(p))),
        _ => Err(format!("--add-runtime {spec:?}: expected NAME=PATH")),
    }
}

/// The runtimes the file adds, after those of the flags.
pub fn file_runtimes(file: &FileConfig) -> Vec<(String, PathBuf)> {
    file.runtimes.iter().flatten().map(|(n, r)| (n.clone(), r.path.clone())).collect()
}

pub fn resolve(args: Args, file: FileConfig, flags: GivenFlags, config_file: PathBuf, explicit: bool) -> Result<Options, String> {
    let f = file.clone();
    daemon_json::check_storage_driver(args.storage_driver.as_deref())?;
    daemon_json::check_registries("insecure-registries", Some(&args.insecure_registry))?;
    daemon_json::check_registries("registry-mirrors", Some(&args.registry_mirror))?;
    daemon_json::check_live_restore(args.live_restore)?;
    // dockerd: any tlsverify (true or false) turns TLS on; verification
    // defaults to TLS's value.
    let tls_set = args.tls.or(f.tls);
    let verify_set = args.tlsverify.or(f.tlsverify);
    let tls_on = verify_set.is_some() || tls_set == Some(true);
    let certs = default_cert_dir();
    let tls = tls_on.then(|| TlsFiles {
        ca: args.tlscacert.clone().or(f.tlscacert.clone()).unwrap_or_else(|| certs.join("ca.pem")),
        cert: args.tlscert.clone().or(f.tlscert.clone()).unwrap_or_else(|| certs.join("cert.pem")),
        key: args.tlskey.clone().or(f.tlskey.clone()).unwrap_or_else(|| certs.join("key.pem")),
        verify: verify_set.unwrap_or(true),
    });
    let host_strs = if args.host.is_empty() { f.hosts.clone().unwrap_or_default() } else { args.host.clone() };
    let mut host_strs: Vec<String> = host_strs.into_iter().filter(|h| !h.trim().is_empty()).collect();
    if host_strs.is_empty() {
        // As dockerd: with TLS and no host, the TLS port on localhost.
        host_strs.push(if tls_on { "tcp://localhost:2376".into() } else { format!("unix://{}", crate::listen::DEFAULT_UNIX) });
    }
    let hosts = host_strs.iter().map(|h| Host::parse(h, tls_on).map_err(|e| e.to_string())).collect::<Result<Vec<_>, _>>()?;
    let mut pools = Vec::new();
    for p in &args.default_address_pool {
        pools.push(AddressPool::parse(p).map_err(|e| e.to_string())?);
    }
    for p in f.default_address_pools.iter().flatten() {
        pools.push(AddressPool::new(&p.base, p.size).map_err(|e| format!("default-address-pools: {e}"))?);
    }
    let mut log_opts = BTreeMap::new();
    for o in &args.log_opt {
        let (k, v) = o.split_once('=').ok_or_else(|| format!("--log-opt {o:?}: expected KEY=VALUE"))?;
        log_opts.insert(k.to_string(), v.to_string());
    }
    log_opts.extend(f.log_opts.clone().unwrap_or_default());
    let log_config = LogConfig {
        kind: args.log_driver.clone().or(f.log_driver.clone()).unwrap_or_else(|| "json-file".into()),
        config: log_opts,
    };
    crate::container::logdriver::LogDriver::parse(&log_config).map_err(|e| format!("failed to set log opts: {e}"))?;
    let args_runtimes = args.add_runtime.iter().map(|s| runtime_flag(s)).collect::<Result<Vec<_>, _>>()?;
    let mut added_runtimes = args_runtimes.clone();
    added_runtimes.extend(file_runtimes(&f));
    let abs = |p: PathBuf| std::path::absolute(&p).map_err(|e| format!("{}: {e}", p.display()));
    if let Some(dir) = &args.registry_certs_dir {
        if !dir.is_dir() {
            return Err(format!("registry-certs-dir {}: not a directory", dir.display()));
        }
    }
    let args_registry = berth_distribution::RegistryConfig {
        insecure: args.insecure_registry.clone(),
        mirrors: args.registry_mirror.clone(),
        certs_dirs: args.registry_certs_dir.iter().cloned().chain(berth_distribution::RegistryConfig::default_certs_dirs()).collect(),
        hub_host: std::env::var("BERTH_DOCKER_HUB_HOST").ok().filter(|h| !h.is_empty()),
    };
    let registry = with_file_registries(&args_registry, &f);
    Ok(Options {
        registry,
        args_registry,
        hosts,
        data_root: abs(args.data_root.or(f.data_root.clone()).unwrap_or_else(|| "/var/lib/berth".into()))?,
        exec_root: abs(args.exec_root.or(f.exec_root.clone()).unwrap_or_else(|| "/run/berth".into()))?,
        pidfile: args.pidfile.or(f.pidfile.clone()),
        debug: args.debug || f.debug == Some(true),
        default_runtime: args.default_runtime.clone().or(f.default_runtime.clone()).unwrap_or_else(|| "berth-oci".into()),
        added_runtimes,
        shim: args.shim,
        bridge: args.bridge.or(f.bridge.clone()).unwrap_or_else(|| "berth0".into()),
        bip: args.bip.or(f.bip.clone()),
        pools,
        log_config,
        tls,
        tls_explicit: tls_set.is_some() || verify_set.is_some(),
        group: args.group.or(f.group.clone()),
        config_file,
        config_file_explicit: explicit,
        file,
        flags,
        args_runtimes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(argv: &[&str], file: &str) -> Result<Options, String> {
        let m = Args::command().try_get_matches_from(argv).map_err(|e| e.to_string())?;
        let args = Args::from_arg_matches(&m).map_err(|e| e.to_string())?;
        let flags = GivenFlags::from_matches(&m);
        let file = daemon_json::parse(file.as_bytes(), &|f| flags.get(f))?;
        resolve(args, file, flags, PathBuf::from("/x.json"), true)
    }

    #[test]
    fn flags_and_file_merge() {
        let o = opts(&["berthd", "-D", "--bip", "10.1.0.1/24"], r#"{"data-root": "/d", "log-driver": "none"}"#).unwrap();
        assert!(o.debug);
        assert_eq!(o.data_root, PathBuf::from("/d"));
        assert_eq!(o.bip.as_deref(), Some("10.1.0.1/24"));
        assert_eq!(o.log_config.kind, "none");
        assert_eq!(o.hosts, vec![Host::Unix(crate::listen::DEFAULT_UNIX.into())]);
        assert!(o.tls.is_none() && !o.tls_explicit);
        let e = opts(&["berthd", "-D"], r#"{"debug": false}"#).unwrap_err();
        assert_eq!(e, "the following directives are specified both as a flag and in the configuration file: debug: (from flag: true, from file: false)");
        let e = opts(&["berthd", "-H", "unix:///a", "--log-opt", "max-size=1k"], r#"{"hosts": ["tcp://127.0.0.1:1"], "log-opts": {}}"#).unwrap_err();
        assert!(e.contains("hosts: (from flag: [unix:///a], from file: [tcp://127.0.0.1:1])") && e.contains("log-opts: (from flag: [max-size=1k], from file: map[])"), "{e}");
    }

    #[test]
    fn tls_modes_are_dockerds() {
        let o = opts(&["berthd", "--tlsverify", "--tlscacert", "/c/ca.pem"], "{}").unwrap();
        let t = o.tls.unwrap();
        assert!(t.verify && t.ca == std::path::Path::new("/c/ca.pem"));
        assert_eq!(o.hosts, vec![Host::Tcp { host: "localhost".into(), port: 2376 }]);
        // --tls alone verifies clients too (dockerd since 20.10).
        assert!(opts(&["berthd", "--tls"], "{}").unwrap().tls.unwrap().verify);
        assert!(!opts(&["berthd", "--tlsverify=false"], "{}").unwrap().tls.unwrap().verify);
        assert!(!opts(&["berthd"], r#"{"tls": true, "tlsverify": false}"#).unwrap().tls.unwrap().verify);
        let o = opts(&["berthd", "--tls=false", "-H", "tcp://0.0.0.0:2375"], "{}").unwrap();
        assert!(o.tls.is_none() && o.tls_explicit);
    }

    #[test]
    fn refusals() {
        assert!(opts(&["berthd", "-s", "vfs"], "{}").unwrap_err().contains("overlay2"));
        assert!(opts(&["berthd", "--registry-mirror", "m"], "{}").unwrap_err().contains("invalid mirror"));
        let o = opts(&["berthd", "--insecure-registry", "reg.local:5000"], r#"{"registry-mirrors": ["https://m.local"]}"#).unwrap();
        assert_eq!(o.registry.insecure, vec!["reg.local:5000".to_string()]);
        assert_eq!(o.registry.mirrors, vec!["https://m.local".to_string()]);
        assert_eq!(
            opts(&["berthd", "--log-opt", "max-file=0"], "{}").unwrap_err(),
            "failed to set log opts: max-file cannot be less than 1"
        );
        assert!(opts(&["berthd", "--log-driver", "bogus"], "{}").unwrap_err().contains("no log driver named 'bogus'"));
        assert!(opts(&["berthd", "--add-runtime", "x"], "{}").unwrap_err().contains("expected NAME=PATH"));
    }
}
