//! The project's networks and volumes: made before its containers, with
//! Compose's labels, checked when they exist already (Compose's errors and
//! warnings), removed by `down`. One list call per kind, then creates in
//! parallel.

use super::parallel::{try_join_all, Task};
use super::progress::{self, Progress};
use super::session::Session;
use crate::exit::describe;
use berth_api::network::Network;
use berth_api::volume::VolumeListResponse;
use berth_client::{segment, Query};
use berth_compose::engine;
use berth_compose::plan::label;
use std::collections::BTreeMap;

/// The engine name of a network or volume key.
fn engine_name(name: &Option<String>, key: &str) -> String {
    name.clone().unwrap_or_else(|| key.to_string())
}

/// What to do about a network that exists already.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Ours,
    Warn(String),
    Refuse(String),
}

/// Compose's check of an existing network's labels.
pub fn check_network(project: &str, key: &str, name: &str, labels: &BTreeMap<String, String>) -> Found {
    match (labels.get(label::PROJECT), labels.get(label::NETWORK)) {
        (None, None) => Found::Warn(format!(
            "a network with name {name} exists but was not created by compose.\nSet `external: true` to use an existing network"
        )),
        (_, Some(k)) if k != key => {
            Found::Refuse(format!("network {name} was found but has incorrect label {}={k:?}", label::NETWORK))
        }
        (Some(p), _) if p != project => {
            Found::Refuse(format!("network {name} was found but has incorrect label {}={p:?}", label::PROJECT))
        }
        _ => Found::Ours,
    }
}

/// Compose's check of an existing volume's labels (warnings only).
pub fn check_volume(project: &str, name: &str, labels: &BTreeMap<String, String>) -> Found {
    match labels.get(label::PROJECT) {
        None => Found::Warn(format!(
            "volume {name:?} already exists but was not created by Docker Compose. Use `external: true` to use an existing volume"
        )),
        Some(p) if p != project => Found::Warn(format!(
            "volume {name:?} already exists but was created for project {p:?} (expected {project:?}). Use `external: true` to use an existing volume"
        )),
        Some(_) => Found::Ours,
    }
}

/// Creates the project's networks that are missing; external ones must exist.
pub async fn ensure_networks(s: &Session<'_>, p: &Progress) -> anyhow::Result<()> {
    let project = &s.project;
    if project.networks.is_empty() {
        return Ok(());
    }
    let existing: Vec<Network> = s.client.get_json("/networks", &Query::new()).await?;
    let mut tasks: Vec<Task<'_, anyhow::Result<()>>> = Vec::new();
    for (key, n) in &project.networks {
        let name = engine_name(&n.name, key);
        let found = existing.iter().find(|e| e.name == name);
        if n.external {
            if found.is_none() {
                anyhow::bail!("network {name} declared as external, but could not be found");
            }
            continue;
        }
        if let Some(e) = found {
            match check_network(&project.name, key, &name, &e.labels) {
                Found::Ours => {}
                Found::Warn(w) => p.note(&format!("WARN[0000] {w}")),
                Found::Refuse(msg) => anyhow::bail!(msg),
            }
            continue;
        }
        let Some(req) = engine::network(project, key) else { continue };
        tasks.push(Box::pin(async move {
            let id = progress::network(&req.name);
            p.working(&id, "Creating");
            match s.client.post_json::<serde_json::Value, _>("/networks/create", &Query::new(), Some(&req)).await {
                Ok(_) => {
                    p.done(&id, "Created");
                    Ok(())
                }
                Err(e) => {
                    p.error(&id, "Error");
                    Err(anyhow::anyhow!("failed to create network {}: {}", req.name, describe(&e)))
                }
            }
        }));
    }
    try_join_all(tasks).await.map(|_| ())
}

/// Creates the project's volumes that are missing; external ones must exist.
pub async fn ensure_volumes(s: &Session<'_>, p: &Progress) -> anyhow::Result<()> {
    let project = &s.project;
    if project.volumes.is_empty() {
        return Ok(());
    }
    let list: VolumeListResponse = s.client.get_json("/volumes", &Query::new()).await?;
    let mut tasks: Vec<Task<'_, anyhow::Result<()>>> = Vec::new();
    for (key, v) in &project.volumes {
        let name = engine_name(&v.name, key);
        let found = list.volumes.iter().find(|e| e.name == name);
        if v.external {
            if found.is_none() {
                anyhow::bail!("external volume {name:?} not found");
            }
            continue;
        }
        if let Some(e) = found {
            if let Found::Warn(w) = check_volume(&project.name, &name, &e.labels.clone().unwrap_or_default()) {
                p.note(&format!("WARN[0000] {w}"));
            }
            continue;
        }
        let Some(req) = engine::volume(project, key) else { continue };
        tasks.push(Box::pin(async move {
            let id = progress::volume(&format!("{:?}", req.name));
            p.working(&id, "Creating");
            match s.client.post_json::<serde_json::Value, _>("/volumes/create", &Query::new(), Some(&req)).await {
                Ok(_) => {
                    p.done(&id, "Created");
                    Ok(())
                }
                Err(e) => {
                    p.error(&id, "Error");
                    Err(anyhow::anyhow!("failed to create volume {}: {}", req.name, describe(&e)))
                }
            }
        }));
    }
    try_join_all(tasks).await.map(|_| ())
}

/// `down`: removes the named networks that exist and carry the project's
/// label (a network of the same name made by someone else stays).
pub async fn remove_networks(s: &Session<'_>, p: &Progress, names: &[String]) -> anyhow::Result<()> {
    let list: Vec<Network> = s.client.get_json("/networks", &Query::new().filters(&s.project_filters())).await?;
    let mut errors = Vec::new();
    for name in names {
        if !list.iter().any(|n| &n.name == name) {
            continue;
        }
        let id = progress::network(name);
        p.working(&id, "Removing");
        match s.client.delete(&format!("/networks/{}", segment(name)), &Query::new()).await {
            Ok(()) => p.done(&id, "Removed"),
            Err(e) if e.is_not_found() => p.done(&id, "Removed"),
            Err(e) => {
                p.error(&id, "Error");
                errors.push(describe(&e));
            }
        }
    }
    crate::exit::joined(errors)
}

/// `down -v`: removes the project's named volumes that exist.
pub async fn remove_volumes(s: &Session<'_>, p: &Progress, names: &[String]) -> anyhow::Result<()> {
    let list: VolumeListResponse = s.client.get_json("/volumes", &Query::new().filters(&s.project_filters())).await?;
    let mut errors = Vec::new();
    for name in names {
        if !list.volumes.iter().any(|v| &v.name == name) {
            continue;
        }
        let id = progress::volume(name);
        p.working(&id, "Removing");
        match s.client.delete(&format!("/volumes/{}", segment(name)), &Query::new()).await {
            Ok(()) => p.done(&id, "Removed"),
            Err(e) if e.is_not_found() => p.done(&id, "Removed"),
            Err(e) => {
                p.error(&id, "Error");
                errors.push(describe(&e));
            }
        }
    }
    crate::exit::joined(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_network_of_another_key_or_project_is_refused_an_unlabelled_one_warned() {
        let ours = labels(&[(label::PROJECT, "p"), (label::NETWORK, "default")]);
        assert_eq!(check_network("p", "default", "p_default", &ours), Found::Ours);
        assert!(matches!(check_network("p", "back", "p_default", &ours), Found::Refuse(m) if m.contains("incorrect label com.docker.compose.network=\"default\"")));
        assert!(matches!(check_network("q", "default", "p_default", &ours), Found::Refuse(_)));
        assert!(matches!(check_network("p", "default", "p_default", &labels(&[])), Found::Warn(m) if m.contains("not created by compose")));
    }

    #[test]
    fn volumes_of_others_are_warned_about() {
        assert_eq!(check_volume("p", "p_data", &labels(&[(label::PROJECT, "p")])), Found::Ours);
        assert!(matches!(check_volume("p", "p_data", &labels(&[(label::PROJECT, "q")])), Found::Warn(m) if m.contains("created for project \"q\" (expected \"p\")")));
        assert!(matches!(check_volume("p", "p_data", &labels(&[])), Found::Warn(_)));
    }
}
