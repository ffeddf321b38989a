//! Waiting on `depends_on` conditions and on `up --wait`, with Compose's
//! messages (`dependency failed to start: container p-db-1 is unhealthy`,
//! `service "init" didn't complete successfully: exit 1`).
//!
//! Health is followed through the container's events (subscribe, then
//! inspect, then re-inspect on each event), so a healthy container is seen
//! as soon as berthd records it, without polling.

use super::parallel::{join_all, Task};
use super::progress::{self, Progress};
use super::session::Session;
use crate::exit::describe;
use berth_api::container::ContainerInspect;
use berth_client::{segment, Filters, Method, Query, RequestBody};
use berth_compose::model::DependCondition;
use std::collections::BTreeMap;

/// A service's containers by ID and name, as `up` made or found them.
pub type Running = BTreeMap<String, Vec<(String, String)>>;

/// What an inspect says about health: `Some(true)` healthy, `Some(false)`
/// not yet, an error when it never will be. `fallback_running` counts a
/// running container without a healthcheck as healthy (`up --wait`).
pub fn health_of(c: &ContainerInspect, name: &str, fallback_running: bool) -> anyhow::Result<bool> {
    let st = &c.state;
    if st.status == "exited" || st.status == "dead" {
        anyhow::bail!("container {name} exited ({})", st.exit_code);
    }
    let has_check = c
        .config
        .healthcheck
        .as_ref()
        .and_then(|h| h.get("Test"))
        .and_then(|t| t.as_array())
        .is_some_and(|t| t.first().and_then(|x| x.as_str()) != Some("NONE"));
    if !has_check {
        if fallback_running {
            return Ok(st.running);
        }
        anyhow::bail!("container {name} has no healthcheck configured");
    }
    match st.health.as_ref().and_then(|h| h.get("Status")).and_then(|s| s.as_str()) {
        Some("healthy") => Ok(true),
        Some("unhealthy") => anyhow::bail!("container {name} is unhealthy"),
        _ => Ok(false),
    }
}

/// Waits until `check` says yes for the container, re-inspecting on each
/// of its events.
async fn until(s: &Session<'_>, cid: &str, mut check: impl FnMut(&ContainerInspect) -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let mut f = Filters::new();
    f.add("type", "container");
    f.add("container", cid);
    let mut events = s
        .client
        .stream(Method::GET, "/events", &Query::new().filters(&f), RequestBody::Empty)
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))?
        .json::<serde_json::Value>();
    loop {
        let c: ContainerInspect = s
            .client
            .get_json(&format!("/containers/{}/json", segment(cid)), &Query::new())
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
        if check(&c)? {
            return Ok(());
        }
        if events.next().await?.is_none() {
            anyhow::bail!("the daemon closed the event stream");
        }
    }
}

/// Waits for one container to be healthy (or running, with `fallback_running`).
pub async fn healthy(s: &Session<'_>, p: &Progress, cid: &str, name: &str, fallback_running: bool) -> anyhow::Result<()> {
    let id = progress::container(name);
    p.working(&id, "Waiting");
    match until(s, cid, |c| health_of(c, name, fallback_running)).await {
        Ok(()) => {
            p.done(&id, "Healthy");
            Ok(())
        }
        Err(e) => {
            p.error(&id, "Error");
            Err(e)
        }
    }
}

/// Waits for a container to exit; its exit code.
pub async fn exited(s: &Session<'_>, cid: &str) -> anyhow::Result<i64> {
    let h = s.client.wait(cid, "not-running").await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
    Ok(h.result().await.map_err(|e| anyhow::anyhow!(describe(&e)))?.status_code)
}

/// Waits for the conditions of `service`'s `depends_on` on the containers
/// in `running`. A dependency with `required: false` that fails is a
/// warning, as in Compose.
pub async fn wait_dependencies(s: &Session<'_>, p: &Progress, service: &str, running: &Running) -> anyhow::Result<()> {
    let Some(svc) = s.project.services.get(service) else { return Ok(()) };
    let mut tasks: Vec<Task<'_, anyhow::Result<()>>> = Vec::new();
    for (dep, cond) in &svc.depends_on {
        let Some(containers) = running.get(dep) else { continue };
        for (cid, name) in containers {
            let dep = dep.clone();
            let required = cond.required;
            let condition = cond.condition;
            tasks.push(Box::pin(async move {
                let r = match condition {
                    DependCondition::ServiceStarted => Ok(()),
                    DependCondition::ServiceHealthy => healthy(s, p, cid, name, false)
                        .await
                        .map_err(|e| anyhow::anyhow!("dependency failed to start: {e}")),
                    DependCondition::ServiceCompletedSuccessfully => {
                        let id = progress::container(name);
                        p.working(&id, "Waiting");
                        match exited(s, cid).await? {
                            0 => {
                                p.done(&id, "Exited");
                                Ok(())
                            }
                            code => {
                                p.error(&id, "Error");
                                Err(anyhow::anyhow!("service {dep:?} didn't complete successfully: exit {code}"))
                            }
                        }
                    }
                };
                match r {
                    Err(e) if !required => {
                        p.note(&format!("WARN[0000] optional dependency {dep:?} failed to start: {e}"));
                        Ok(())
                    }
                    other => other,
                }
            }));
        }
    }
    for r in join_all(tasks).await {
        r?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inspect(status: &str, health: Option<&str>, check: bool) -> ContainerInspect {
        let mut c = ContainerInspect::default();
        c.state.status = status.into();
        c.state.running = status == "running";
        c.state.exit_code = 3;
        c.state.health = health.map(|h| json!({"Status": h}));
        if check {
            c.config.healthcheck = Some(json!({"Test": ["CMD", "true"]}));
        }
        c
    }

    #[test]
    fn health_follows_compose() {
        assert!(health_of(&inspect("running", Some("healthy"), true), "c", false).unwrap());
        assert!(!health_of(&inspect("running", Some("starting"), true), "c", false).unwrap());
        let e = health_of(&inspect("running", Some("unhealthy"), true), "p-db-1", false).unwrap_err();
        assert_eq!(e.to_string(), "container p-db-1 is unhealthy");
        let e = health_of(&inspect("exited", None, true), "p-db-1", false).unwrap_err();
        assert_eq!(e.to_string(), "container p-db-1 exited (3)");
        let e = health_of(&inspect("running", None, false), "p-db-1", false).unwrap_err();
        assert_eq!(e.to_string(), "container p-db-1 has no healthcheck configured");
        assert!(health_of(&inspect("running", None, false), "c", true).unwrap());
        assert!(!health_of(&inspect("created", None, false), "c", true).unwrap());
    }
}
