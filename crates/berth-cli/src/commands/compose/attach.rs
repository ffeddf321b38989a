//! A foreground `up`: the attached services' output with `web-1  | `
//! prefixes, `web-1 exited with code 0` when a container stops, and the
//! end of the session as Compose ends it — when every attached container
//! has exited, on the first exit with `--abort-on-container-exit` /
//! `--exit-code-from` (the others are stopped), or on Ctrl-C (stop, and a
//! second Ctrl-C kills).
//!
//! Exits are followed through the project's `die`/`start` events, so a
//! container that its restart policy brings back keeps the session open.

use super::converge::Outcome;
use super::logprinter::Style;
use super::logs::{LogFollower, LogOptions};
use super::ops;
use super::parallel::Task;
use super::progress::Progress;
use super::session::{OneOff, Session};
use super::Global;
use crate::exit::describe;
use berth_api::container::{ContainerInspect, ContainerSummary};
use berth_client::{segment, Method, Query, RequestBody};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// The services whose output is shown and whose exits are followed.
    pub services: Vec<String>,
    /// `--abort-on-container-exit`.
    pub cascade: bool,
    pub exit_code_from: Option<String>,
    pub timeout: Option<i64>,
    pub color: bool,
    pub prefix: bool,
    pub timestamps: bool,
    /// When `up` began: exits from then on are replayed (`since`), so a
    /// container that exits before the session subscribes is not missed.
    pub since: Option<std::time::SystemTime>,
}

/// The name Compose shows for a container: without the `PROJECT-` prefix.
pub fn display_name(project: &str, name: &str) -> String {
    name.strip_prefix(&format!("{project}-")).unwrap_or(name).to_string()
}

/// Whether a container that died will be brought back by its restart
/// policy (unless the session is stopping it).
pub fn will_restart(c: &ContainerInspect, code: i64) -> bool {
    if c.state.running || c.state.restarting {
        return true;
    }
    let p = &c.host_config.restart_policy;
    match p.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => code != 0 && (p.maximum_retry_count == 0 || c.restart_count < p.maximum_retry_count),
        _ => false,
    }
}

/// Pends forever when there is nothing to wait for.
async fn maybe<T>(f: &mut Option<Task<'_, T>>) -> T {
    match f {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

/// Runs the attached session; the exit code `up` should end with.
pub async fn attached(s: &Session<'_>, global: &Global, outcome: &Outcome, a: &AttachOptions) -> anyhow::Result<i32> {
    let project = &s.project.name;
    // Every converged container (they are all stopped at the end), and
    // the attached ones by ID → (service, display name).
    let all: Vec<(String, String)> = outcome.order.iter().flat_map(|svc| outcome.running.get(svc).cloned().unwrap_or_default()).collect();
    let mut attached: BTreeMap<String, (String, String)> = BTreeMap::new();
    for svc in &a.services {
        for (cid, name) in outcome.running.get(svc).into_iter().flatten() {
            attached.insert(cid.clone(), (svc.clone(), display_name(project, name)));
        }
    }
    let mut f = s.project_filters();
    f.add("type", "container");
    f.add("event", "die");
    f.add("event", "start");
    let mut q = Query::new().filters(&f);
    if let Some(t) = a.since.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()) {
        q = q.add("since", format!("{}.{:09}", t.as_secs(), t.subsec_nanos()));
    }
    let mut events = s
        .client
        .stream(Method::GET, "/events", &q, RequestBody::Empty)
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))?
        .json::<serde_json::Value>();
    // The attached containers as the engine lists them (their labels name
    // them for the log prefixes).
    let listed: Vec<ContainerSummary> =
        s.containers(true, OneOff::Exclude, &a.services).await?.into_iter().filter(|c| attached.contains_key(&c.id)).collect();
    let opts = LogOptions { timestamps: a.timestamps, style: Style { color: a.color, prefix: a.prefix }, ..LogOptions::default() };
    let mut logs = LogFollower::new(s.client, opts);
    logs.register(&listed);
    for c in &listed {
        logs.add(c);
    }
    let printer = logs.printer().clone();

    // Containers still alive; the session ends when none is.
    let mut live: BTreeSet<String> = attached.keys().cloned().collect();
    let mut code: Option<i32> = None;
    let mut stopping: Option<Task<'_, anyhow::Result<()>>> = None;
    let mut interrupted = 0;
    let stop_all = |kill: bool| -> Task<'_, anyhow::Result<()>> {
        let all = all.clone();
        Box::pin(async move {
            let p = Progress::new(global, if kill { "Killing" } else { "Stopping" });
            ops::stop_or_kill(s, &p, &all, a.timeout, kill).await
        })
    };
    if live.is_empty() {
        return Ok(0);
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                interrupted += 1;
                if interrupted == 1 {
                    printer.note("Gracefully stopping... (press Ctrl+C again to force)");
                    stopping = Some(stop_all(false));
                } else {
                    stopping = Some(stop_all(true));
                }
            }
            r = maybe(&mut stopping) => {
                stopping = None;
                r?;
                if interrupted > 0 || live.is_empty() {
                    break;
                }
            }
            ev = events.next() => {
                let Some(ev) = ev? else { anyhow::bail!("the daemon closed the event stream") };
                let cid = ev.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                let Some((svc, name)) = attached.get(&cid).cloned() else { continue };
                let action = ev.get("Action").or_else(|| ev.get("status")).and_then(|v| v.as_str()).unwrap_or_default();
                if action == "start" {
                    // Brought back by its restart policy: follow it again.
                    if let Some(c) = listed.iter().find(|c| c.id == cid) {
                        logs.add_started(c, ev.get("time").and_then(|t| t.as_i64()));
                    }
                    live.insert(cid);
                    continue;
                }
                logs.forget(&cid);
                let exit: i64 = ev
                    .pointer("/Actor/Attributes/exitCode")
                    .and_then(|v| v.as_str())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                printer.note(&format!("{name} exited with code {exit}"));
                let stopping_now = stopping.is_some() || code.is_some();
                let restarts = !stopping_now && !a.cascade && {
                    let c: Option<ContainerInspect> = s.client.get_json(&format!("/containers/{}/json", segment(&cid)), &Query::new()).await.ok();
                    c.is_some_and(|c| will_restart(&c, exit))
                };
                if !restarts {
                    live.remove(&cid);
                }
                if a.cascade {
                    let counts = a.exit_code_from.as_ref().is_none_or(|from| from == &svc);
                    if counts && code.is_none() {
                        code = Some(exit as i32);
                    }
                    if stopping.is_none() && interrupted == 0 {
                        printer.note("Aborting on container exit...");
                        stopping = Some(stop_all(false));
                    }
                }
                if live.is_empty() && stopping.is_none() {
                    break;
                }
            }
        }
    }
    // Let the followers print what is left of the output.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), logs.wait_all()).await;
    logs.abort_all();
    if interrupted > 0 {
        return Ok(130);
    }
    Ok(code.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_the_project_prefix() {
        assert_eq!(display_name("p", "p-web-1"), "web-1");
        assert_eq!(display_name("p", "custom"), "custom");
    }

    #[test]
    fn restart_policies_decide_whether_an_exit_ends_the_container() {
        let mut c = ContainerInspect::default();
        c.host_config.restart_policy.name = "no".into();
        assert!(!will_restart(&c, 1));
        c.host_config.restart_policy.name = "always".into();
        assert!(will_restart(&c, 0));
        c.host_config.restart_policy.name = "on-failure".into();
        assert!(!will_restart(&c, 0));
        assert!(will_restart(&c, 2));
        c.host_config.restart_policy.maximum_retry_count = 1;
        c.restart_count = 1;
        assert!(!will_restart(&c, 2));
    }
}
