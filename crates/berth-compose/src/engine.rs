//! The Engine API bodies of the plan: what `up` sends to create a
//! service's container, the project's networks and its volumes, mapped the
//! way Compose v2 maps a service. Names and labels come from [`crate::plan`].
//!
//! A container is created on its first network (highest `priority`, then
//! name); the others are connected after create, as Compose does
//! ([`ContainerPlan::connect_after`]). `network_mode: service:NAME` is
//! returned as written: the caller replaces it with `container:ID` once it
//! knows the ID.

use std::collections::BTreeMap;

use berth_api::container::{
    ContainerConfig, CreateRequest, DeviceMapping, HostConfig, LogConfig, RestartPolicy, UlimitSpec,
};
use berth_api::network::{Ipam as ApiIpam, IpamConfig, NetworkCreateRequest};
use berth_api::volume::{BindOptions, Mount, TmpfsOptions, VolumeCreateRequest, VolumeOptions};
use serde_json::{json, Map, Value};

use crate::error::{ComposeError, Result};
use crate::model::{Project, Service, Ulimit, VolumeKind};
use crate::plan;

/// One container to create and the networks to connect it to afterwards.
#[derive(Debug, Clone)]
pub struct ContainerPlan {
    pub name: String,
    pub request: CreateRequest,
    /// Engine network name → endpoint settings (`EndpointSettings` JSON).
    pub connect_after: Vec<(String, Value)>,
    /// Secrets and configs whose content is not a host file
    /// (`environment:`, `content:`): copied into the container after create
    /// and before start (`PUT /containers/{id}/archive`), as Compose does.
    pub copy_in: Vec<CopyFile>,
}

/// A file to put into the container before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFile {
    /// Absolute path in the container.
    pub target: String,
    pub content: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

fn unsupported(service: &str, what: &str) -> ComposeError {
    ComposeError::project(format!(
        "service {service:?}: berth does not support {what} yet"
    ))
}

fn flat(m: &BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
    m.iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
        .collect()
}

/// The create request of replica `number` of `service`. `image_id` is the
/// resolved image (for the `com.docker.compose.image` label).
pub fn container(
    project: &Project,
    service: &str,
    number: u64,
    image_id: Option<&str>,
) -> Result<ContainerPlan> {
    let s = project
        .services
        .get(service)
        .ok_or_else(|| ComposeError::NoSuchService(service.to_string()))?;
    let name = plan::container_name(project, service, number);
    let (ports, exposed) = ports(s);
    let networks = endpoints(project, service, s, &name)?;
    let mut config = ContainerConfig {
        hostname: s.hostname.clone().unwrap_or_default(),
        domainname: s.domainname.clone().unwrap_or_default(),
        user: s.user.clone().unwrap_or_default(),
        tty: s.tty,
        open_stdin: s.stdin_open,
        env: s
            .environment
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect(),
        cmd: s.command.clone(),
        entrypoint: s.entrypoint.clone(),
        image: plan::image_name(project, service).unwrap_or_default(),
        working_dir: s.working_dir.clone().unwrap_or_default(),
        labels: plan::container_labels(project, service, number, false, image_id)?,
        stop_signal: s.stop_signal.clone(),
        stop_timeout: s.stop_grace_period.map(|d| (d.0 / 1_000_000_000) as i64),
        healthcheck: s.healthcheck.as_ref().map(|h| {
            if h.disable {
                return json!({"Test": ["NONE"]});
            }
            let mut m = Map::new();
            if let Some(t) = &h.test {
                m.insert("Test".into(), json!(t));
            }
            for (k, d) in [
                ("Interval", h.interval),
                ("Timeout", h.timeout),
                ("StartPeriod", h.start_period),
                ("StartInterval", h.start_interval),
            ] {
                if let Some(d) = d {
                    m.insert(k.into(), json!(d.0));
                }
            }
            if let Some(r) = h.retries {
                m.insert("Retries".into(), json!(r));
            }
            Value::Object(m)
        }),
        ..Default::default()
    };
    if !exposed.is_empty() {
        config.exposed_ports = Some(exposed.into_iter().map(|p| (p, json!({}))).collect());
    }

    let (file_mounts, copy_in) = secrets_and_configs(project, service, s)?;
    let mut host = HostConfig {
        privileged: s.privileged,
        readonly_rootfs: s.read_only,
        init: s.init,
        shm_size: s.shm_size.map(|b| b.0 as i64).unwrap_or_default(),
        restart_policy: restart_policy(s),
        mounts: Some({
            let mut m = mounts(project, service, s)?;
            m.extend(file_mounts);
            m
        }),
        ..Default::default()
    };
    if !s.tmpfs.is_empty() {
        host.tmpfs = Some(
            s.tmpfs
                .iter()
                .map(|t| match t.split_once(':') {
                    Some((p, o)) => (p.to_string(), o.to_string()),
                    None => (t.clone(), String::new()),
                })
                .collect(),
        );
    }
    if let Some(l) = &s.logging {
        host.log_config = LogConfig {
            kind: l.driver.clone().unwrap_or_default(),
            config: flat(&l.options),
        };
    }
    host.isolation.cap_add = (!s.cap_add.is_empty()).then(|| s.cap_add.clone());
    host.isolation.cap_drop = (!s.cap_drop.is_empty()).then(|| s.cap_drop.clone());
    host.isolation.sysctls = (!s.sysctls.is_empty()).then(|| flat(&s.sysctls));
    if !s.devices.is_empty() {
        host.isolation.devices = Some(
            s.devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: d.source.clone(),
                    path_in_container: d.target.clone(),
                    cgroup_permissions: d.permissions.clone(),
                })
                .collect(),
        );
    }
    if let Some(res) = s.deploy.as_ref().and_then(|d| d.resources.as_ref()) {
        if let Some(l) = &res.limits {
            host.resources.memory = l.memory.map(|b| b.0 as i64).unwrap_or_default();
            host.resources.pids_limit = l.pids;
            if let Some(c) = &l.cpus {
                let cpus: f64 = c.parse().map_err(|_| {
                    ComposeError::project(format!("service {service:?}: invalid cpus {c:?}"))
                })?;
                host.resources.nano_cpus = (cpus * 1e9) as i64;
            }
        }
        if let Some(r) = &res.reservations {
            host.resources.memory_reservation = r.memory.map(|b| b.0 as i64).unwrap_or_default();
        }
    }
    if !s.ulimits.is_empty() {
        host.resources.ulimits = Some(
            s.ulimits
                .iter()
                .map(|(n, u)| {
                    let (soft, hard) = match u {
                        Ulimit::Single(v) => (*v, *v),
                        Ulimit::Pair { soft, hard } => (*soft, *hard),
                    };
                    UlimitSpec {
                        name: n.clone(),
                        soft,
                        hard,
                    }
                })
                .collect(),
        );
    }
    let extra = &mut host.extra;
    if !ports.is_empty() {
        extra.insert("PortBindings".into(), Value::Object(ports));
    }
    if !s.extra_hosts.is_empty() {
        let hosts: Vec<String> = s
            .extra_hosts
            .iter()
            .map(|(h, ip)| format!("{h}:{ip}"))
            .collect();
        extra.insert("ExtraHosts".into(), json!(hosts));
    }
    if !s.dns.is_empty() {
        extra.insert("Dns".into(), json!(s.dns));
    }
    if !s.dns_search.is_empty() {
        extra.insert("DnsSearch".into(), json!(s.dns_search));
    }
    let mut links: Vec<String> = s
        .links
        .iter()
        .map(|l| {
            let (svc, alias) = l.split_once(':').unwrap_or((l, l));
            format!("{}:{alias}", plan::container_name(project, svc, 1))
        })
        .collect();
    links.extend(s.external_links.iter().map(|l| {
        if l.contains(':') {
            l.clone()
        } else {
            format!("{l}:{l}")
        }
    }));
    if !links.is_empty() {
        extra.insert("Links".into(), json!(links));
    }

    let mut connect_after = networks;
    host.network_mode = match &s.network_mode {
        Some(m) => m.clone(),
        None => connect_after
            .first()
            .map(|(n, _)| n.clone())
            .unwrap_or_default(),
    };
    let networking_config = if connect_after.is_empty() {
        None
    } else {
        let (net, ep) = connect_after.remove(0);
        Some(json!({ "EndpointsConfig": { net: ep } }))
    };
    Ok(ContainerPlan {
        name,
        request: CreateRequest {
            config,
            host_config: host,
            networking_config,
        },
        connect_after,
        copy_in,
    })
}

/// File-based secrets and configs are bind-mounted read-only at their
/// target; those from `environment:` or `content:` are copied in.
fn secrets_and_configs(
    project: &Project,
    service: &str,
    s: &Service,
) -> Result<(Vec<Mount>, Vec<CopyFile>)> {
    let mut mounts = Vec::new();
    let mut copies = Vec::new();
    for (kind, refs, defs) in [
        ("secret", &s.secrets, &project.secrets),
        ("config", &s.configs, &project.configs),
    ] {
        for r in refs {
            let def = defs.get(&r.source).ok_or_else(|| {
                ComposeError::project(format!(
                    "service {service:?} refers to undefined {kind} {}",
                    r.source
                ))
            })?;
            let target = r.target.clone().unwrap_or_else(|| match kind {
                "secret" => format!("/run/secrets/{}", r.source),
                _ => format!("/{}", r.source),
            });
            let num = |v: &Option<String>, what: &str| -> Result<u32> {
                match v.as_deref() {
                    None => Ok(0),
                    Some(x) => x.parse::<u32>().map_err(|_| {
                        ComposeError::project(format!(
                            "service {service:?}: {kind} {}: invalid {what} {x:?}",
                            r.source
                        ))
                    }),
                }
            };
            if def.external {
                return Err(unsupported(
                    service,
                    &format!("external {kind}s (a swarm feature), as {:?}", r.source),
                ));
            }
            if let Some(file) = &def.file {
                if r.uid.is_some() || r.gid.is_some() || r.mode.is_some() {
                    return Err(unsupported(
                        service,
                        &format!(
                            "uid, gid or mode on the file-based {kind} {:?} (it is bind-mounted)",
                            r.source
                        ),
                    ));
                }
                if !std::path::Path::new(file).exists() {
                    return Err(ComposeError::project(format!(
                        "service {service:?}: {kind} {:?}: file {file} does not exist",
                        r.source
                    )));
                }
                mounts.push(Mount {
                    kind: "bind".into(),
                    source: file.clone(),
                    target,
                    read_only: true,
                    ..Default::default()
                });
                continue;
            }
            let content = match (&def.environment, &def.content) {
                (Some(var), _) => project.variables.get(var).cloned().ok_or_else(|| {
                    ComposeError::project(format!(
                        "environment variable {var:?} required by {kind} {:?} is not set",
                        r.source
                    ))
                })?,
                (None, Some(c)) => c.clone(),
                (None, None) => String::new(),
            };
            copies.push(CopyFile {
                target,
                content: content.into_bytes(),
                mode: r.mode.map(|m| m as u32).unwrap_or(0o444),
                uid: num(&r.uid, "uid")?,
                gid: num(&r.gid, "gid")?,
            });
        }
    }
    Ok((mounts, copies))
}

fn restart_policy(s: &Service) -> RestartPolicy {
    if let Some(r) = &s.restart {
        let (name, n) = match r.split_once(':') {
            Some((name, n)) => (name.to_string(), n.parse().unwrap_or(0)),
            None => (r.clone(), 0),
        };
        return RestartPolicy {
            name,
            maximum_retry_count: n,
        };
    }
    if let Some(p) = s.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()) {
        let name = match p.condition.as_deref() {
            Some("none") => "no",
            Some("on-failure") => "on-failure",
            _ => "always",
        };
        return RestartPolicy {
            name: name.into(),
            maximum_retry_count: p.max_attempts.unwrap_or(0) as i64,
        };
    }
    RestartPolicy {
        name: "no".into(),
        maximum_retry_count: 0,
    }
}

/// `PortBindings` and `ExposedPorts` (ports' targets and `expose`).
fn ports(s: &Service) -> (Map<String, Value>, Vec<String>) {
    let mut bindings: Map<String, Value> = Map::new();
    let mut exposed: Vec<String> = Vec::new();
    for p in &s.ports {
        let key = format!("{}/{}", p.target, p.protocol);
        let b = json!({
            "HostIp": p.host_ip.clone().unwrap_or_default(),
            "HostPort": p.published.clone().unwrap_or_default(),
        });
        match bindings.get_mut(&key) {
            Some(Value::Array(list)) => list.push(b),
            _ => {
                bindings.insert(key.clone(), json!([b]));
            }
        }
        if !exposed.contains(&key) {
            exposed.push(key);
        }
    }
    for e in &s.expose {
        let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
        let range = match port.split_once('-') {
            Some((a, b)) => a.parse::<u16>().ok().zip(b.parse::<u16>().ok()),
            None => port.parse::<u16>().ok().map(|p| (p, p)),
        };
        for p in range.map(|(a, b)| a..=b).into_iter().flatten() {
            let key = format!("{p}/{proto}");
            if !exposed.contains(&key) {
                exposed.push(key);
            }
        }
    }
    (bindings, exposed)
}

fn mounts(project: &Project, service: &str, s: &Service) -> Result<Vec<Mount>> {
    s.volumes
        .iter()
        .map(|v| {
            let mut m = Mount {
                target: v.target.clone(),
                read_only: v.read_only,
                ..Default::default()
            };
            match v.kind {
                VolumeKind::Bind => {
                    m.kind = "bind".into();
                    m.source = v.source.clone().unwrap_or_default();
                    if let Some(b) = &v.bind {
                        if b.selinux.is_some() {
                            return Err(unsupported(
                                service,
                                "SELinux relabelling of bind mounts (z, Z)",
                            ));
                        }
                        m.bind_options = Some(BindOptions {
                            propagation: b.propagation.clone().unwrap_or_default(),
                            create_mountpoint: b.create_host_path,
                            ..Default::default()
                        });
                    }
                }
                VolumeKind::Volume => {
                    m.kind = "volume".into();
                    // A named volume by its engine name; none: anonymous.
                    m.source = match &v.source {
                        Some(key) => project
                            .volumes
                            .get(key)
                            .and_then(|vol| vol.name.clone())
                            .unwrap_or_else(|| key.clone()),
                        None => String::new(),
                    };
                    if let Some(o) = &v.volume {
                        if o.nocopy || o.subpath.is_some() {
                            m.volume_options = Some(VolumeOptions {
                                no_copy: o.nocopy,
                                subpath: o.subpath.clone().unwrap_or_default(),
                                ..Default::default()
                            });
                        }
                    }
                }
                VolumeKind::Tmpfs => {
                    m.kind = "tmpfs".into();
                    if let Some(t) = &v.tmpfs {
                        m.tmpfs_options = Some(TmpfsOptions {
                            size_bytes: t.size.map(|b| b.0 as i64).unwrap_or_default(),
                            mode: t.mode.unwrap_or_default() as u32,
                        });
                    }
                }
            }
            Ok(m)
        })
        .collect()
}

/// The service's networks by engine name with their endpoint settings, the
/// one to create on first.
fn endpoints(
    project: &Project,
    service: &str,
    s: &Service,
    container: &str,
) -> Result<Vec<(String, Value)>> {
    let mut nets: Vec<(i64, String, Value)> = Vec::new();
    for (key, cfg) in &s.networks {
        let net = project.networks.get(key).ok_or_else(|| {
            ComposeError::project(format!(
                "service {service:?} refers to undefined network {key}"
            ))
        })?;
        let engine_name = net.name.clone().unwrap_or_else(|| key.clone());
        // As Compose: the container name, the service name, then the
        // aliases the file gives.
        let mut aliases = vec![container.to_string(), service.to_string()];
        let mut ep = Map::new();
        let mut priority = 0;
        if let Some(c) = cfg {
            aliases.extend(c.aliases.iter().cloned());
            if let Some(ip) = &c.ipv4_address {
                ep.insert("IPAMConfig".into(), json!({ "IPv4Address": ip }));
            }
            priority = c.priority.unwrap_or(0);
        }
        ep.insert("Aliases".into(), json!(aliases));
        nets.push((priority, engine_name, Value::Object(ep)));
    }
    // Highest priority first; ties by name.
    nets.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(nets.into_iter().map(|(_, n, e)| (n, e)).collect())
}

/// The create request of a network the project owns (`None` for an
/// external one, which must exist).
pub fn network(project: &Project, key: &str) -> Option<NetworkCreateRequest> {
    let n = project.networks.get(key)?;
    if n.external {
        return None;
    }
    Some(NetworkCreateRequest {
        name: n.name.clone().unwrap_or_else(|| key.to_string()),
        driver: n.driver.clone().unwrap_or_else(|| "bridge".into()),
        internal: n.internal,
        ipam: n.ipam.as_ref().map(|i| ApiIpam {
            driver: i.driver.clone().unwrap_or_else(|| "default".into()),
            options: None,
            config: i
                .config
                .iter()
                .map(|c| IpamConfig {
                    subnet: c.subnet.clone().unwrap_or_default(),
                    ip_range: c.ip_range.clone(),
                    gateway: c.gateway.clone().unwrap_or_default(),
                    auxiliary_addresses: (!c.aux_addresses.is_empty())
                        .then(|| c.aux_addresses.clone()),
                })
                .collect(),
        }),
        labels: Some(plan::network_labels(project, key)),
        ..Default::default()
    })
}

/// The create request of a volume the project owns (`None` for external).
pub fn volume(project: &Project, key: &str) -> Option<VolumeCreateRequest> {
    let v = project.volumes.get(key)?;
    if v.external {
        return None;
    }
    Some(VolumeCreateRequest {
        name: v.name.clone().unwrap_or_else(|| key.to_string()),
        driver: v.driver.clone().unwrap_or_else(|| "local".into()),
        driver_opts: (!v.driver_opts.is_empty()).then(|| flat(&v.driver_opts)),
        labels: Some(plan::volume_labels(project, key)),
    })
}
