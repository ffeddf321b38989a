//! The plan of what to create, with Compose v2's names and labels, so that
//! berth and Docker Compose (v2, or 1.29 through berthd's API) recognise
//! each other's containers: `PROJECT-SERVICE-N` containers,
//! `PROJECT_NETWORK` networks, `PROJECT_VOLUME` volumes, the
//! `com.docker.compose.*` labels, the config hash, start and stop order,
//! and the diff between the project and the containers that exist.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::error::{ComposeError, Result};
use crate::model::{Project, Service};

/// The Compose version whose naming and labels berth follows; written to
/// `com.docker.compose.version`.
pub const COMPOSE_VERSION: &str = "2.30.0";

pub mod label {
    pub const PROJECT: &str = "com.docker.compose.project";
    pub const SERVICE: &str = "com.docker.compose.service";
    pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
    pub const ONEOFF: &str = "com.docker.compose.oneoff";
    pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
    pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
    pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
    pub const VERSION: &str = "com.docker.compose.version";
    pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
    pub const IMAGE: &str = "com.docker.compose.image";
    pub const NETWORK: &str = "com.docker.compose.network";
    pub const VOLUME: &str = "com.docker.compose.volume";
}

/// `label=com.docker.compose.project=NAME`: the filter that lists a
/// project's containers, networks and volumes.
pub fn project_filter(project: &Project) -> String {
    format!("{}={}", label::PROJECT, project.name)
}

/// The container name of replica `number` (1-based) of a service.
pub fn container_name(project: &Project, service: &str, number: u64) -> String {
    match project
        .services
        .get(service)
        .and_then(|s| s.container_name.as_ref())
    {
        Some(n) => n.clone(),
        None => format!("{}-{service}-{number}", project.name),
    }
}

/// The name of a one-off (`run`) container: `PROJECT-SERVICE-run-ID`, the
/// id being the first 12 hex digits of a random id the caller picks.
pub fn oneoff_name(project: &Project, service: &str, id: &str) -> String {
    let short: String = id.chars().take(12).collect();
    format!("{}-{service}-run-{short}", project.name)
}

/// The image a service runs: `image:`, or `PROJECT-SERVICE` for a service
/// that is only built.
pub fn image_name(project: &Project, service: &str) -> Option<String> {
    let s = project.services.get(service)?;
    Some(
        s.image
            .clone()
            .unwrap_or_else(|| format!("{}-{service}", project.name)),
    )
}

/// The config hash: SHA-256 of the service's canonical JSON, leaving out
/// what Compose leaves out (build, pull_policy, scale, deploy.replicas,
/// depends_on, profiles) so that changing them does not recreate.
pub fn config_hash(s: &Service) -> Result<String> {
    let mut s = s.clone();
    s.build = None;
    s.pull_policy = None;
    s.scale = None;
    if let Some(d) = s.deploy.as_mut() {
        d.replicas = None;
    }
    s.depends_on.clear();
    s.profiles.clear();
    let bytes = serde_json::to_vec(&s)
        .map_err(|e| ComposeError::project(format!("hashing service: {e}")))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Labels for a container of `service`. `image_id` is the ID of the image
/// it is created from, when known. User labels come first; Compose's own
/// labels cannot be overridden.
pub fn container_labels(
    project: &Project,
    service: &str,
    number: u64,
    oneoff: bool,
    image_id: Option<&str>,
) -> Result<BTreeMap<String, String>> {
    let s = project
        .services
        .get(service)
        .ok_or_else(|| ComposeError::NoSuchService(service.to_string()))?;
    let mut l: BTreeMap<String, String> = s
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
        .collect();
    l.insert(label::PROJECT.into(), project.name.clone());
    l.insert(label::SERVICE.into(), service.into());
    l.insert(label::CONTAINER_NUMBER.into(), number.to_string());
    l.insert(
        label::ONEOFF.into(),
        if oneoff { "True" } else { "False" }.into(),
    );
    l.insert(label::CONFIG_HASH.into(), config_hash(s)?);
    let files: Vec<String> = project
        .config_files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    l.insert(label::CONFIG_FILES.into(), files.join(","));
    l.insert(
        label::WORKING_DIR.into(),
        project.working_dir.display().to_string(),
    );
    l.insert(label::VERSION.into(), COMPOSE_VERSION.into());
    let deps: Vec<String> = s
        .depends_on
        .iter()
        .map(|(d, c)| {
            let cond = serde_json::to_value(c.condition)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            format!("{d}:{cond}:{}", c.restart)
        })
        .collect();
    l.insert(label::DEPENDS_ON.into(), deps.join(","));
    if let Some(id) = image_id {
        l.insert(label::IMAGE.into(), id.into());
    }
    Ok(l)
}

/// Labels for a network the project creates (`key` is its key in the file).
pub fn network_labels(project: &Project, key: &str) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = project
        .networks
        .get(key)
        .map(|n| {
            n.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    l.insert(label::PROJECT.into(), project.name.clone());
    l.insert(label::NETWORK.into(), key.into());
    l.insert(label::VERSION.into(), COMPOSE_VERSION.into());
    l
}

/// Labels for a volume the project creates.
pub fn volume_labels(project: &Project, key: &str) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = project
        .volumes
        .get(key)
        .map(|v| {
            v.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    l.insert(label::PROJECT.into(), project.name.clone());
    l.insert(label::VOLUME.into(), key.into());
    l.insert(label::VERSION.into(), COMPOSE_VERSION.into());
    l
}

/// Each active service's dependencies: `depends_on` (those that exist),
/// `links` and `network_mode: service:X`.
pub fn dependencies(project: &Project) -> BTreeMap<String, Vec<String>> {
    project
        .services
        .iter()
        .map(|(name, s)| {
            let mut d: BTreeSet<String> = s
                .depends_on
                .keys()
                .filter(|k| project.services.contains_key(*k))
                .cloned()
                .collect();
            for l in &s.links {
                d.insert(l.split(':').next().unwrap_or(l).to_string());
            }
            if let Some(other) = s
                .network_mode
                .as_deref()
                .and_then(|m| m.strip_prefix("service:"))
            {
                d.insert(other.to_string());
            }
            d.retain(|x| project.services.contains_key(x));
            (name.clone(), d.into_iter().collect())
        })
        .collect()
}

/// Start order: every service after its dependencies, ties by name.
pub fn start_order(project: &Project) -> Result<Vec<String>> {
    let deps = dependencies(project);
    let mut order: Vec<String> = Vec::new();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    while placed.len() < deps.len() {
        let ready: Vec<String> = deps
            .iter()
            .filter(|(n, d)| !placed.contains(*n) && d.iter().all(|x| placed.contains(x)))
            .map(|(n, _)| n.clone())
            .collect();
        if ready.is_empty() {
            return Err(ComposeError::project("dependency cycle detected"));
        }
        for n in ready {
            placed.insert(n.clone());
            order.push(n);
        }
    }
    Ok(order)
}

/// Stop (and remove) order: the reverse of the start order.
pub fn stop_order(project: &Project) -> Result<Vec<String>> {
    let mut o = start_order(project)?;
    o.reverse();
    Ok(o)
}

/// A restricted start: `services` and, unless `no_deps`, everything they
/// depend on, in start order.
pub fn with_dependencies(
    project: &Project,
    services: &[String],
    no_deps: bool,
) -> Result<Vec<String>> {
    for s in services {
        if !project.services.contains_key(s) {
            return Err(ComposeError::NoSuchService(s.clone()));
        }
    }
    if services.is_empty() {
        return start_order(project);
    }
    let deps = dependencies(project);
    let mut want: BTreeSet<String> = services.iter().cloned().collect();
    if !no_deps {
        let mut stack: Vec<String> = services.to_vec();
        while let Some(n) = stack.pop() {
            for d in deps.get(&n).into_iter().flatten() {
                if want.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
    }
    Ok(start_order(project)?
        .into_iter()
        .filter(|s| want.contains(s))
        .collect())
}

/// `--scale SERVICE=N` overrides.
#[derive(Debug, Clone, Default)]
pub struct Scale(pub BTreeMap<String, u64>);

/// How many replicas of `service` to run.
pub fn replicas(project: &Project, service: &str, scale: &Scale) -> u64 {
    if let Some(n) = scale.0.get(service) {
        return *n;
    }
    let Some(s) = project.services.get(service) else {
        return 0;
    };
    s.scale
        .or_else(|| s.deploy.as_ref().and_then(|d| d.replicas))
        .unwrap_or(1)
}

/// A container that exists, as listed by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingContainer {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub running: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    pub force_recreate: bool,
    pub no_recreate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    Create,
    /// The config hash changed (or --force-recreate): replace this container.
    Recreate {
        id: String,
    },
    Keep {
        id: String,
    },
    /// Beyond the wanted number of replicas.
    Remove {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub service: String,
    pub number: u64,
    pub name: String,
    pub kind: ActionKind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// In start order, replicas by number.
    pub actions: Vec<Action>,
    /// Containers of this project whose service no longer exists.
    pub orphans: Vec<ExistingContainer>,
}

/// Compares the project with the containers that exist.
pub fn diff(project: &Project, existing: &[ExistingContainer], scale: &Scale) -> Result<Diff> {
    diff_with(project, existing, scale, DiffOptions::default())
}

pub fn diff_with(
    project: &Project,
    existing: &[ExistingContainer],
    scale: &Scale,
    opts: DiffOptions,
) -> Result<Diff> {
    let ours: Vec<&ExistingContainer> = existing
        .iter()
        .filter(|c| c.labels.get(label::PROJECT) == Some(&project.name))
        .filter(|c| c.labels.get(label::ONEOFF).map(String::as_str) != Some("True"))
        .collect();
    let mut out = Diff::default();
    for c in &ours {
        let svc = c
            .labels
            .get(label::SERVICE)
            .map(String::as_str)
            .unwrap_or_default();
        if !project.services.contains_key(svc) && !project.disabled.contains_key(svc) {
            out.orphans.push((*c).clone());
        }
    }
    for service in start_order(project)? {
        let s = &project.services[&service];
        let hash = config_hash(s)?;
        let want = replicas(project, &service, scale);
        let mut have: Vec<(u64, &ExistingContainer)> = ours
            .iter()
            .filter(|c| c.labels.get(label::SERVICE) == Some(&service))
            .map(|c| {
                let n = c
                    .labels
                    .get(label::CONTAINER_NUMBER)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                (n, *c)
            })
            .collect();
        have.sort_by_key(|(n, _)| *n);
        for number in 1..=want {
            let name = container_name(project, &service, number);
            let kind = match have.iter().find(|(n, _)| *n == number) {
                None => ActionKind::Create,
                Some((_, c)) => {
                    let same = c.labels.get(label::CONFIG_HASH) == Some(&hash);
                    if opts.no_recreate || (same && !opts.force_recreate) {
                        ActionKind::Keep { id: c.id.clone() }
                    } else {
                        ActionKind::Recreate { id: c.id.clone() }
                    }
                }
            };
            out.actions.push(Action {
                service: service.clone(),
                number,
                name,
                kind,
            });
        }
        for (n, c) in have.iter().filter(|(n, _)| *n > want || *n == 0) {
            out.actions.push(Action {
                service: service.clone(),
                number: *n,
                name: c.name.clone(),
                kind: ActionKind::Remove { id: c.id.clone() },
            });
        }
    }
    Ok(out)
}

/// `down --rmi`: which images go with the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemoveImages {
    #[default]
    None,
    /// Images built for services that have no `image:` (Compose's `local`).
    Local,
    /// Every image the project's services use.
    All,
}

/// What `down` removes besides the containers (which it finds by the
/// project label, [`project_filter`], and removes in [`stop_order`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DownPlan {
    /// Engine names of the networks the project created (not external).
    pub networks: Vec<String>,
    /// Engine names of its volumes (not external), with `-v` only.
    pub volumes: Vec<String>,
    pub images: Vec<String>,
}

pub fn down(project: &Project, volumes: bool, rmi: RemoveImages) -> DownPlan {
    let networks = project
        .networks
        .iter()
        .filter(|(_, n)| !n.external)
        .filter_map(|(_, n)| n.name.clone())
        .collect();
    let volumes = if volumes {
        project
            .volumes
            .iter()
            .filter(|(_, v)| !v.external)
            .filter_map(|(_, v)| v.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let mut images: Vec<String> = project
        .services
        .iter()
        .filter(|(_, s)| match rmi {
            RemoveImages::None => false,
            RemoveImages::Local => s.image.is_none(),
            RemoveImages::All => true,
        })
        .filter_map(|(name, _)| image_name(project, name))
        .collect();
    images.sort();
    images.dedup();
    DownPlan {
        networks,
        volumes,
        images,
    }
}
