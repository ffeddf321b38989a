//! The convergence engine of `up`, `create` and `run`'s dependencies: from
//! the project and the containers that exist, make each service's
//! containers match (create, recreate, keep, scale down), then start them
//! in dependency order, waiting for `depends_on` conditions — as Compose
//! v2 does, one dependency level at a time with the containers of a level
//! created and started in parallel.
//!
//! Recreate is Compose's: stop the old container, rename it to
//! `ID12_NAME`, create the new one under the name, remove the old.

use super::depends::{self, Running};
use super::ops;
use super::parallel::{try_join_all, Task};
use super::progress::{self, Progress};
use super::provision::{self, BuildPolicy};
use super::resources;
use super::rollback::Before;
use super::session::Session;
use crate::exit::describe;
use berth_api::container::ContainerInspect;
use berth_client::{segment, Query};
use berth_compose::plan::{self, label, ActionKind, DiffOptions, ExistingContainer, Scale};
use berth_compose::Project;
use std::collections::{BTreeMap, BTreeSet};

/// One applied step: the step and the container it produced, if any.
type Applied = anyhow::Result<Option<(Step, String)>>;

/// When to replace a container that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recreate {
    /// When its configuration (or image) changed.
    #[default]
    Diverged,
    Force,
    Never,
}

impl Recreate {
    fn diff_options(self) -> DiffOptions {
        DiffOptions { force_recreate: self == Recreate::Force, no_recreate: self == Recreate::Never }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The services asked for; empty means all.
    pub services: Vec<String>,
    pub no_deps: bool,
    pub scale: Scale,
    /// For the services asked for.
    pub recreate: Recreate,
    /// For the services they depend on.
    pub recreate_deps: Recreate,
    pub remove_orphans: bool,
    pub build: BuildPolicy,
    pub pull: Option<String>,
    /// `-t`: seconds to wait when stopping a container to replace it.
    pub timeout: Option<i64>,
    /// Start the containers (not for `create` / `up --no-start`).
    pub start: bool,
    /// `-V`: a recreated container gets fresh anonymous volumes instead of
    /// its predecessor's.
    pub renew_anon_volumes: bool,
}

/// What convergence did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The services converged, in start order.
    pub order: Vec<String>,
    /// Their containers by service, by replica number.
    pub running: Running,
}

/// One step for one replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub service: String,
    pub number: u64,
    pub name: String,
    pub kind: ActionKind,
    /// The existing container runs (for `Keep`).
    pub running: bool,
}

/// Dependency levels: each service after everything it depends on, the
/// services of one level independent of each other.
pub fn levels(project: &Project, order: &[String]) -> Vec<Vec<String>> {
    let deps = plan::dependencies(project);
    let mut level: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    for svc in order {
        let l = deps
            .get(svc)
            .into_iter()
            .flatten()
            .filter_map(|d| level.get(d.as_str()).map(|l| l + 1))
            .max()
            .unwrap_or(0);
        level.insert(svc, l);
        if out.len() <= l {
            out.resize(l + 1, Vec::new());
        }
        out[l].push(svc.clone());
    }
    out
}

/// The steps for the services in `order`: the plan's diff with the
/// policy of each service (asked for, or a dependency), a kept container
/// whose image changed recreated (Compose compares the image label), and
/// a service sharing the network of a recreated one recreated with it.
pub fn steps(
    project: &Project,
    existing: &[ExistingContainer],
    order: &[String],
    opts: &Options,
    images: &BTreeMap<String, String>,
) -> berth_compose::Result<(Vec<Step>, Vec<ExistingContainer>)> {
    let asked = plan::diff_with(project, existing, &opts.scale, opts.recreate.diff_options())?;
    let deps = plan::diff_with(project, existing, &opts.scale, opts.recreate_deps.diff_options())?;
    let is_asked = |s: &str| opts.services.is_empty() || opts.services.iter().any(|x| x == s);
    let by_id: BTreeMap<&str, &ExistingContainer> = existing.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut out: Vec<Step> = Vec::new();
    let mut replaced: BTreeSet<String> = BTreeSet::new();
    for svc in order {
        let (diff, policy) = if is_asked(svc) { (&asked, opts.recreate) } else { (&deps, opts.recreate_deps) };
        let shares_replaced = project.services[svc]
            .network_mode
            .as_deref()
            .and_then(|m| m.strip_prefix("service:"))
            .is_some_and(|o| replaced.contains(o));
        for a in diff.actions.iter().filter(|a| &a.service == svc) {
            let mut kind = a.kind.clone();
            let mut running = false;
            if let ActionKind::Keep { id } = &kind {
                let c = by_id.get(id.as_str());
                running = c.is_some_and(|c| c.running);
                let want_image = plan::image_name(project, svc).and_then(|i| images.get(&i));
                let has_image = c.and_then(|c| c.labels.get(label::IMAGE));
                let image_changed = matches!((want_image, has_image), (Some(w), Some(h)) if w != h);
                if policy != Recreate::Never && (image_changed || shares_replaced) {
                    kind = ActionKind::Recreate { id: id.clone() };
                    running = false;
                }
            }
            if matches!(kind, ActionKind::Create | ActionKind::Recreate { .. }) {
                replaced.insert(svc.clone());
            }
            out.push(Step { service: svc.clone(), number: a.number, name: a.name.clone(), kind, running });
        }
    }
    Ok((out, asked.orphans))
}

/// Compose's warning when orphans are left alone.
pub fn orphan_warning(orphans: &[ExistingContainer]) -> String {
    let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
    format!(
        "WARN[0000] Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
        names.join(" ")
    )
}

/// Converges the project's services (see the module docs). When it fails,
/// what it made and never ran is taken back ([`super::rollback`]).
pub async fn converge(s: &Session<'_>, p: &Progress, opts: &Options) -> anyhow::Result<Outcome> {
    let existing = s.existing().await?;
    let before = Before::take(s, &existing).await?;
    let r = converge_once(s, p, opts, existing).await;
    if r.is_err() {
        before.roll_back(s, p).await;
    }
    r
}

async fn converge_once(s: &Session<'_>, p: &Progress, opts: &Options, existing: Vec<ExistingContainer>) -> anyhow::Result<Outcome> {
    s.check_services(&opts.services)?;
    for svc in opts.scale.0.keys() {
        s.check_services(std::slice::from_ref(svc))?;
    }
    let project = &s.project;
    let order = plan::with_dependencies(project, &opts.services, opts.no_deps)?;
    let images = provision::ensure_images(s, p, &order, opts.build, opts.pull.as_deref()).await?;
    let (steps, orphans) = steps(project, &existing, &order, opts, &images)?;
    // A container that cannot be planned (a secret's variable unset, an
    // unsupported option) is refused before anything is created or stopped.
    for st in &steps {
        if matches!(st.kind, ActionKind::Create | ActionKind::Recreate { .. }) {
            berth_compose::engine::container(project, &st.service, st.number, None)?;
        }
    }
    if !orphans.is_empty() {
        if opts.remove_orphans {
            let tasks: Vec<Task<'_, anyhow::Result<()>>> = orphans
                .iter()
                .map(|c| {
                    Box::pin(async move {
                        ops::stop(s, p, &c.id, &c.name, opts.timeout).await?;
                        ops::remove(s, p, &c.id, &c.name, false).await
                    }) as Task<'_, _>
                })
                .collect();
            try_join_all(tasks).await?;
        } else {
            p.note(&orphan_warning(&orphans));
        }
    }
    let (nets, vols) = tokio::join!(resources::ensure_networks(s, p), resources::ensure_volumes(s, p));
    nets?;
    vols?;

    // Any container of a service, for `network_mode: service:X` of a
    // service whose X is not converged now (--no-deps).
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for c in &existing {
        if let Some(svc) = c.labels.get(label::SERVICE) {
            ids.entry(svc.clone()).or_insert_with(|| c.id.clone());
        }
    }
    let mut running = Running::new();
    let mut to_start: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let replaced: BTreeSet<String> = steps
        .iter()
        .filter(|st| matches!(st.kind, ActionKind::Create | ActionKind::Recreate { .. }))
        .map(|st| st.service.clone())
        .collect();
    let levels = levels(project, &order);
    for level in &levels {
        let tasks: Vec<Task<'_, Applied>> = steps
            .iter()
            .filter(|st| level.contains(&st.service))
            .map(|st| {
                let image = plan::image_name(project, &st.service).and_then(|i| images.get(&i).cloned());
                let ids = &ids;
                Box::pin(async move {
                    let cid = apply(s, p, st, image.as_deref(), ids, opts).await?;
                    Ok(cid.map(|c| (st.clone(), c)))
                }) as Task<'_, _>
            })
            .collect();
        for (st, cid) in try_join_all(tasks).await?.into_iter().flatten() {
            if st.number == 1 || !ids.contains_key(&st.service) {
                ids.insert(st.service.clone(), cid.clone());
            }
            running.entry(st.service.clone()).or_default().push((cid.clone(), st.name.clone()));
            if !st.running {
                to_start.entry(st.service.clone()).or_default().push((cid, st.name));
            }
        }
    }
    if opts.start {
        for level in &levels {
            let tasks: Vec<Task<'_, anyhow::Result<()>>> = level
                .iter()
                .map(|svc| {
                    let starts = to_start.get(svc).cloned().unwrap_or_default();
                    let restarts = restarts_for(project, svc, &replaced, &running, &to_start);
                    let running = &running;
                    Box::pin(async move {
                        if !starts.is_empty() || !restarts.is_empty() {
                            depends::wait_dependencies(s, p, svc, running).await?;
                        }
                        let mut t: Vec<Task<'_, anyhow::Result<()>>> = Vec::new();
                        for (cid, name) in &starts {
                            t.push(Box::pin(ops::start(s, p, cid, name)));
                        }
                        let q = ops::timeout_query(opts.timeout);
                        for (cid, name) in &restarts {
                            let q = q.clone();
                            t.push(Box::pin(async move {
                                ops::action(s, p, cid, name, "restart", &q, ("Restarting", "Restarted")).await
                            }));
                        }
                        try_join_all(t).await.map(|_| ())
                    }) as Task<'_, _>
                })
                .collect();
            try_join_all(tasks).await?;
        }
    }
    Ok(Outcome { order, running })
}

/// `depends_on: {X: {restart: true}}`: running containers of `svc` that
/// are kept while X was replaced are restarted.
fn restarts_for(
    project: &Project,
    svc: &str,
    replaced: &BTreeSet<String>,
    running: &Running,
    to_start: &BTreeMap<String, Vec<(String, String)>>,
) -> Vec<(String, String)> {
    let Some(s) = project.services.get(svc) else { return Vec::new() };
    let restart = s.depends_on.iter().any(|(d, c)| c.restart && replaced.contains(d));
    if !restart || replaced.contains(svc) {
        return Vec::new();
    }
    let starting = to_start.get(svc).cloned().unwrap_or_default();
    running.get(svc).into_iter().flatten().filter(|c| !starting.contains(c)).cloned().collect()
}

/// Carries out one step; the container's ID when it stays.
async fn apply(
    s: &Session<'_>,
    p: &Progress,
    st: &Step,
    image_id: Option<&str>,
    ids: &BTreeMap<String, String>,
    opts: &Options,
) -> anyhow::Result<Option<String>> {
    let timeout = opts.timeout;
    let id = progress::container(&st.name);
    match &st.kind {
        ActionKind::Keep { id: cid } => {
            if st.running {
                p.done(&id, "Running");
            }
            Ok(Some(cid.clone()))
        }
        ActionKind::Create => {
            p.working(&id, "Creating");
            match ops::create(s, &st.service, st.number, image_id, ids, &[]).await {
                Ok(cid) => {
                    p.done(&id, "Created");
                    Ok(Some(cid))
                }
                Err(e) => {
                    p.error(&id, "Error");
                    Err(e)
                }
            }
        }
        ActionKind::Recreate { id: old } => {
            p.working(&id, "Recreate");
            match recreate(s, st, old, image_id, ids, opts).await {
                Ok(cid) => {
                    p.done(&id, "Recreated");
                    Ok(Some(cid))
                }
                Err(e) => {
                    p.error(&id, "Error");
                    Err(e)
                }
            }
        }
        ActionKind::Remove { id: cid } => {
            ops::stop(s, p, cid, &st.name, timeout).await?;
            ops::remove(s, p, cid, &st.name, false).await?;
            Ok(None)
        }
    }
}

/// Compose's recreate: stop, rename the old one out of the way, create
/// (with the old one's anonymous volumes unless `-V`), remove the old one
/// (keeping those volumes).
async fn recreate(
    s: &Session<'_>,
    st: &Step,
    old: &str,
    image_id: Option<&str>,
    ids: &BTreeMap<String, String>,
    opts: &Options,
) -> anyhow::Result<String> {
    let path = |action: &str| format!("/containers/{}/{action}", segment(old));
    let err = |e: berth_client::ClientError| anyhow::anyhow!(describe(&e));
    let inherited = if opts.renew_anon_volumes {
        Vec::new()
    } else {
        let c: ContainerInspect = s.client.get_json(&path("json"), &Query::new()).await.map_err(err)?;
        c.mounts
    };
    s.client.post(&path("stop"), &ops::timeout_query(opts.timeout)).await.map_err(err)?;
    let short: String = old.chars().take(12).collect();
    let q = Query::new().add("name", format!("{short}_{}", st.name));
    s.client.post(&path("rename"), &q).await.map_err(err)?;
    let cid = ops::create(s, &st.service, st.number, image_id, ids, &inherited).await?;
    s.client
        .delete(&format!("/containers/{}", segment(old)), &Query::new().flag("force", true))
        .await
        .map_err(err)?;
    Ok(cid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_compose::{load, LoadOptions};

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        let mut o = LoadOptions::from_process(dir.path().to_path_buf());
        o.project_name = Some("p".into());
        o.environment = Default::default();
        load(&o).unwrap()
    }

    const FIVE: &str = "services:\n  nginx:\n    image: busybox\n    depends_on: [api, client]\n  api:\n    image: busybox\n    depends_on: [postgres, redis]\n  client:\n    image: busybox\n  worker:\n    image: busybox\n    depends_on: [redis, postgres]\n  postgres:\n    image: busybox\n  redis:\n    image: busybox\n";

    #[test]
    fn levels_group_independent_services() {
        let p = project(FIVE);
        let order = plan::start_order(&p).unwrap();
        let l = levels(&p, &order);
        assert_eq!(l, vec![vec!["client", "postgres", "redis"], vec!["api", "worker"], vec!["nginx"]]);
    }

    fn existing(p: &Project, svc: &str, id: &str, image: &str) -> ExistingContainer {
        let mut labels = plan::container_labels(p, svc, 1, false, Some(image)).unwrap();
        labels.insert(label::IMAGE.into(), image.into());
        ExistingContainer { id: id.into(), name: format!("p-{svc}-1"), labels, running: true }
    }

    #[test]
    fn unchanged_containers_are_kept_and_a_new_image_recreates() {
        let p = project("services:\n  web:\n    image: busybox\n  db:\n    image: busybox\n    network_mode: service:web\n");
        let order = plan::start_order(&p).unwrap();
        let ex = vec![existing(&p, "web", "w1", "sha256:a"), existing(&p, "db", "d1", "sha256:a")];
        let images: BTreeMap<String, String> = [("busybox".to_string(), "sha256:a".to_string())].into();
        let (st, orphans) = steps(&p, &ex, &order, &Options::default(), &images).unwrap();
        assert!(orphans.is_empty());
        assert!(st.iter().all(|s| matches!(s.kind, ActionKind::Keep { .. }) && s.running), "{st:?}");
        let images: BTreeMap<String, String> = [("busybox".to_string(), "sha256:b".to_string())].into();
        let (st, _) = steps(&p, &ex, &order, &Options::default(), &images).unwrap();
        assert!(st.iter().all(|s| matches!(s.kind, ActionKind::Recreate { .. })), "{st:?}");
        let never = Options { recreate: Recreate::Never, recreate_deps: Recreate::Never, ..Default::default() };
        let (st, _) = steps(&p, &ex, &order, &never, &images).unwrap();
        assert!(st.iter().all(|s| matches!(s.kind, ActionKind::Keep { .. })), "{st:?}");
    }

    #[test]
    fn force_recreate_spares_dependencies_and_network_sharers_follow() {
        let p = project("services:\n  web:\n    image: busybox\n    depends_on: [db]\n  db:\n    image: busybox\n  side:\n    image: busybox\n    network_mode: service:web\n");
        let order = plan::start_order(&p).unwrap();
        let ex = vec![existing(&p, "web", "w1", "i"), existing(&p, "db", "d1", "i"), existing(&p, "side", "s1", "i")];
        let images: BTreeMap<String, String> = [("busybox".to_string(), "i".to_string())].into();
        let opts = Options { services: vec!["web".into()], recreate: Recreate::Force, ..Default::default() };
        let order: Vec<String> = order.into_iter().filter(|s| s != "side").collect();
        let (st, _) = steps(&p, &ex, &order, &opts, &images).unwrap();
        let kind = |svc: &str| st.iter().find(|s| s.service == svc).map(|s| s.kind.clone());
        assert_eq!(kind("db"), Some(ActionKind::Keep { id: "d1".into() }));
        assert_eq!(kind("web"), Some(ActionKind::Recreate { id: "w1".into() }));
        let all = plan::start_order(&p).unwrap();
        let opts = Options { services: vec!["web".into(), "side".into()], ..Default::default() };
        let ex2: Vec<ExistingContainer> = ex.iter().filter(|c| c.id != "w1").cloned().collect();
        let (st, _) = steps(&p, &ex2, &all, &opts, &images).unwrap();
        let kind = |svc: &str| st.iter().find(|s| s.service == svc).map(|s| s.kind.clone());
        assert_eq!(kind("web"), Some(ActionKind::Create));
        assert_eq!(kind("side"), Some(ActionKind::Recreate { id: "s1".into() }), "shares web's network");
    }

    #[test]
    fn orphans_are_named_as_compose_names_them() {
        let c = ExistingContainer { id: "x".into(), name: "p-old-1".into(), labels: BTreeMap::new(), running: true };
        assert!(orphan_warning(&[c]).contains("Found orphan containers ([p-old-1]) for this project."));
    }
}
