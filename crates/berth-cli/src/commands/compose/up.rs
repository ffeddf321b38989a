//! `berth compose up`: converge the project (networks, volumes, images,
//! containers in dependency order — see [`super::converge`]), then either
//! return (`-d`), wait for health (`--wait`), or stay attached to the
//! containers' output until they exit or Ctrl-C stops them
//! ([`super::attach`]).
//!
//! Also the entry points `run` uses to bring up a service's dependencies.

use super::attach::{self, AttachOptions};
use super::converge::{self, Options, Recreate};
use super::depends;
use super::parallel::{join_all, Task};
use super::progress::{self, Progress};
use super::provision::BuildPolicy;
use super::resources;
use super::ops;
use super::session::{name_of, OneOff, Session};
use super::Global;
use crate::exit::StatusError;
use berth_client::Client;
use berth_compose::plan::{self, Scale};
use std::time::Duration;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Detached mode: Run containers in the background
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
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
    /// Recreate dependent containers. Incompatible with --no-recreate.
    #[arg(long = "always-recreate-deps")]
    pub always_recreate_deps: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.
    #[arg(long = "scale", value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Wait for services to be running|healthy. Implies detached mode.
    #[arg(long = "wait")]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long = "wait-timeout")]
    pub wait_timeout: Option<u64>,
    /// Stops all containers if any container was stopped. Incompatible with -d
    #[arg(long = "abort-on-container-exit")]
    pub abort_on_container_exit: bool,
    /// Return the exit code of the selected service container. Implies --abort-on-container-exit
    #[arg(long = "exit-code-from")]
    pub exit_code_from: Option<String>,
    /// Don't start linked services
    #[arg(long = "no-deps")]
    pub no_deps: bool,
    /// Don't start the services after creating them
    #[arg(long = "no-start")]
    pub no_start: bool,
    /// Use this timeout in seconds for container shutdown when attached or when containers are already running
    #[arg(short = 't', long = "timeout", allow_negative_numbers = true)]
    pub timeout: Option<i64>,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long = "pull", value_parser = ["always", "missing", "never", "build"])]
    pub pull: Option<String>,
    /// Pull without printing progress information
    #[arg(long = "quiet-pull")]
    pub quiet_pull: bool,
    /// Recreate anonymous volumes instead of retrieving data from the previous containers
    #[arg(short = 'V', long = "renew-anon-volumes")]
    pub renew_anon_volumes: bool,
    /// Restrict attaching to the specified services
    #[arg(long = "attach")]
    pub attach: Vec<String>,
    /// Do not attach (stream logs) to the specified services
    #[arg(long = "no-attach")]
    pub no_attach: Vec<String>,
    /// Automatically attach to log output of dependent services
    #[arg(long = "attach-dependencies")]
    pub attach_dependencies: bool,
    /// Produce monochrome output
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long = "no-log-prefix")]
    pub no_log_prefix: bool,
    /// Show timestamps
    #[arg(long = "timestamps")]
    pub timestamps: bool,
    pub services: Vec<String>,
}

/// `--scale SERVICE=NUM`, as Compose parses it.
pub fn parse_scale(args: &[String]) -> anyhow::Result<Scale> {
    let mut scale = Scale::default();
    for a in args {
        let parsed = a.split_once('=').and_then(|(s, n)| Some((s, n.trim().parse::<u64>().ok()?)));
        match parsed {
            Some((s, n)) if !s.is_empty() => {
                scale.0.insert(s.to_string(), n);
            }
            _ => anyhow::bail!("invalid --scale option {a:?}. Should be SERVICE=NUM"),
        }
    }
    Ok(scale)
}

/// Compose's checks of flags that do not go together.
fn check_flags(a: &Args) -> anyhow::Result<()> {
    if a.build && a.no_build {
        anyhow::bail!("--build and --no-build are incompatible");
    }
    if a.force_recreate && a.no_recreate {
        anyhow::bail!("--force-recreate and --no-recreate are incompatible");
    }
    if a.always_recreate_deps && a.no_recreate {
        anyhow::bail!("--always-recreate-deps and --no-recreate are incompatible");
    }
    let cascade = a.abort_on_container_exit || a.exit_code_from.is_some();
    if a.detach && (cascade || a.attach_dependencies || !a.attach.is_empty()) {
        anyhow::bail!("--detach cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies");
    }
    if a.wait && cascade {
        anyhow::bail!("--wait cannot be combined with --abort-on-container-exit");
    }
    if a.no_start && (a.wait || cascade) {
        anyhow::bail!("--no-start cannot be combined with --wait or --abort-on-container-exit");
    }
    Ok(())
}

pub fn options(a: &Args) -> anyhow::Result<Options> {
    let recreate = match (a.force_recreate, a.no_recreate) {
        (true, _) => Recreate::Force,
        (_, true) => Recreate::Never,
        _ => Recreate::Diverged,
    };
    let recreate_deps = match (a.always_recreate_deps, a.no_recreate) {
        (true, _) => Recreate::Force,
        (_, true) => Recreate::Never,
        _ => Recreate::Diverged,
    };
    Ok(Options {
        services: a.services.clone(),
        no_deps: a.no_deps,
        scale: parse_scale(&a.scale)?,
        recreate,
        recreate_deps,
        remove_orphans: a.remove_orphans || env_flag("COMPOSE_REMOVE_ORPHANS"),
        build: match (a.build, a.no_build) {
            (true, _) => BuildPolicy::Always,
            (_, true) => BuildPolicy::Never,
            _ => BuildPolicy::Missing,
        },
        pull: a.pull.clone(),
        timeout: a.timeout,
        start: !a.no_start,
        renew_anon_volumes: a.renew_anon_volumes,
    })
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "TRUE" | "True"))
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    check_flags(&args)?;
    let s = Session::load(client, global, &args.services)?;
    if let Some(svc) = &args.exit_code_from {
        s.check_services(std::slice::from_ref(svc))?;
    }
    s.check_services(&args.attach)?;
    let opts = options(&args)?;
    let p = Progress::new(global, "Running");
    let since = std::time::SystemTime::now();
    let converged = tokio::select! {
        r = converge::converge(&s, &p, &opts) => Some(r?),
        _ = tokio::signal::ctrl_c() => None,
    };
    let Some(outcome) = converged else {
        // Ctrl-C before the project was up (waiting for a dependency to
        // turn healthy, say): attached, what runs is stopped as after the
        // session's Ctrl-C; detached, it is left as it is.
        if !args.detach && !args.wait && !args.no_start {
            p.note("Gracefully stopping... (press Ctrl+C again to force)");
            stop_running(&s, &p, args.timeout).await?;
        }
        return Err(StatusError::code(130).into());
    };
    if args.no_start {
        return Ok(());
    }
    if args.wait {
        return wait(&s, &p, &opts.services, &outcome, args.wait_timeout).await;
    }
    if args.detach {
        return Ok(());
    }
    let attach_to: Vec<String> = outcome
        .order
        .iter()
        .filter(|svc| {
            if !args.attach.is_empty() {
                return args.attach.contains(svc);
            }
            let asked = args.services.is_empty() || args.services.contains(svc) || args.attach_dependencies;
            asked && !args.no_attach.contains(svc)
        })
        .cloned()
        .collect();
    let a = AttachOptions {
        services: attach_to,
        cascade: args.abort_on_container_exit || args.exit_code_from.is_some(),
        exit_code_from: args.exit_code_from.clone(),
        timeout: args.timeout,
        color: !args.no_color && (global.ansi == "always" || (global.ansi != "never" && crate::terminal::stdout_is_terminal())),
        prefix: !args.no_log_prefix,
        timestamps: args.timestamps,
        since: Some(since),
    };
    let code = attach::attached(&s, global, &outcome, &a).await?;
    if code != 0 {
        return Err(StatusError::code(code).into());
    }
    Ok(())
}

/// Stops the project's running service containers (a second Ctrl-C
/// kills them instead).
async fn stop_running(s: &Session<'_>, p: &Progress, timeout: Option<i64>) -> anyhow::Result<()> {
    let running: Vec<(String, String)> =
        s.containers(false, OneOff::Exclude, &[]).await?.iter().map(|c| (c.id.clone(), name_of(c).to_string())).collect();
    tokio::select! {
        r = ops::stop_or_kill(s, p, &running, timeout, false) => r,
        _ = tokio::signal::ctrl_c() => ops::stop_or_kill(s, p, &running, timeout, true).await,
    }
}

/// `--wait`: every container of the services asked for running, and
/// healthy where it has a healthcheck.
async fn wait(s: &Session<'_>, p: &Progress, services: &[String], outcome: &converge::Outcome, timeout: Option<u64>) -> anyhow::Result<()> {
    let mut tasks: Vec<Task<'_, anyhow::Result<()>>> = Vec::new();
    for svc in &outcome.order {
        if !services.is_empty() && !services.contains(svc) {
            continue;
        }
        for (cid, name) in outcome.running.get(svc).into_iter().flatten() {
            tasks.push(Box::pin(depends::healthy(s, p, cid, name, true)));
        }
    }
    let all = async {
        for r in join_all(tasks).await {
            r?;
        }
        Ok::<(), anyhow::Error>(())
    };
    match timeout {
        Some(t) => match tokio::time::timeout(Duration::from_secs(t), all).await {
            Ok(r) => r,
            Err(_) => anyhow::bail!("application not healthy after {t}s"),
        },
        None => all.await,
    }
}

/// For `run`: creates the project's networks and volumes.
pub async fn ensure_networks_and_volumes(s: &Session<'_>) -> anyhow::Result<()> {
    let p = Progress::with_mode(progress::auto_mode(), "Running");
    let (n, v) = tokio::join!(resources::ensure_networks(s, &p), resources::ensure_volumes(s, &p));
    n?;
    v
}

/// For `run`: brings up what `services` depend on (networks, volumes, the
/// dependency services converged and started) and waits for their
/// `depends_on` conditions; the services themselves are not touched.
pub async fn ensure_dependencies(s: &Session<'_>, services: &[String]) -> anyhow::Result<()> {
    s.check_services(services)?;
    let all = plan::with_dependencies(&s.project, services, false)?;
    let deps: Vec<String> = all.into_iter().filter(|x| !services.contains(x)).collect();
    if deps.is_empty() {
        return ensure_networks_and_volumes(s).await;
    }
    let p = Progress::with_mode(progress::auto_mode(), "Running");
    let opts = Options { services: deps, start: true, ..Default::default() };
    let outcome = converge::converge(s, &p, &opts).await?;
    for svc in services {
        depends::wait_dependencies(s, &p, svc, &outcome.running).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_options_parse_as_compose_parses_them() {
        let s = parse_scale(&["web=3".into(), "db=0".into()]).unwrap();
        assert_eq!(s.0.get("web"), Some(&3));
        assert_eq!(s.0.get("db"), Some(&0));
        for bad in ["web", "web=x", "=2", "web=-1"] {
            let e = parse_scale(&[bad.into()]).unwrap_err();
            assert_eq!(e.to_string(), format!("invalid --scale option {bad:?}. Should be SERVICE=NUM"));
        }
    }

    #[test]
    fn incompatible_flags_are_refused() {
        let a = Args { build: true, no_build: true, ..Default::default() };
        assert_eq!(check_flags(&a).unwrap_err().to_string(), "--build and --no-build are incompatible");
        let a = Args { detach: true, abort_on_container_exit: true, ..Default::default() };
        assert!(check_flags(&a).is_err());
        let a = Args { detach: true, exit_code_from: Some("web".into()), ..Default::default() };
        assert!(check_flags(&a).is_err());
        let a = Args { force_recreate: true, no_recreate: true, ..Default::default() };
        assert!(check_flags(&a).is_err());
        let a = Args { force_recreate: true, ..Default::default() };
        let o = options(&a).unwrap();
        assert_eq!((o.recreate, o.recreate_deps), (Recreate::Force, Recreate::Diverged));
        assert!(o.start);
    }
}
