//! `berth compose create|start|stop|restart|kill|pause|unpause|rm`: one
//! action on the project's service containers (or the services named),
//! in dependency order (stop-like actions in reverse), the containers of
//! one level in parallel, reported as Compose reports them.

use super::converge::{self, levels, Options, Recreate};
use super::depends::{self, Running};
use super::ops;
use super::parallel::{try_join_all, Task};
use super::progress::Progress;
use super::provision::BuildPolicy;
use super::session::{name_of, service_of, OneOff, Session};
use super::Global;
use berth_api::container::ContainerSummary;
use berth_client::{Client, Query};
use berth_compose::plan;
use std::io::{BufRead, Write};

#[derive(clap::Args, Debug)]
pub struct ServicesArgs {
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Build images before starting containers
    #[arg(long = "build")]
    pub build: bool,
    /// Don't build an image, even if it's policy
    #[arg(long = "no-build")]
    pub no_build: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long = "force-recreate")]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them. Incompatible with --force-recreate.
    #[arg(long = "no-recreate")]
    pub no_recreate: bool,
    /// Pull image before running ("always"|"missing"|"never"|"build")
    #[arg(long = "pull", value_parser = ["always", "missing", "never", "build"])]
    pub pull: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.
    #[arg(long = "scale", value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout", allow_negative_numbers = true)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RestartArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout", allow_negative_numbers = true)]
    pub timeout: Option<i64>,
    /// Don't restart dependent services
    #[arg(long = "no-deps")]
    pub no_deps: bool,
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short = 's', long = "signal", default_value = "SIGKILL")]
    pub signal: String,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    pub remove_orphans: bool,
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Don't ask to confirm removal
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short = 's', long = "stop")]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    pub services: Vec<String>,
}

/// The containers grouped by dependency level, in start order or (with
/// `reverse`) stop order; containers of services the file no longer has
/// come last.
pub fn batches<'c>(s: &Session<'_>, containers: &'c [ContainerSummary], reverse: bool) -> anyhow::Result<Vec<Vec<&'c ContainerSummary>>> {
    let order = plan::start_order(&s.project)?;
    let mut lv = levels(&s.project, &order);
    if reverse {
        lv.reverse();
    }
    let mut out: Vec<Vec<&ContainerSummary>> = lv
        .iter()
        .map(|level| containers.iter().filter(|c| service_of(c).is_some_and(|x| level.iter().any(|l| l == x))).collect())
        .collect();
    out.push(containers.iter().filter(|c| service_of(c).is_none_or(|x| !s.project.services.contains_key(x))).collect());
    out.retain(|b| !b.is_empty());
    Ok(out)
}

/// Runs `f` on every container, batch by batch, each batch in parallel.
async fn each<'a, F>(batches: &[Vec<&'a ContainerSummary>], f: F) -> anyhow::Result<()>
where
    F: Fn(&'a ContainerSummary) -> Task<'a, anyhow::Result<()>>,
{
    for b in batches {
        try_join_all(b.iter().map(|c| f(c)).collect()).await?;
    }
    Ok(())
}

async fn load<'a>(client: &'a Client, global: &Global, services: &[String]) -> anyhow::Result<Session<'a>> {
    let s = Session::load(client, global, services)?;
    s.check_services(services)?;
    Ok(s)
}

fn is_running(c: &ContainerSummary) -> bool {
    matches!(c.state.as_str(), "running" | "restarting")
}

pub async fn create(client: &Client, global: &Global, args: CreateArgs) -> anyhow::Result<()> {
    if args.build && args.no_build {
        anyhow::bail!("--build and --no-build are incompatible");
    }
    if args.force_recreate && args.no_recreate {
        anyhow::bail!("--force-recreate and --no-recreate are incompatible");
    }
    let s = load(client, global, &args.services).await?;
    let recreate = match (args.force_recreate, args.no_recreate) {
        (true, _) => Recreate::Force,
        (_, true) => Recreate::Never,
        _ => Recreate::Diverged,
    };
    let opts = Options {
        services: args.services.clone(),
        scale: super::up::parse_scale(&args.scale)?,
        recreate,
        recreate_deps: if args.no_recreate { Recreate::Never } else { Recreate::Diverged },
        remove_orphans: args.remove_orphans,
        build: match (args.build, args.no_build) {
            (true, _) => BuildPolicy::Always,
            (_, true) => BuildPolicy::Never,
            _ => BuildPolicy::Missing,
        },
        pull: args.pull.clone(),
        start: false,
        ..Default::default()
    };
    let p = Progress::new(global, "Running");
    converge::converge(&s, &p, &opts).await.map(|_| ())
}

pub async fn start(client: &Client, global: &Global, args: ServicesArgs) -> anyhow::Result<()> {
    let s = load(client, global, &args.services).await?;
    let all = s.containers(true, OneOff::Exclude, &[]).await?;
    for svc in &args.services {
        if !all.iter().any(|c| service_of(c) == Some(svc)) {
            anyhow::bail!("service {svc:?} has no container to start");
        }
    }
    let chosen: Vec<ContainerSummary> =
        all.iter().filter(|c| args.services.is_empty() || service_of(c).is_some_and(|x| args.services.iter().any(|a| a == x))).cloned().collect();
    if chosen.is_empty() {
        anyhow::bail!("no container found for project {:?}: not found", s.project.name);
    }
    let mut running = Running::new();
    for c in &all {
        if let Some(svc) = service_of(c) {
            running.entry(svc.to_string()).or_default().push((c.id.clone(), name_of(c).to_string()));
        }
    }
    let p = Progress::new(global, "Running");
    for batch in batches(&s, &chosen, false)? {
        let services: std::collections::BTreeSet<&str> = batch.iter().filter_map(|c| service_of(c)).collect();
        let waits: Vec<Task<'_, anyhow::Result<()>>> =
            services.iter().map(|svc| Box::pin(depends::wait_dependencies(&s, &p, svc, &running)) as Task<'_, _>).collect();
        try_join_all(waits).await?;
        let (s, p) = (&s, &p);
        each(&[batch], |c| Box::pin(async move { if is_running(c) { Ok(()) } else { ops::start(s, p, &c.id, name_of(c)).await } })).await?;
    }
    Ok(())
}

pub async fn stop(client: &Client, global: &Global, args: StopArgs) -> anyhow::Result<()> {
    let s = load(client, global, &args.services).await?;
    let list = s.containers(false, OneOff::Exclude, &args.services).await?;
    let p = Progress::new(global, "Stopping");
    let (sr, pr, t) = (&s, &p, args.timeout);
    each(&batches(&s, &list, true)?, |c| Box::pin(ops::stop(sr, pr, &c.id, name_of(c), t))).await
}

pub async fn restart(client: &Client, global: &Global, args: RestartArgs) -> anyhow::Result<()> {
    let s = load(client, global, &args.services).await?;
    let list = s.containers(true, OneOff::Exclude, &args.services).await?;
    let p = Progress::new(global, "Restarting");
    let q = ops::timeout_query(args.timeout);
    let (sr, pr, q) = (&s, &p, &q);
    each(&batches(&s, &list, false)?, |c| Box::pin(ops::action(sr, pr, &c.id, name_of(c), "restart", q, ("Restarting", "Started")))).await
}

pub async fn kill(client: &Client, global: &Global, args: KillArgs) -> anyhow::Result<()> {
    let s = load(client, global, &args.services).await?;
    // As Compose: one-off containers too; orphans only with --remove-orphans
    // (which, for kill, kills them rather than removing them).
    let mut list = s.containers(false, OneOff::Include, &args.services).await?;
    if !args.remove_orphans {
        list.retain(|c| service_of(c).is_some_and(|x| s.project.services.contains_key(x)));
    }
    if list.is_empty() {
        eprintln!("no container to kill");
        return Ok(());
    }
    let p = Progress::new(global, "Killing");
    let q = Query::new().add("signal", args.signal.as_str());
    let (sr, pr, q) = (&s, &p, &q);
    each(&batches(&s, &list, true)?, |c| Box::pin(ops::action(sr, pr, &c.id, name_of(c), "kill", q, ("Killing", "Killed")))).await
}

pub async fn pause(client: &Client, global: &Global, args: ServicesArgs) -> anyhow::Result<()> {
    let s = load(client, global, &args.services).await?;
    let list: Vec<ContainerSummary> = s.containers(false, OneOff::Exclude, &args.services).await?.into_iter().filter(|c| c.state == "running").collect();
    let p = Progress::new(global, "Pausing");
    let q = Query::new();
    let (sr, pr, q) = (&s, &p, &q);
    each(&batches(&s, &list, false)?, |c| Box::pin(ops::action(sr, pr, &c.id, name_of(c), "pause", q, ("Pausing", "Paused")))).await
}

pub async fn unpause(client: &Client, global: &Global, args: ServicesArgs) -> anyhow::Result<()> {
    let s = load(client, global, &args.services).await?;
    let list: Vec<ContainerSummary> = s.containers(true, OneOff::Exclude, &args.services).await?.into_iter().filter(|c| c.state == "paused").collect();
    let p = Progress::new(global, "Unpausing");
    let q = Query::new();
    let (sr, pr, q) = (&s, &p, &q);
    each(&batches(&s, &list, false)?, |c| Box::pin(ops::action(sr, pr, &c.id, name_of(c), "unpause", q, ("Unpausing", "Unpaused")))).await
}

/// Compose's question; anything but y/Y (or no terminal to ask on) is no.
fn confirm(names: &[&str]) -> bool {
    print!("Going to remove {}\nAre you sure? [yN] ", names.join(", "));
    let _ = std::io::stdout().flush();
    if !crate::terminal::stdin_is_terminal() {
        println!();
        return false;
    }
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES")
}

pub async fn rm(client: &Client, global: &Global, args: RmArgs) -> anyhow::Result<()> {
    let s = load(client, global, &args.services).await?;
    let all = s.containers(true, OneOff::Exclude, &args.services).await?;
    let p = Progress::new(global, "Removing");
    if args.stop {
        let running: Vec<ContainerSummary> = all.iter().filter(|c| is_running(c) || c.state == "paused").cloned().collect();
        let (sr, pr) = (&s, &p);
        each(&batches(&s, &running, true)?, |c| Box::pin(ops::stop(sr, pr, &c.id, name_of(c), None))).await?;
    }
    let stopped: Vec<ContainerSummary> = all.into_iter().filter(|c| args.stop || !(is_running(c) || c.state == "paused")).collect();
    if stopped.is_empty() {
        eprintln!("No stopped containers");
        return Ok(());
    }
    let names: Vec<&str> = stopped.iter().map(name_of).collect();
    if args.force {
        println!("Going to remove {}", names.join(", "));
    } else if !confirm(&names) {
        return Ok(());
    }
    let (sr, pr, v) = (&s, &p, args.volumes);
    each(&batches(&s, &stopped, true)?, |c| Box::pin(ops::remove(sr, pr, &c.id, name_of(c), v))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_defaults_to_sigkill() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            a: KillArgs,
        }
        let t = T::try_parse_from(["kill", "web"]).unwrap();
        assert_eq!((t.a.signal.as_str(), t.a.services.as_slice()), ("SIGKILL", &["web".to_string()][..]));
    }
}
