//! `/_ping`, `/version`, `/info`, `/system/df`.

use crate::daemon::Daemon;
use crate::diskusage::Parts;
use crate::http::response::{ok_json, with_body, Resp};
use crate::http::Body;
use berth_api::system::{Component, Platform, SystemInfo, VersionInfo};
use berth_api::gates::VersionGates;
use berth_api::version::{API_VERSION, MIN_API_VERSION};
use berth_api::ApiError;
use hyper::body::Incoming;
use hyper::Request;

pub fn ping(head: bool) -> Resp {
    let mut r = with_body(200, "text/plain; charset=utf-8", if head { Body::empty() } else { Body::from_bytes("OK") });
    let h = r.headers_mut();
    for (k, v) in [("cache-control", "no-cache, no-store, must-revalidate"), ("pragma", "no-cache"), ("builder-version", "1")] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    r
}

pub fn version(d: &Daemon) -> Resp {
    let v = env!("CARGO_PKG_VERSION").to_string();
    let commit = option_env!("BERTH_GIT_COMMIT").unwrap_or("unknown");
    let details = serde_json::json!({
        "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "GitCommit": commit,
        "GoVersion": "none (rust)", "Os": "linux", "Arch": crate::host::go_arch(),
        "KernelVersion": d.host.kernel_version, "Experimental": "false", "BuildTime": "",
    });
    ok_json(&VersionInfo {
        platform: Platform { name: "Berth Engine".into() },
        components: vec![Component { name: "Engine".into(), version: v.clone(), details: Some(details) }],
        version: v,
        api_version: API_VERSION.into(),
        min_api_version: MIN_API_VERSION.into(),
        git_commit: commit.into(),
        go_version: "none (rust)".into(),
        os: "linux".into(),
        arch: crate::host::go_arch().into(),
        kernel_version: d.host.kernel_version.clone(),
        build_time: String::new(),
    })
}

pub fn info(d: &Daemon) -> Resp {
    let runtimes = d.cfg.runtimes();
    let recs: Vec<_> = d.containers.all().iter().map(|c| c.snapshot()).collect();
    let running = recs.iter().filter(|r| r.state.status.as_str() == "running").count() as i64;
    let paused = recs.iter().filter(|r| r.state.status.as_str() == "paused").count() as i64;
    let cgroup_version = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() { "2" } else { "1" };
    ok_json(&SystemInfo {
        id: String::new(),
        containers: recs.len() as i64,
        containers_running: running,
        containers_paused: paused,
        containers_stopped: recs.len() as i64 - running - paused,
        images: d.images.list().len() as i64,
        driver: "overlay2".into(),
        driver_status: d.host.driver_status.clone(),
        logging_driver: d.cfg.log_config.kind.clone(),
        cgroup_driver: "cgroupfs".into(),
        cgroup_version: cgroup_version.into(),
        kernel_version: d.host.kernel_version.clone(),
        operating_system: d.host.operating_system.clone(),
        os_version: d.host.os_version.clone(),
        os_type: "linux".into(),
        architecture: d.host.machine.clone(),
        ncpu: d.host.ncpu,
        mem_total: d.host.mem_total,
        docker_root_dir: d.cfg.data_root.display().to_string(),
        name: d.host.hostname.clone(),
        server_version: env!("CARGO_PKG_VERSION").into(),
        default_runtime: runtimes.default_name.clone(),
        runtimes: runtimes.all.iter().map(|(name, path)| (name.clone(), serde_json::json!({"path": path.display().to_string()}))).collect(),
        security_options: vec!["name=seccomp,profile=builtin".into()],
        labels: vec![],
        experimental_build: false,
        live_restore_enabled: true,
        debug: crate::daemon::debug_enabled(),
        nfd: 0,
        n_goroutines: 0,
        system_time: berth_api::time::format_system_time(std::time::SystemTime::now()),
        index_server_address: "https://index.docker.io/v1/".into(),
        registry_config: registry_config(&d.cfg.registry()),
        plugins: serde_json::json!({"Volume": ["local"], "Network": ["bridge", "host", "null"], "Log": ["json-file", "local"]}),
        warnings: vec![],
        // A node outside any swarm, as dockerd reports it (no swarm mode yet).
        swarm: serde_json::json!({"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false, "Error": "", "RemoteManagers": null}),
    })
}

/// `RegistryConfig` as dockerd shows it: configured CIDRs then the loopback
/// ranges that are always insecure; `docker.io` with its mirrors (each with
/// a trailing `/`), and each registry marked insecure by name.
fn registry_config(r: &berth_distribution::RegistryConfig) -> serde_json::Value {
    let mut cidrs: Vec<String> = r.insecure.iter().filter(|e| e.contains('/')).cloned().collect();
    for always in ["::1/128", "127.0.0.0/8"] {
        if !cidrs.iter().any(|c| c == always) {
            cidrs.push(always.to_string());
        }
    }
    let mirrors: Vec<String> = r.mirrors.iter().map(|m| format!("{}/", m.trim_end_matches('/'))).collect();
    let mut index = serde_json::Map::new();
    index.insert("docker.io".into(), serde_json::json!({"Name": "docker.io", "Mirrors": mirrors, "Secure": true, "Official": true}));
    for name in r.insecure.iter().filter(|e| !e.contains('/')) {
        index.insert(name.clone(), serde_json::json!({"Name": name, "Mirrors": [], "Secure": false, "Official": false}));
    }
    serde_json::json!({ "InsecureRegistryCIDRs": cidrs, "IndexConfigs": index, "Mirrors": mirrors })
}

/// `GET /system/df[?type=...]`.
pub async fn df(d: &Daemon, req: &Request<Incoming>, gates: VersionGates) -> Result<Resp, ApiError> {
    let q = super::query(req);
    let parts = if gates.disk_usage_types() { Parts::from_types(&q.get_all("type"))? } else { Parts::ALL };
    Ok(ok_json(&crate::diskusage::report(d, parts).await?))
}
